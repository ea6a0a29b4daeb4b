package framework

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MemberConfig describes one member process. A zero field takes the default
// written beside it; the flags a member gets are listed in Member.Args.
type MemberConfig struct {
	// Bin is the server binary. Default: Binary(t).
	Bin string
	// Name is --name. Default "m0".
	Name string
	// Dir holds the data dir, <Dir>/<Name>.etcd. Default: a new t.TempDir().
	Dir string
	// ClientPort and PeerPort are the 127.0.0.1 ports of the client and
	// peer URLs. Default: FreePort.
	ClientPort, PeerPort int
	// AdvertisePeerPort, when set, is the 127.0.0.1 port the member
	// advertises to its peers (--initial-advertise-peer-urls and the default
	// InitialCluster) while it still listens on PeerPort: a proxy listening
	// on AdvertisePeerPort and forwarding to PeerPort then carries every
	// connection other members open to it. Default 0: advertise PeerPort.
	AdvertisePeerPort int
	// Token is --initial-cluster-token. Default "cairn-e2e".
	Token string
	// InitialCluster is --initial-cluster. Default "<Name>=<peer URL>".
	InitialCluster string
	// NoInitialCluster leaves out --initial-cluster, for members that
	// bootstrap through discovery (given in Args).
	NoInitialCluster bool
	// ClusterState is --initial-cluster-state. Default "new".
	ClusterState string
	// Args are more flags, appended after the framework's own.
	Args []string
	// Env is appended to the environment, which is the test's own without
	// its ETCD_* and ETCDCTL_* variables.
	Env []string
	// ReadyTimeout bounds StartMember's and Restart's wait for readiness.
	// Default 60s.
	ReadyTimeout time.Duration
	// ClientScheme and PeerScheme are the schemes of the client and peer
	// URLs: "http" (default) or "https".
	ClientScheme, PeerScheme string
	// ClientTLS is how the framework's own clients (readiness probes,
	// Client, NewClient with WithTLS) reach an https client URL; it must
	// be set when ClientScheme is "https".
	ClientTLS *tls.Config
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	// Default 20s.
	StopTimeout time.Duration
}

// Default values of MemberConfig.
const (
	DefaultName         = "m0"
	DefaultToken        = "cairn-e2e"
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 20 * time.Second
)

// ensureDefaults fills the zero fields of c.
func (c *MemberConfig) ensureDefaults(t testing.TB) {
	t.Helper()
	if c.Bin == "" {
		c.Bin = Binary(t)
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	if c.ClientPort == 0 {
		c.ClientPort = FreePort(t)
	}
	if c.PeerPort == 0 {
		c.PeerPort = FreePort(t)
	}
	if c.ClientScheme == "" {
		c.ClientScheme = "http"
	}
	if c.PeerScheme == "" {
		c.PeerScheme = "http"
	}
	if c.Token == "" {
		c.Token = DefaultToken
	}
	if c.InitialCluster == "" {
		c.InitialCluster = c.Name + "=" + schemeURL(c.PeerScheme, c.advertisePeerPort())
	}
	if c.ClusterState == "" {
		c.ClusterState = "new"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
}

// advertisePeerPort returns AdvertisePeerPort, or PeerPort when it is 0.
func (c *MemberConfig) advertisePeerPort() int {
	if c.AdvertisePeerPort != 0 {
		return c.AdvertisePeerPort
	}
	return c.PeerPort
}

func schemeURL(scheme string, port int) string {
	return scheme + "://127.0.0.1:" + strconv.Itoa(port)
}

// Member is one server process, started, stopped and restarted with the
// same flags on the same data dir. Its methods are safe for concurrent use.
type Member struct {
	cfg     MemberConfig
	args    []string
	env     []string
	logPath string

	mu struct {
		sync.Mutex
		proc   *process // protected by mu; the last process started, nil before
		starts int      // protected by mu
	}
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // cmd.Wait's result; read only after done is closed
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// NewMember prepares a member without starting it. Its process, whenever
// started, is stopped at the test's cleanup, and its log tail is printed
// there if the test failed.
func NewMember(t testing.TB, cfg MemberConfig) *Member {
	t.Helper()
	cfg.ensureDefaults(t)
	m := &Member{cfg: cfg, logPath: filepath.Join(t.TempDir(), cfg.Name+".log")}
	m.args = []string{
		"--name", cfg.Name,
		"--data-dir", m.DataDir(),
		"--listen-client-urls", m.ClientURL(),
		"--advertise-client-urls", m.ClientURL(),
		"--listen-peer-urls", m.PeerURL(),
		"--initial-advertise-peer-urls", m.AdvertisePeerURL(),
		"--initial-cluster-token", cfg.Token,
		"--initial-cluster-state", cfg.ClusterState,
	}
	if !cfg.NoInitialCluster {
		m.args = append(m.args, "--initial-cluster", cfg.InitialCluster)
	}
	m.args = append(m.args, cfg.Args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			m.env = append(m.env, kv)
		}
	}
	m.env = append(m.env, cfg.Env...)
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if t.Failed() {
			t.Logf("log of member %s (%s), last %d lines:\n%s", m.cfg.Name, m.logPath, logTailLines, m.LogTail(logTailLines))
		}
	})
	return m
}

