package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ctlTimeout bounds one etcdctl run.
const ctlTimeout = 60 * time.Second

// etcdctl runs Debian's etcdctl (API v3) against one endpoint.
type etcdctl struct {
	t        *testing.T
	bin      string
	endpoint string
}

func (c etcdctl) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--endpoints=" + c.endpoint, "--dial-timeout=5s", "--command-timeout=15s"}, args...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCDCTL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ETCDCTL_API=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run runs etcdctl with stdin and returns its stdout, stderr and exit error.
func (c etcdctl) run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), ctlTimeout)
	defer cancel()
	cmd := c.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ok runs etcdctl, fails the test unless it exits 0, and returns stdout.
func (c etcdctl) ok(args ...string) string {
	c.t.Helper()
	return c.okIn("", args...)
}

// okIn is ok with stdin.
func (c etcdctl) okIn(stdin string, args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("etcdctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// fails runs etcdctl, fails the test if it exits 0, and returns stderr.
func (c etcdctl) fails(args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.run("", args...)
	if err == nil {
		c.t.Fatalf("etcdctl %s succeeded, want failure\nstdout:\n%s", strings.Join(args, " "), stdout)
	}
	return stderr
}

// okJSON runs etcdctl with -w json and decodes its stdout into v.
func (c etcdctl) okJSON(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-w", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("etcdctl %s -w json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ctlStream is a long-running etcdctl (watch), its stdout read line by line.
type ctlStream struct {
	lines  chan string // closed at EOF
	stderr *bytes.Buffer
}

// start starts a long-running etcdctl, killed at the test's cleanup.
func (c etcdctl) start(args ...string) *ctlStream {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := c.command(ctx, args...)
	s := &ctlStream{lines: make(chan string, 1024), stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("etcdctl %s: %v", strings.Join(args, " "), err)
	}
	done := make(chan struct{})
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(done) }()
	c.t.Cleanup(func() {
		cancel()
		<-done
	})
	return s
}

// expect reads lines until it has seen want in order (other lines before
// each are an error), or fails after timeout.
func (s *ctlStream) expect(t *testing.T, timeout time.Duration, want ...string) {
	t.Helper()
	deadline := time.After(timeout)
	var got []string
	for len(got) < len(want) {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("etcdctl exited; got %q, want %q\nstderr:\n%s", got, want, s.stderr)
			}
			got = append(got, l)
		case <-deadline:
			t.Fatalf("after %v got %q, want %q\nstderr:\n%s", timeout, got, want, s.stderr)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("etcdctl printed %q, want %q", got, want)
	}
}
