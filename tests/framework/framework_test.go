package framework

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestFreePortsAreDistinctAndBindable(t *testing.T) {
	seen := make(map[int]bool)
	for range 50 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if p < portMin || p > portMax {
			t.Fatalf("port %d outside [%d, %d]", p, portMin, portMax)
		}
	}
}

func TestBuildFailureIsExplained(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/empty\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := buildCairn(root, t.TempDir())
	if err == nil {
		t.Fatal("building a module without ./cmd/cairn succeeded")
	}
	for _, want := range []string{"cannot build the cairn binary", "./cmd/cairn", EnvBin} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestMemberLifecycle(t *testing.T) {
	m := StartMember(t, MemberConfig{})
	for _, flag := range []string{"--name", "--data-dir", "--listen-client-urls", "--initial-cluster-token"} {
		if !slices.Contains(m.Args(), flag) {
			t.Errorf("Args() = %v lacks %s", m.Args(), flag)
		}
	}
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	mustPut := func(k, v string) {
		t.Helper()
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	mustHave := func(k, v string) {
		t.Helper()
		resp, err := cli.Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != v {
			t.Fatalf("get %s = %v, want %q", k, resp.Kvs, v)
		}
	}

	mustPut("a", "1")
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if m.Running() {
		t.Fatal("running after Stop")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	mustHave("a", "1")
	mustPut("b", "2")

	pid := m.Pid()
	if err := m.Kill9(); err != nil {
		t.Fatal(err)
	}
	if m.Running() {
		t.Fatal("running after Kill9")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if m.Pid() == pid {
		t.Fatal("Restart kept the old pid")
	}
	mustHave("b", "2")
	if n := strings.Count(m.Log(), "=== framework: start #"); n != 3 {
		t.Errorf("log records %d starts, want 3", n)
	}
}

func TestMemberThatExitsIsReportedAtOnce(t *testing.T) {
	m := NewMember(t, MemberConfig{Args: []string{"--no-such-flag-for-cairn-tests"}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := m.WaitReadyTimeout(time.Minute)
	if err == nil {
		t.Fatal("a member with an unknown flag became ready")
	}
	if !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "no-such-flag-for-cairn-tests") {
		t.Errorf("error does not say the process exited and show its log:\n%v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("noticing the exit took %v", d)
	}
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3, MemberConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ml, err := c.Client(t).MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Members) != 3 {
		t.Fatalf("member list has %d members, want 3", len(ml.Members))
	}
	if _, err := c.Members[0].Client(t).Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Members[2].Client(t).Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get from another member = %v, %v", resp, err)
	}
}
