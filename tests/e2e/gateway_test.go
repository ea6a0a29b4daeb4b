package e2e

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
)

// syncBuffer is a strings.Builder safe to write from the process's
// output copier while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startGateway runs `cairn gateway start` in front of endpoints until the
// test ends and returns its listen address once it accepts connections.
func startGateway(t *testing.T, endpoints []string, extra ...string) (string, *syncBuffer) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	args := append([]string{"gateway", "start", "--endpoints", strings.Join(endpoints, ","), "--listen-addr", addr}, extra...)
	cmd := exec.Command(framework.Binary(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway exit after SIGTERM: %v\n%s", err, out.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("gateway still running 10s after SIGTERM\n%s", out.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, out
		}
		select {
		case err := <-done:
			t.Fatalf("gateway exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not accepting on %s: %v\n%s", addr, err, out.String())
		}
	}
}

// hasLine reports whether a line of log holds all of words.
func hasLine(log string, words ...string) bool {
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			return true
		}
	}
	return false
}

// TestGatewayProxiesAndSurvivesKill: etcdctl through the gateway reads and
// writes a 3-member cluster; with any one member killed -9, the gateway
// skips it (logging it once) and keeps serving; once the member is back
// and the retry delay has passed, the gateway uses it again.
func TestGatewayProxiesAndSurvivesKill(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	const retry = 2 * time.Second
	gw, out := startGateway(t, c.Endpoints(), "--retry-delay", retry.String())
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: gw}

	ctl.ok("put", "gw-key", "through the gateway")
	if got := ctl.ok("get", "gw-key", "--print-value-only"); strings.TrimSpace(got) != "through the gateway" {
		t.Fatalf("get through the gateway: %q", got)
	}

	for i, m := range c.Members {
		if err := m.Kill9(); err != nil {
			t.Fatal(err)
		}
		// Killing the leader costs an election, which etcdctl reports
		// rather than retries; wait for it to end.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			_, stderr, err := ctl.run("", "put", "gw-key", "after-kill")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("with %s down, no put through the gateway succeeds: %v\n%s", m.Name(), err, stderr)
			}
		}
		// Round robin sends the connections to every member in turn, so
		// some of these go to the dead one and are moved to a live one.
		for j := range 4 {
			v := "v" + strconv.Itoa(i) + strconv.Itoa(j)
			ctl.ok("put", "gw-key", v)
			if got := ctl.ok("get", "gw-key", "--print-value-only"); strings.TrimSpace(got) != v {
				t.Fatalf("with %s down, get through the gateway: %q, want %q", m.Name(), got, v)
			}
		}
		if !hasLine(out.String(), "deactivated endpoint", `"`+m.Endpoint()+`"`) {
			t.Errorf("with %s down, the gateway did not log its endpoint %s as failed:\n%s", m.Name(), m.Endpoint(), out.String())
		}
		if err := m.Restart(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(retry) // the restarted member may be used again
	}
	before := strings.Count(out.String(), "deactivated endpoint")
	for range 6 {
		ctl.ok("get", "gw-key")
	}
	if after := strings.Count(out.String(), "deactivated endpoint"); after != before {
		t.Errorf("with every member back, %d more endpoints failed:\n%s", after-before, out.String())
	}
}

// TestGatewayStartErrors: the gateway's start-up refusals are one line and
// a status, like the member's.
func TestGatewayStartErrors(t *testing.T) {
	port := strconv.Itoa(framework.FreePort(t))
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--listen-addr", "127.0.0.1:" + port, "--endpoints", "http://localhost:" + port}, 1, "should not resolve to the gateway listen addr"},
		{[]string{"--endpoints", "127.0.0.1"}, 1, "missing port"},
		{[]string{"--retry-delay", "soon"}, 1, "--retry-delay"},
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		cmd := exec.CommandContext(ctx, framework.Binary(t), append([]string{"gateway", "start"}, tc.args...)...)
		b, err := cmd.CombinedOutput()
		cancel()
		msg := strings.TrimSpace(string(b))
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
			t.Errorf("gateway start %v: %v, want exit %d\n%s", tc.args, err, tc.code, msg)
			continue
		}
		if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "cairn: ") || !strings.Contains(msg, tc.contains) {
			t.Errorf("gateway start %v: message %q, want one cairn: line with %q", tc.args, msg, tc.contains)
		}
	}
	b, err := exec.Command(framework.Binary(t), "gateway", "start", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "--listen-addr") {
		t.Errorf("gateway start --help: %v\n%s", err, b)
	}
}
