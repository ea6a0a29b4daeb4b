package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cairn-db/cairn/tests/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

// TestCompareRuns runs the whole matrix at a tiny scale with Cairn as both
// A and B: every workload must give a number on both sides, and every
// member a peak RSS. It checks that the harness works, not how fast
// anything is.
func TestCompareRuns(t *testing.T) {
	bin := framework.Binary(t)
	bench := filepath.Join(t.TempDir(), "cairn-bench")
	if out, err := exec.Command("go", "build", "-o", bench, "github.com/cairn-db/cairn/cmd/cairn-bench").CombinedOutput(); err != nil {
		t.Fatalf("go build cairn-bench: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-a", bin, "-b", bin, "-bench", bench, "-dir", t.TempDir(), "-scale", "0.004", "-json"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("compare %v: %v\n%s", args, err, stderr.String())
	}
	var out struct {
		Rows []struct {
			Workload   string    `json:"workload"`
			A          []float64 `json:"a"`
			B          []float64 `json:"b"`
			ServerCPUA float64   `json:"server_cpu_us_per_op_a"`
			ClientCPUA float64   `json:"client_cpu_us_per_op_a"`
			ClientCPUB float64   `json:"client_cpu_us_per_op_b"`
		} `json:"rows"`
		PeakRSSA []int64 `json:"peak_rss_a"`
		PeakRSSB []int64 `json:"peak_rss_b"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("reading compare's JSON: %v\n%s", err, stdout.String())
	}
	if len(out.Rows) != len(matrix(1)) {
		t.Errorf("%d rows, want one per workload (%d)", len(out.Rows), len(matrix(1)))
	}
	for _, r := range out.Rows {
		if len(r.A) != 1 || len(r.B) != 1 || r.A[0] <= 0 || r.B[0] <= 0 {
			t.Errorf("%s: A %v, B %v; want one positive number each", r.Workload, r.A, r.B)
		}
		// The client's CPU comes from rusage and is never zero; the
		// members' is counted in 10 ms ticks, so a tiny run may show none.
		if r.ClientCPUA <= 0 || r.ClientCPUB <= 0 || r.ServerCPUA < 0 {
			t.Errorf("%s: CPU per op: client A %v, client B %v, server A %v", r.Workload, r.ClientCPUA, r.ClientCPUB, r.ServerCPUA)
		}
	}
	if len(out.PeakRSSA) != 3 || len(out.PeakRSSB) != 3 {
		t.Errorf("peak RSS of %d and %d members, want 3 each", len(out.PeakRSSA), len(out.PeakRSSB))
	}
	for _, rss := range append(out.PeakRSSA, out.PeakRSSB...) {
		if rss <= 0 {
			t.Errorf("a member's peak RSS is %d", rss)
		}
	}
	var table bytes.Buffer
	r := newResults("a", "b")
	if err := r.writeTable(&table, matrix(1)); err != nil || !bytes.Contains(table.Bytes(), []byte("put 1/1 leader")) ||
		!bytes.Contains(table.Bytes(), []byte("CPU µs per operation")) {
		t.Errorf("table: %v\n%s", err, table.String())
	}
}
