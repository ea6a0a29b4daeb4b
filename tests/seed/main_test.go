package seed

import (
	"testing"

	"github.com/cairn-db/cairn/tests/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
