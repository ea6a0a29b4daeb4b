package e2e

import (
	"flag"
	"os"
	"testing"

	"github.com/cairn-db/cairn/tests/framework"
)

var (
	longFlag    = flag.Bool("cairn.long", os.Getenv("CAIRN_LONG") != "", "run the randomised tests for more iterations (env CAIRN_LONG)")
	diffDirFlag = flag.String("cairn.diffdir", os.Getenv("CAIRN_DIFF_DIR"), "write the differential transcripts to this directory (env CAIRN_DIFF_DIR)")
)

func TestMain(m *testing.M) { framework.Main(m) }
