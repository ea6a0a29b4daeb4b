package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestMain(m *testing.M) { framework.Main(m) }

// buildBench builds ./cmd/cairn-bench (this package) into a directory
// removed at the test's cleanup.
func buildBench(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building cairn-bench needs the go tool: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "cairn-bench")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// benchCmd runs the built binary against endpoint and returns its stdout;
// it fails the test unless the binary exits 0.
func benchCmd(t *testing.T, bin, endpoint string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "--endpoints", endpoint)
	cmd := exec.CommandContext(ctx, bin, args...) // killed if it outlives the test's patience
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cairn-bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		// Not a terminal, so no progress bar: stderr must stay empty.
		t.Errorf("cairn-bench %s wrote to stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String()
}

// benchJSON runs the binary with --json and decodes its report.
func benchJSON(t *testing.T, bin, endpoint string, args ...string) reportJSON {
	t.Helper()
	out := benchCmd(t, bin, endpoint, append(args, "--json")...)
	var r reportJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("output is not one report: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value:\n%s", out)
	}
	return r
}

// checkClean asserts that s counts want requests, all of them ok.
func checkClean(t *testing.T, name string, s summaryJSON, want int) {
	t.Helper()
	if s.Requests != want || s.OK != want || s.Errors != 0 || len(s.ErrorSamples) != 0 {
		t.Errorf("%s: requests %d ok %d errors %d %v, want %d ok and no error", name, s.Requests, s.OK, s.Errors, s.ErrorSamples, want)
	}
	if want > 0 && (len(s.Percentiles) != 8 || len(s.Histogram) == 0) {
		t.Errorf("%s: percentiles %v histogram %v", name, s.Percentiles, s.Histogram)
	}
	n := 0
	for _, b := range s.Histogram {
		n += b.Count
	}
	if n != s.OK {
		t.Errorf("%s: histogram holds %d requests, want %d", name, n, s.OK)
	}
}

