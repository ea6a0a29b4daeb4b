package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// stopGrace is how long a member has to exit after SIGTERM.
	stopGrace = 10 * time.Second
	// exitBound bounds a run that must end by itself: an error case.
	exitBound = 30 * time.Second
	// ctlTimeout bounds one etcdctl run.
	ctlTimeout = 20 * time.Second
	// logTail is how many log lines a failed test prints per member.
	logTail = 40
)

// cleanEnv is the test's environment without ETCD_* and ETCDCTL_*, so that
// nothing but the guide's flags configures a member.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// nsCommand returns `ip netns exec ns argv...` running in dir. ip(8) execs
// argv in place, so the process is the member itself; it gets its own
// process group and is killed if the test binary dies.
func nsCommand(ns, dir string, argv []string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// member is a long-running process started in a namespace.
type member struct {
	name    string
	ns      string
	argv    []string
	dir     string // working directory: the data dir is <dir>/<name>.etcd
	logPath string // stdout and stderr
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process is reaped
	err     error         // cmd.Wait's result; read after done is closed
}

// startMember starts argv in namespace ns in a fresh working directory. The
// process is stopped at cleanup, and its log tail printed if the test
// failed.
func startMember(t *testing.T, name, ns string, argv []string) *member {
	t.Helper()
	return startMemberIn(t, name, ns, t.TempDir(), argv)
}

// startMemberIn is startMember in working directory dir, which the caller
// has prepared (with the files a command names by relative path).
func startMemberIn(t *testing.T, name, ns, dir string, argv []string) *member {
	t.Helper()
	return startMemberEnv(t, name, ns, dir, nil, argv)
}

// startMemberEnv is startMemberIn with env (KEY=value) added to the
// process's environment.
func startMemberEnv(t *testing.T, name, ns, dir string, env, argv []string) *member {
	t.Helper()
	m := &member{
		name: name, ns: ns, argv: argv,
		dir:     dir,
		logPath: filepath.Join(t.TempDir(), name+".log"),
		done:    make(chan struct{}),
	}
	log, err := os.Create(m.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close() // the child has its own descriptor
	fmt.Fprintf(log, "# in %s, cwd %s: %s\n", ns, m.dir, strings.Join(argv, " "))
	m.cmd = nsCommand(ns, m.dir, argv)
	m.cmd.Env = append(m.cmd.Env, env...)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		m.err = m.cmd.Wait()
		close(m.done)
	}()
	t.Cleanup(func() {
		if err := m.stop(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if t.Failed() {
			t.Logf("log of %s (%s), last %d lines:\n%s", name, m.logPath, logTail, m.tail(logTail))
		}
	})
	return m
}

func (m *member) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the member's process group and waits; after
// stopGrace it sends SIGKILL and reports that.
func (m *member) stop() error {
	if m.exited() {
		return nil
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.done
	return fmt.Errorf("%s did not exit within %v of SIGTERM and was killed", m.name, stopGrace)
}

// log returns everything the member wrote.
func (m *member) log() string {
	b, _ := os.ReadFile(m.logPath)
	return string(b)
}

// tail returns the last n lines of the log.
func (m *member) tail(n int) string {
	lines := strings.Split(strings.TrimRight(m.log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// result is how a run that must end by itself ended.
type result struct {
	code           int  // exit status; -1 when killed
	timedOut       bool // still running after the bound, then killed
	stdout, stderr string
}

// runToExit runs argv in namespace ns in a fresh working directory and
// waits up to bound for it to exit; a run still going is killed and
// reported as timed out. until, when not nil, is polled with stderr so far;
// once it returns true the run is killed and reported as timed out too (a
// process that is known not to exit).
func runToExit(t *testing.T, ns string, argv []string, bound time.Duration, until func(stderr string) bool) result {
	t.Helper()
	return runToExitIn(t, ns, t.TempDir(), argv, bound, until)
}

// runToExitIn is runToExit in working directory dir, which the caller has
// prepared.
func runToExitIn(t *testing.T, ns, dir string, argv []string, bound time.Duration, until func(stderr string) bool) result {
	t.Helper()
	return runToExitEnv(t, ns, dir, nil, argv, bound, until)
}

// runToExitEnv is runToExitIn with env (KEY=value) added to the process's
// environment.
func runToExitEnv(t *testing.T, ns, dir string, env, argv []string, bound time.Duration, until func(stderr string) bool) result {
	t.Helper()
	cmd := nsCommand(ns, dir, argv)
	cmd.Env = append(cmd.Env, env...)
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

	var res result
	deadline := time.After(bound)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-deadline:
			res.timedOut = true
		case <-tick.C:
			res.timedOut = until != nil && until(stderr.String())
		}
		if res.timedOut {
			kill()
			err = <-done
			break
		}
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case res.timedOut:
		res.code = -1
	case err == nil:
		res.code = 0
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("run %s: %v", strings.Join(argv, " "), err)
	}
	return res
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // protected by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// etcdctl runs etcdctl 3.4 (API v3) inside namespace ns.
type etcdctl struct {
	bin   string
	flags []string // global flags given before every command's own: TLS options
}

// run runs etcdctl and returns stdout, stderr and its exit error.
func (c etcdctl) run(ns string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	argv := []string{"netns", "exec", ns, c.bin, "--dial-timeout=3s", "--command-timeout=10s"}
	argv = append(append(argv, c.flags...), args...)
	cmd := exec.CommandContext(ctx, "ip", argv...)
	cmd.Env = append(cleanEnv(), "ETCDCTL_API=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ok runs etcdctl, fails the test unless it succeeds, and returns stdout.
func (c etcdctl) ok(t testing.TB, ns string, args ...string) string {
	t.Helper()
	stdout, stderr, err := c.run(ns, args...)
	if err != nil {
		t.Fatalf("in %s: etcdctl %s: %v\nstdout:\n%s\nstderr:\n%s", ns, strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}