// StartMember prepares a member, starts it and waits until it is ready,
// failing the test if it does not get there.
func StartMember(t testing.TB, cfg MemberConfig) *Member {
	t.Helper()
	m := NewMember(t, cfg)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReadyTimeout(m.cfg.ReadyTimeout); err != nil {
		t.Fatal(err)
	}
	return m
}

// Config returns the member's configuration, defaults filled in.
func (m *Member) Config() MemberConfig { return m.cfg }

// Name returns --name.
func (m *Member) Name() string { return m.cfg.Name }

// Args returns the flags the binary is started with.
func (m *Member) Args() []string { return append([]string(nil), m.args...) }

// DataDir returns --data-dir, <Dir>/<Name>.etcd.
func (m *Member) DataDir() string { return filepath.Join(m.cfg.Dir, m.cfg.Name+".etcd") }

// ClientURL returns the client URL, http://127.0.0.1:<client port>.
func (m *Member) ClientURL() string { return schemeURL(m.cfg.ClientScheme, m.cfg.ClientPort) }

// PeerURL returns the peer URL the member listens on,
// http://127.0.0.1:<peer port>.
func (m *Member) PeerURL() string { return schemeURL(m.cfg.PeerScheme, m.cfg.PeerPort) }

// AdvertisePeerURL returns the peer URL the member advertises,
// http://127.0.0.1:<advertise peer port>; it is PeerURL unless
// AdvertisePeerPort is set.
func (m *Member) AdvertisePeerURL() string {
	return schemeURL(m.cfg.PeerScheme, m.cfg.advertisePeerPort())
}

// Endpoint returns the client endpoint as clients take it, 127.0.0.1:<port>.
func (m *Member) Endpoint() string { return "127.0.0.1:" + strconv.Itoa(m.cfg.ClientPort) }

// LogPath returns the file that collects the stdout and stderr of every run.
func (m *Member) LogPath() string { return m.logPath }

// Start starts the binary. It does not wait for readiness.
func (m *Member) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.mu.proc; p != nil && !p.exited() {
		return fmt.Errorf("framework: member %s is already running (pid %d)", m.cfg.Name, p.cmd.Process.Pid)
	}
	m.mu.starts++
	log, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("framework: member %s: %w", m.cfg.Name, err)
	}
	defer log.Close() // the child holds its own descriptor
	fmt.Fprintf(log, "%s%d at %s: %s %s\n", startMarker, m.mu.starts,
		time.Now().Format(time.RFC3339Nano), m.cfg.Bin, strings.Join(m.args, " "))

	cmd := exec.Command(m.cfg.Bin, m.args...)
	cmd.Dir = m.cfg.Dir
	cmd.Env = m.env
	cmd.Stdout, cmd.Stderr = log, log
	// Own process group, so signals reach anything it spawns; SIGKILL when
	// the test binary dies, so a crashed or timed-out run leaks nothing.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("framework: member %s: start %s: %w", m.cfg.Name, m.cfg.Bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	live.add(p, m.cfg.Name)
	go func() {
		p.err = cmd.Wait()
		live.remove(p)
		close(p.done)
	}()
	m.mu.proc = p
	return nil
}

func (m *Member) current() *process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.proc
}

// Running reports whether the member's process is alive.
func (m *Member) Running() bool {
	p := m.current()
	return p != nil && !p.exited()
}

// Pid returns the process ID of the last run, 0 before the first.
func (m *Member) Pid() int {
	if p := m.current(); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// Stop sends SIGTERM and waits for the process to exit; after StopTimeout it
// sends SIGKILL and reports that as an error. Stopping a member that is not
// running does nothing.
func (m *Member) Stop() error {
	p := m.current()
	if p == nil || p.exited() {
		return nil
	}
	signalGroup(p, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(m.cfg.StopTimeout):
	}
	signalGroup(p, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("framework: member %s did not exit within %v of SIGTERM and was killed\n%s",
		m.cfg.Name, m.cfg.StopTimeout, m.logTailMessage())
}

// Kill9 sends SIGKILL and waits until the process is gone.
func (m *Member) Kill9() error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("framework: member %s was never started", m.cfg.Name)
	}
	signalGroup(p, syscall.SIGKILL)
	<-p.done
	return nil
}

// Restart stops the member if it runs, starts it with the same flags on the
// same data dir, and waits up to ReadyTimeout until it is ready.
func (m *Member) Restart() error {
	if err := m.Stop(); err != nil {
		return err
	}
	if err := m.Start(); err != nil {
		return err
	}
	return m.WaitReadyTimeout(m.cfg.ReadyTimeout)
}

// Wait waits until the process exits and returns its exit error (nil for
// status 0), or ctx's error.
func (m *Member) Wait(ctx context.Context) error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("framework: member %s was never started", m.cfg.Name)
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signalGroup signals p's process group unless p has already been reaped
// (its ID could then belong to someone else).
func signalGroup(p *process, sig syscall.Signal) {
	if p.exited() {
		return
	}
	err := syscall.Kill(-p.cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		_ = p.cmd.Process.Signal(sig)
	}
}
