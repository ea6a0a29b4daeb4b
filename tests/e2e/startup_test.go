package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The framework always starts a member with its own flags. To start a
// member configured by ETCD_* variables or --config-file alone, the
// member's Bin is this test binary: started with startupExecBin in its
// environment, it replaces itself (before any test runs) with that binary,
// dropping the framework's flags and passing startupExecArgs (a JSON list)
// instead. The process ID stays the same, so the framework's stop, kill and
// readiness handling apply unchanged.
const (
	startupExecBin  = "CAIRN_STARTUP_TEST_EXEC_BIN"
	startupExecArgs = "CAIRN_STARTUP_TEST_EXEC_ARGS"
)

func init() {
	bin := os.Getenv(startupExecBin)
	if bin == "" {
		return
	}
	var args []string
	if s := os.Getenv(startupExecArgs); s != "" {
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			fmt.Fprintf(os.Stderr, "startup_test: %s=%q: %v\n", startupExecArgs, s, err)
			os.Exit(2)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, startupExecBin+"=") && !strings.HasPrefix(kv, startupExecArgs+"=") {
			env = append(env, kv)
		}
	}
	err := syscall.Exec(bin, append([]string{bin}, args...), env)
	fmt.Fprintf(os.Stderr, "startup_test: exec %s: %v\n", bin, err)
	os.Exit(2)
}

// bareMember prepares a member whose process is the binary under test
// started with exactly args (none of the framework's flags) and the
// environment env added. cfg's ports, name and dir must agree with what
// args/env configure, so that readiness probes and DataDir are right.
func bareMember(t *testing.T, cfg framework.MemberConfig, args []string, env ...string) *framework.Member {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("cannot find the test binary to wrap the member: %v", err)
	}
	enc, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Env = append([]string{
		startupExecBin + "=" + framework.Binary(t),
		startupExecArgs + "=" + string(enc),
	}, env...)
	cfg.Bin = self
	return framework.NewMember(t, cfg)
}

// startupResult is how one run of the binary ended.
type startupResult struct {
	code           int
	stdout, stderr string
}

