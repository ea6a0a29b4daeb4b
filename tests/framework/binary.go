package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Environment variables read by the framework.
const (
	// EnvBin names a prebuilt binary to test instead of building ./cmd/cairn.
	EnvBin = "CAIRN_BIN"
	// EnvRefEtcd names the reference etcd (default /usr/bin/etcd).
	EnvRefEtcd = "CAIRN_REF_ETCD"
	// EnvEtcdctl names the etcdctl to drive members with (default: etcdctl
	// on PATH, then /usr/bin/etcdctl).
	EnvEtcdctl = "CAIRN_ETCDCTL"
)

// DefaultRefEtcd is where Debian's etcd-server package installs etcd.
const DefaultRefEtcd = "/usr/bin/etcd"

var build struct {
	once sync.Once
	dir  string // temporary directory holding the built binary; "" with CAIRN_BIN
	path string
	err  error
}

// Binary returns the absolute path of the binary under test: $CAIRN_BIN when
// set, else ./cmd/cairn built once per test binary. It fails the test with
// go build's output when the build fails.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if bin := os.Getenv(EnvBin); bin != "" {
			build.path, build.err = checkExecutable(bin)
			if build.err != nil {
				build.err = fmt.Errorf("framework: %s=%q: %w", EnvBin, bin, build.err)
			}
			return
		}
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		dir, err := os.MkdirTemp("", "cairn-bin-")
		if err != nil {
			build.err = fmt.Errorf("framework: %w", err)
			return
		}
		build.dir = dir
		build.path, build.err = buildCairn(root, dir)
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// buildCairn runs `go build -o dir/cairn ./cmd/cairn` in the module at root.
func buildCairn(root, dir string) (string, error) {
	out := filepath.Join(dir, "cairn")
	cmd := exec.Command(goTool(), "build", "-o", out, "./cmd/cairn")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("framework: cannot build the cairn binary "+
			"(go build -o %s ./cmd/cairn in %s): %v\n%s\n"+
			"set %s to a prebuilt binary (e.g. %s=%s to check the harness against etcd)",
			out, root, err, strings.TrimSpace(buf.String()), EnvBin, EnvBin, DefaultRefEtcd)
	}
	return out, nil
}

// goTool returns the go command: the one on PATH (go test puts its own
// GOROOT/bin first), else $GOROOT/bin/go.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("framework: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("framework: no go.mod above the working directory; cannot build ./cmd/cairn")
		}
		dir = parent
	}
}

// checkExecutable resolves path (absolute, or looked up on PATH when it has
// no slash) and checks that it is an executable regular file.
func checkExecutable(path string) (string, error) {
	p, err := exec.LookPath(path)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// ReferenceEtcd returns the path of the reference etcd ($CAIRN_REF_ETCD,
// default /usr/bin/etcd) and skips the test when it is not installed.
func ReferenceEtcd(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvRefEtcd)
	if bin == "" {
		bin = DefaultRefEtcd
	}
	p, err := checkExecutable(bin)
	if err != nil {
		t.Skipf("reference etcd %s not available (%v): install Debian's etcd-server package "+
			"(apt-get install etcd-server) or set %s", bin, err, EnvRefEtcd)
	}
	return p
}

// Etcdctl returns the path of etcdctl ($CAIRN_ETCDCTL, else etcdctl on PATH,
// else /usr/bin/etcdctl) and skips the test when there is none.
func Etcdctl(t testing.TB) string {
	t.Helper()
	candidates := []string{"etcdctl", "/usr/bin/etcdctl"}
	if bin := os.Getenv(EnvEtcdctl); bin != "" {
		candidates = []string{bin}
	}
	for _, c := range candidates {
		if p, err := checkExecutable(c); err == nil {
			return p
		}
	}
	t.Skipf("etcdctl not available (tried %s): install Debian's etcd-client package "+
		"(apt-get install etcd-client) or set %s", strings.Join(candidates, ", "), EnvEtcdctl)
	return ""
}

// IsReferenceEtcd reports whether bin is the same file as the reference
// etcd, i.e. the harness is being checked against etcd itself.
func IsReferenceEtcd(bin string) bool {
	ref := os.Getenv(EnvRefEtcd)
	if ref == "" {
		ref = DefaultRefEtcd
	}
	a, err := os.Stat(bin)
	if err != nil {
		return false
	}
	b, err := os.Stat(ref)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}