// TestSubcommandsAgainstOneMember runs every subcommand against one cairn
// member and checks the counts it reports against what the member holds.
// Each run writes keys of its own width (--key-size), so the runs do not
// see one another's keys.
func TestSubcommandsAgainstOneMember(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a cairn member")
	}
	bin := buildBench(t)
	m := framework.StartMember(t, framework.MemberConfig{})
	ep := m.Endpoint()
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	revision := func(t *testing.T) int64 {
		t.Helper()
		resp, err := cli.Get(ctx, "cairn-bench-test-revision-probe")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	// keys returns the keys of width size numbered below space, as
	// cairn-bench names them.
	keys := func(t *testing.T, size, space int) []*clientv3.GetResponse {
		t.Helper()
		ks, err := newKeyspace(size, space, true)
		if err != nil {
			t.Fatal(err)
		}
		var out []*clientv3.GetResponse
		for n := range space {
			r, err := cli.Get(ctx, ks.key(n))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}

	t.Run("put", func(t *testing.T) {
		before := revision(t)
		r := benchJSON(t, bin, ep, "put", "--total", "200", "--clients", "4", "--conns", "2",
			"--sequential-keys", "--key-space-size", "200", "--val-size", "16")
		if r.Benchmark != "put" || r.What != "put" || r.Clients != 4 || r.Conns != 2 || r.Interrupted {
			t.Errorf("header %+v", r)
		}
		checkClean(t, "put", r.summaryJSON, 200)
		if got := revision(t) - before; got != 200 {
			t.Errorf("revision advanced by %d, want 200", got)
		}
		for n, resp := range keys(t, 8, 200) {
			if len(resp.Kvs) != 1 || len(resp.Kvs[0].Value) != 16 {
				t.Fatalf("key %d: %v, want one key with a 16-byte value", n, resp.Kvs)
			}
		}
	})

	t.Run("range", func(t *testing.T) {
		for _, c := range []string{"l", "s"} {
			r := benchJSON(t, bin, ep, "range", "00000000", "00000200", "--total", "200", "--clients", "4",
				"--consistency", c, "--rate", "5000")
			if r.Benchmark != "range" {
				t.Errorf("benchmark %q", r.Benchmark)
			}
			checkClean(t, "range --consistency "+c, r.summaryJSON, 200)
		}
		r := benchJSON(t, bin, ep, "range", "0000000", "--prefix", "--limit", "10", "--total", "50")
		checkClean(t, "range --prefix", r.summaryJSON, 50)
	})

	t.Run("txn-put", func(t *testing.T) {
		before := revision(t)
		r := benchJSON(t, bin, ep, "txn-put", "--total", "200", "--clients", "4",
			"--sequential-keys", "--key-space-size", "200", "--key-size", "10", "--target-leader")
		checkClean(t, "txn-put", r.summaryJSON, 200)
		if len(r.Endpoints) != 1 || r.Endpoints[0] != ep {
			t.Errorf("--target-leader chose %v, want [%s]", r.Endpoints, ep)
		}
		if got := revision(t) - before; got != 200 {
			t.Errorf("revision advanced by %d, want 200", got)
		}
		for n, resp := range keys(t, 10, 200) {
			if len(resp.Kvs) != 1 || len(resp.Kvs[0].Value) != 8 {
				t.Fatalf("key %d: %v, want one key with an 8-byte value", n, resp.Kvs)
			}
		}
	})

	t.Run("txn-mixed", func(t *testing.T) {
		before := revision(t)
		r := benchJSON(t, bin, ep, "txn-mixed", "--total", "200", "--clients", "4",
			"--key-space-size", "50", "--key-size", "12", "--rw-ratio", "1", "--consistency", "s")
		checkClean(t, "txn-mixed", r.summaryJSON, 200)
		reads, writes := r.Parts["read"], r.Parts["write"]
		checkClean(t, "txn-mixed reads", reads, reads.Requests)
		checkClean(t, "txn-mixed writes", writes, writes.Requests)
		if reads.Requests+writes.Requests != 200 {
			t.Errorf("%d reads + %d writes, want 200", reads.Requests, writes.Requests)
		}
		if got := revision(t) - before; got != int64(writes.OK) {
			t.Errorf("revision advanced by %d, want one per write, %d", got, writes.OK)
		}
		found := 0
		for _, resp := range keys(t, 12, 50) {
			found += len(resp.Kvs)
		}
		if writes.OK > 0 && (found == 0 || found > writes.OK) {
			t.Errorf("%d keys written by %d writes", found, writes.OK)
		}
	})

	t.Run("watch", func(t *testing.T) {
		r := benchJSON(t, bin, ep, "watch", "--put-total", "200", "--watchers", "20", "--streams", "4",
			"--clients", "4", "--conns", "2", "--key-size", "14")
		checkClean(t, "watch puts", r.summaryJSON, 200)
		checkClean(t, "watch create", r.Parts["watch create"], 20)
		e := r.Events
		if e == nil || e.Watchers != 20 || e.Streams != 4 || e.Expected != 4000 || e.Received != 4000 ||
			e.Missing != 0 || e.Errors != 0 {
			t.Errorf("events %+v, want 200 puts × 20 watchers = 4000 delivered, none missing", e)
		}
		if resp := keys(t, 14, 1)[0]; len(resp.Kvs) != 1 || resp.Kvs[0].Version != 200 {
			t.Errorf("watched key %v, want version 200", resp.Kvs)
		}
	})

	t.Run("watch-latency", func(t *testing.T) {
		r := benchJSON(t, bin, ep, "watch-latency", "--put-total", "200", "--watchers", "4", "--streams", "2",
			"--key-size", "16", "--key-space-size", "2")
		// Two keys, two watchers each: every put reaches two watchers.
		checkClean(t, "event delivery", r.summaryJSON, 400)
		checkClean(t, "watch-latency puts", r.Parts["put"], 200)
		checkClean(t, "watch-latency create", r.Parts["watch create"], 4)
		if e := r.Events; e == nil || e.Expected != 400 || e.Received != 400 || e.Missing != 0 {
			t.Errorf("events %+v", e)
		}
	})

	t.Run("lease-keepalive", func(t *testing.T) {
		r := benchJSON(t, bin, ep, "lease-keepalive", "--total", "200", "--leases", "10", "--clients", "4", "--conns", "2")
		checkClean(t, "keepalive", r.summaryJSON, 200)
		checkClean(t, "grant", r.Parts["grant"], 10)
		checkClean(t, "revoke", r.Parts["revoke"], 10)
		leases, err := cli.Leases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(leases.Leases) != 0 {
			t.Errorf("%d leases left after the run, want every one revoked", len(leases.Leases))
		}
	})

	t.Run("text", func(t *testing.T) {
		out := benchCmd(t, bin, ep, "put", "--total", "20", "--key-size", "18")
		for _, want := range []string{"put against " + ep, "Summary (put):", "Total:", "Slowest:", "Fastest:",
			"Average:", "Stddev:", "Requests/sec:", "Requests:             20 (20 ok, 0 errors)",
			"Latency histogram", "p10:", "p99.9:"} {
			if !strings.Contains(out, want) {
				t.Errorf("text output lacks %q:\n%s", want, out)
			}
		}
	})
}