// cleanEnviron is the test's environment without ETCD_* and ETCDCTL_*.
func cleanEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// runToExit runs the binary under test in dir with args and the extra
// environment env, and waits up to 30s for it to exit.
func runToExit(t *testing.T, dir string, env []string, args ...string) startupResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.Binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnviron(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	res := startupResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("cairn %s did not exit within 30s (killed)\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), res.stdout, res.stderr)
	case err == nil:
		res.code = 0
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("cannot run cairn %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// checkOneLineFailure checks that res is exit status 1 with exactly one
// line on stderr, with the "cairn: " prefix and no panic, and returns
// that line without the prefix.
func checkOneLineFailure(t *testing.T, what string, res startupResult) string {
	t.Helper()
	return checkOneLineFailureCode(t, what, res, 1)
}

// checkOneLineFailureCode is checkOneLineFailure for exit status code
// (etcd exits 2 for a malformed command line, 1 for everything else).
func checkOneLineFailureCode(t *testing.T, what string, res startupResult, code int) string {
	t.Helper()
	if res.code != code {
		t.Errorf("%s: exit status %d, want %d\nstderr:\n%s", what, res.code, code, res.stderr)
	}
	if strings.Contains(res.stderr, "panic") || strings.Contains(res.stderr, "goroutine ") {
		t.Errorf("%s: the binary panicked:\n%s", what, res.stderr)
	}
	if !strings.HasSuffix(res.stderr, "\n") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("%s: stderr must be exactly one line, got %d bytes:\n%s", what, len(res.stderr), res.stderr)
	}
	line := strings.TrimSuffix(strings.SplitN(res.stderr, "\n", 2)[0], "\r")
	msg, ok := strings.CutPrefix(line, "cairn: ")
	if !ok {
		t.Errorf("%s: stderr line %q lacks the \"cairn: \" prefix", what, line)
	}
	return msg
}

// checkEmptyDir fails the test if dir holds anything.
func checkEmptyDir(t *testing.T, what, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("%s: the failed start left %v in its working directory; no data dir may be created", what, names)
	}
}

func loopback(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// TestStartupBadInput runs the binary with configurations a user gets
// wrong and checks each is refused with etcd's status and one line on stderr
// naming the problem, before anything is written to disk.
func TestStartupBadInput(t *testing.T) {
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("checks Cairn's own stderr texts and exit statuses")
	}
	cp, pp, pp2 := framework.FreePort(t), framework.FreePort(t), framework.FreePort(t)
	urlFlags := func(name string, advertisePeer int) []string {
		return []string{
			"--name", name,
			"--listen-client-urls", loopback(cp), "--advertise-client-urls", loopback(cp),
			"--listen-peer-urls", loopback(advertisePeer), "--initial-advertise-peer-urls", loopback(advertisePeer),
		}
	}
	cases := []struct {
		name string
		args []string
		env  []string
		// exact is the whole message after "cairn: "; else every word
		// of contains must appear in it.
		exact    string
		contains []string
		// code is the exit status, 1 unless set: etcd exits 2 for an
		// unknown flag or a malformed value.
		code int
	}{
		{name: "unknown flag", args: []string{"--no-such-flag-xyz"}, contains: []string{"no-such-flag-xyz"}, code: 2},
		{name: "bad value", args: []string{"--snapshot-count", "abc"}, contains: []string{"snapshot-count", "abc"}, code: 2},
		{name: "stray argument", args: []string{"bar"}, exact: "'bar' is not a valid flag"},
		{name: "election vs heartbeat", args: []string{"--election-timeout", "100", "--heartbeat-interval", "100"},
			contains: []string{"election-timeout", "heartbeat-interval"}},
		{name: "listen without advertise", args: []string{"--listen-client-urls", loopback(cp)},
			exact: "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{name: "bad cluster state", args: []string{"--initial-cluster-state", "bogus"},
			contains: []string{"initial-cluster-state", "bogus"}, code: 2},
		{name: "flag and env", args: []string{"--name", "infra0"}, env: []string{"ETCD_NAME=infra0"},
			exact: `conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{name: "name not in initial cluster",
			args:  append(urlFlags("infra1", pp), "--initial-cluster", "infra0="+loopback(pp)),
			exact: "infra1 not listed in the initial cluster config"},
		{name: "advertised peer URL differs",
			args:  append(urlFlags("infra0", pp), "--initial-cluster", "infra0="+loopback(pp2)),
			exact: "error setting up initial cluster: infra0 has different advertised URLs in the cluster and advertised peer URLs list"},
		{name: "https without certificates",
			args:  []string{"--listen-client-urls", "https://127.0.0.1:" + strconv.Itoa(cp), "--advertise-client-urls", "https://127.0.0.1:" + strconv.Itoa(cp)},
			exact: "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:" + strconv.Itoa(cp) + " with HTTPS scheme"},
		{name: "missing certificate file",
			args: []string{"--listen-peer-urls", "https://127.0.0.1:" + strconv.Itoa(pp), "--initial-advertise-peer-urls", "https://127.0.0.1:" + strconv.Itoa(pp),
				"--initial-cluster", "default=https://127.0.0.1:" + strconv.Itoa(pp), "--peer-cert-file", "/nonexistent/peer.crt", "--peer-key-file", "/nonexistent/peer.key"},
			contains: []string{"--peer-cert-file", "/nonexistent/peer.crt", "no such file"}},
		{name: "not yet supported flag", args: []string{"--listen-client-http-urls", "http://127.0.0.1:2382"}, exact: "not supported yet: --listen-client-http-urls"},
		{name: "grpc-proxy", args: []string{"grpc-proxy", "start"}, contains: []string{"not supported yet"}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			what := fmt.Sprintf("cairn %s (env %v)", strings.Join(tc.args, " "), tc.env)
			res := runToExit(t, dir, tc.env, tc.args...)
			code := tc.code
			if code == 0 {
				code = 1
			}
			msg := checkOneLineFailureCode(t, what, res, code)
			if tc.exact != "" && msg != tc.exact {
				t.Errorf("%s: message\n  %q\nwant\n  %q", what, msg, tc.exact)
			}
			for _, w := range tc.contains {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: message %q does not name %q", what, msg, w)
				}
			}
			checkEmptyDir(t, what, dir)
		})
	}
}

// checkSingleMember checks that the member list has exactly one member,
// with the given name, ID and URLs.
func checkSingleMember(t *testing.T, cli *clientv3.Client, name string, id uint64, peerURL, clientURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	if len(resp.Members) != 1 {
		t.Fatalf("member list has %d members, want 1: %v", len(resp.Members), resp.Members)
	}
	m := resp.Members[0]
	if m.Name != name || m.ID != id {
		t.Errorf("member = name %q id %s, want name %q id %s (compat §2)",
			m.Name, membership.FormatID(m.ID), name, membership.FormatID(id))
	}
	if len(m.PeerURLs) != 1 || m.PeerURLs[0] != peerURL {
		t.Errorf("member peer URLs = %v, want [%s]", m.PeerURLs, peerURL)
	}
	if len(m.ClientURLs) != 1 || m.ClientURLs[0] != clientURL {
		t.Errorf("member client URLs = %v, want [%s]", m.ClientURLs, clientURL)
	}
}

// putGet writes key=val and reads it back.
func putGet(t *testing.T, cli *clientv3.Client, key, val string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, key, val); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	expectValue(t, cli, key, val)
}

// expectValue checks that key holds val.
func expectValue(t *testing.T, cli *clientv3.Client, key, val string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != val {
		t.Fatalf("get %s = %v, want %q", key, resp.Kvs, val)
	}
}

// TestStartupEnvOnly configures a member through ETCD_* variables alone.
func TestStartupEnvOnly(t *testing.T) {
	cfg := framework.MemberConfig{Name: "envonly", Dir: t.TempDir(),
		ClientPort: framework.FreePort(t), PeerPort: framework.FreePort(t)}
	client, peer := loopback(cfg.ClientPort), loopback(cfg.PeerPort)
	m := bareMember(t, cfg, nil,
		"ETCD_NAME="+cfg.Name,
		"ETCD_DATA_DIR="+filepath.Join(cfg.Dir, cfg.Name+".etcd"),
		"ETCD_LISTEN_CLIENT_URLS="+client,
		"ETCD_ADVERTISE_CLIENT_URLS="+client,
		"ETCD_LISTEN_PEER_URLS="+peer,
		"ETCD_INITIAL_ADVERTISE_PEER_URLS="+peer,
		"ETCD_INITIAL_CLUSTER="+cfg.Name+"="+peer,
	)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReadyTimeout(time.Minute); err != nil {
		t.Fatalf("member configured by ETCD_* only: %v", err)
	}
	cli := m.Client(t)
	putGet(t, cli, "env/k", "v")
	// No ETCD_INITIAL_CLUSTER_TOKEN: the default token "etcd-cluster".
	checkSingleMember(t, cli, cfg.Name, membership.MemberID([]string{peer}, "etcd-cluster", nil), peer, client)
	if _, err := os.Stat(filepath.Join(m.DataDir(), "member")); err != nil {
		t.Errorf("ETCD_DATA_DIR not used: %v", err)
	}
}

// writeConfigFile writes a YAML config file and returns its path.
func writeConfigFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cairn.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStartupConfigFileOnly configures a member through --config-file
// alone.
func TestStartupConfigFileOnly(t *testing.T) {
	cfg := framework.MemberConfig{Name: "fileonly", Dir: t.TempDir(),
		ClientPort: framework.FreePort(t), PeerPort: framework.FreePort(t)}
	client, peer := loopback(cfg.ClientPort), loopback(cfg.PeerPort)
	path := writeConfigFile(t, fmt.Sprintf(`name: %s
data-dir: %q
listen-client-urls: %s
advertise-client-urls: %s
listen-peer-urls: %s
initial-advertise-peer-urls: %s
initial-cluster: %s=%s
`, cfg.Name, filepath.Join(cfg.Dir, cfg.Name+".etcd"), client, client, peer, peer, cfg.Name, peer))
	m := bareMember(t, cfg, []string{"--config-file", path})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReadyTimeout(time.Minute); err != nil {
		t.Fatalf("member configured by --config-file only: %v", err)
	}
	cli := m.Client(t)
	putGet(t, cli, "file/k", "v")
	checkSingleMember(t, cli, cfg.Name, membership.MemberID([]string{peer}, "etcd-cluster", nil), peer, client)
	if _, err := os.Stat(filepath.Join(m.DataDir(), "member")); err != nil {
		t.Errorf("data-dir of the config file not used: %v", err)
	}
}

// TestStartupConfigFileIgnoresFlags gives the framework's flags beside a
// --config-file that sets another name, token and data dir: as in etcd,
// the config file wins and the flags are ignored.
func TestStartupConfigFileIgnoresFlags(t *testing.T) {
	dir := t.TempDir()
	cp, pp := framework.FreePort(t), framework.FreePort(t)
	client, peer := loopback(cp), loopback(pp)
	fileDataDir := filepath.Join(dir, "fromfile-data")
	path := writeConfigFile(t, fmt.Sprintf(`name: fromfile
data-dir: %q
listen-client-urls: %s
advertise-client-urls: %s
listen-peer-urls: %s
initial-advertise-peer-urls: %s
initial-cluster: fromfile=%s
initial-cluster-token: token-from-file
`, fileDataDir, client, client, peer, peer, peer))
	// Flags: --name m0, --data-dir <dir>/m0.etcd, token cairn-e2e, ...
	m := framework.StartMember(t, framework.MemberConfig{Dir: dir, ClientPort: cp, PeerPort: pp,
		Args: []string{"--config-file", path}})
	cli := m.Client(t)
	putGet(t, cli, "file/k", "v")
	checkSingleMember(t, cli, "fromfile", membership.MemberID([]string{peer}, "token-from-file", nil), peer, client)
	if _, err := os.Stat(filepath.Join(fileDataDir, "member")); err != nil {
		t.Errorf("data-dir of the config file not used: %v", err)
	}
	if _, err := os.Stat(m.DataDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--data-dir %s given beside --config-file was used (stat: %v); it must be ignored", m.DataDir(), err)
	}
}

// filesWithSuffix lists the files under root whose names end in suffix.
func filesWithSuffix(t *testing.T, root, suffix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), suffix) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// TestStartupWALDir runs a member with --wal-dir: the write-ahead log
// lives there and not in the data dir, and survives SIGKILL.
func TestStartupWALDir(t *testing.T) {
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("checks Cairn's storage layout (pebble WAL files)")
	}
	walDir := filepath.Join(t.TempDir(), "wal")
	m := framework.StartMember(t, framework.MemberConfig{Bin: bin, Args: []string{"--wal-dir", walDir}})
	cli := m.Client(t)
	const n = 50
	for i := range n {
		putGet(t, cli, fmt.Sprintf("wal/%03d", i), strconv.Itoa(i))
	}
	checkLayout := func(when string) {
		t.Helper()
		if logs := filesWithSuffix(t, walDir, ".log"); len(logs) == 0 {
			t.Errorf("%s: no WAL file (*.log) under --wal-dir %s", when, walDir)
		}
		if logs := filesWithSuffix(t, m.DataDir(), ".log"); len(logs) > 0 {
			t.Errorf("%s: WAL files in the data dir although --wal-dir is set: %v", when, logs)
		}
	}
	checkLayout("before kill -9")

	if err := m.Kill9(); err != nil {
		t.Fatal(err)
	}
	if err := m.Restart(); err != nil {
		t.Fatalf("restart after kill -9 with --wal-dir: %v", err)
	}
	cli = m.Client(t)
	for i := range n {
		expectValue(t, cli, fmt.Sprintf("wal/%03d", i), strconv.Itoa(i))
	}
	checkLayout("after restart")
}

// memberAndCluster returns the only member's ID and the cluster ID.
func memberAndCluster(t *testing.T, cli *clientv3.Client) (member, cluster uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	if len(resp.Members) != 1 {
		t.Fatalf("member list has %d members, want 1: %v", len(resp.Members), resp.Members)
	}
	return resp.Members[0].ID, resp.Header.ClusterId
}

// TestStartupRestartIgnoresBootstrapFlags restarts a member on its data
// dir with other --initial-cluster and --initial-cluster-token flags: a
// member that has data ignores them, as etcd does.
func TestStartupRestartIgnoresBootstrapFlags(t *testing.T) {
	first := framework.StartMember(t, framework.MemberConfig{})
	cli := first.Client(t)
	putGet(t, cli, "boot/k", "v1")
	wantMember, wantCluster := memberAndCluster(t, cli)
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	base := first.Config()
	variants := []struct {
		name           string
		token, initial string
	}{
		// Valid on its own, but would give another member ID.
		{"another token", "another-token", ""},
		// Would fail as a new member: this name is not listed.
		{"name not in initial cluster", "third-token", "infra9=" + loopback(framework.FreePort(t))},
	}
	for i, v := range variants {
		cfg := base
		cfg.Token, cfg.InitialCluster = v.token, v.initial
		cfg.Args = nil
		m := framework.NewMember(t, cfg)
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		if err := m.WaitReadyTimeout(time.Minute); err != nil {
			t.Fatalf("restart with %s (%v): %v", v.name, m.Args(), err)
		}
		cli := m.Client(t)
		gotMember, gotCluster := memberAndCluster(t, cli)
		if gotMember != wantMember || gotCluster != wantCluster {
			t.Errorf("restart with %s: member %s cluster %s, want member %s cluster %s (bootstrap flags must be ignored)",
				v.name, membership.FormatID(gotMember), membership.FormatID(gotCluster),
				membership.FormatID(wantMember), membership.FormatID(wantCluster))
		}
		expectValue(t, cli, "boot/k", "v"+strconv.Itoa(i+1))
		putGet(t, cli, "boot/k", "v"+strconv.Itoa(i+2))
		if err := m.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStartupVersionHelp checks --version and --help.
func TestStartupVersionHelp(t *testing.T) {
	dir := t.TempDir()
	res := runToExit(t, dir, nil, "--version")
	if res.code != 0 {
		t.Errorf("--version: exit status %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	first := strings.SplitN(res.stdout, "\n", 2)[0]
	if !regexp.MustCompile(`(?i)version:?\s+v?[0-9]+\.[0-9]+`).MatchString(first) {
		t.Errorf("--version: first line %q does not give a version; output:\n%s", first, res.stdout)
	}

	res = runToExit(t, dir, nil, "--help")
	if res.code != 0 {
		t.Errorf("--help: exit status %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	if out := res.stdout + res.stderr; !strings.Contains(out, "--initial-cluster") {
		t.Errorf("--help does not mention --initial-cluster:\n%s", out)
	}
	checkEmptyDir(t, "--version and --help", dir)
}

// TestStartupSIGTERM stops a member with SIGTERM: it exits 0 promptly and
// keeps its data.
func TestStartupSIGTERM(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{StopTimeout: 15 * time.Second})
	cli := m.Client(t)
	const n = 20
	for i := range n {
		putGet(t, cli, fmt.Sprintf("term/%02d", i), strconv.Itoa(i))
	}
	start := time.Now()
	if err := m.Stop(); err != nil { // SIGTERM; an error means SIGKILL was needed
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("exit took %v after SIGTERM, want under 5s", took.Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, m.RunLog())
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	cli = m.Client(t)
	for i := range n {
		expectValue(t, cli, fmt.Sprintf("term/%02d", i), strconv.Itoa(i))
	}
}

// TestStartupClientPortInUse starts a second member on the client port of
// a running one: it must exit 1 naming the address, and the first member
// must be unharmed.
func TestStartupClientPortInUse(t *testing.T) {
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("checks Cairn's own stderr text")
	}
	first := framework.StartMember(t, framework.MemberConfig{Bin: bin})
	dir := t.TempDir()
	peer := loopback(framework.FreePort(t))
	res := runToExit(t, dir, nil,
		"--name", "second",
		"--listen-client-urls", first.ClientURL(), "--advertise-client-urls", first.ClientURL(),
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "second="+peer)
	what := "second member on client port " + first.Endpoint()
	msg := checkOneLineFailure(t, what, res)
	if !strings.Contains(msg, first.Endpoint()) {
		t.Errorf("%s: message %q does not name the address %s", what, msg, first.Endpoint())
	}
	checkEmptyDir(t, what, dir)
	if !first.Running() {
		t.Fatalf("the first member died\n%s", first.RunLog())
	}
	putGet(t, first.Client(t), "port/k", "v")
}
