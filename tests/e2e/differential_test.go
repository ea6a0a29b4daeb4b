package e2e

import (
	"os"
	"testing"

	"github.com/cairn-db/cairn/tests/framework"
)

// TestDifferential runs one script against Debian's etcd 3.4 and then
// against the binary under test, one after the other, with the same ports,
// names, data-dir path and flags, so that member and cluster IDs must agree
// too, and compares the normalised transcripts.
func TestDifferential(t *testing.T) {
	ref := framework.ReferenceEtcd(t)
	bin := framework.Binary(t)
	cfg := framework.MemberConfig{
		Name:       "diff0",
		Dir:        t.TempDir(),
		ClientPort: framework.FreePort(t),
		PeerPort:   framework.FreePort(t),
		Token:      "cairn-differential",
	}
	backends := []struct{ name, bin string }{
		{"etcd-3.4", ref},
		{"cairn", bin},
	}
	if framework.IsReferenceEtcd(bin) {
		backends[1].name = "etcd-3.4-again"
	}
	var trs []*transcript
	for _, b := range backends {
		tr := &transcript{backend: b.name}
		ok := t.Run(b.name, func(t *testing.T) {
			c := cfg
			c.Bin = b.bin
			runDifferentialScript(t, c, tr)
		})
		if !ok {
			t.Fatalf("the script could not run against %s", b.name)
		}
		trs = append(trs, tr)
	}
	want, got := trs[0], trs[1]
	if *diffDirFlag != "" {
		if err := writeTranscripts(*diffDirFlag, want, got); err != nil {
			t.Errorf("writing transcripts: %v", err)
		}
	}
	for i, s := range want.steps {
		if len(s.info) > 0 && i < len(got.steps) {
			t.Logf("informational, %s: %s: %v; %s: %v", s.name, want.backend, s.info, got.backend, got.steps[i].info)
		}
	}
	if d := diffTranscripts(want, got, 30); d != "" {
		t.Errorf("%s answers differently from %s (set -cairn.diffdir or CAIRN_DIFF_DIR to keep both transcripts)\n%s",
			got.backend, want.backend, d)
	}
}

// runDifferentialScript starts a member from cfg on an empty data dir, runs
// the whole script against it into tr, and stops it.
func runDifferentialScript(t *testing.T, cfg framework.MemberConfig, tr *transcript) {
	m := framework.NewMember(t, cfg)
	if err := os.RemoveAll(m.DataDir()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReadyTimeout(m.Config().ReadyTimeout); err != nil {
		t.Fatal(err)
	}
	cli := m.Client(t)
	s := newSession(t, tr, cli, m.Endpoint())

	scriptCluster(s, "at start")
	scriptPut(s)
	scriptRange(s)
	scriptDelete(s)
	scriptTxn(s)
	scriptLease(s)
	from := scriptWatch(s)
	scriptCompact(s, from)
	scriptLimits(s)
	scriptCluster(s, "at the end")

	cli.Close()
	if err := m.Stop(); err != nil {
		t.Error(err)
	}
}
