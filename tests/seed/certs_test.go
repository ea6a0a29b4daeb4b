package seed

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileFlags are the flags of the self-signed commands that name a file.
var fileFlags = []string{
	"trusted-ca-file", "cert-file", "key-file",
	"peer-trusted-ca-file", "peer-cert-file", "peer-key-file",
}

// buildCairnctl builds ./cmd/cairnctl into a temporary directory of t.
func buildCairnctl(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		// go test puts its own GOROOT/bin first on PATH; without it, try
		// $GOROOT.
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	out := filepath.Join(t.TempDir(), "cairnctl")
	cmd := exec.Command(gobin, "build", "-o", out, "./cmd/cairnctl")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s ./cmd/cairnctl in %s: %v\n%s", out, root, err, b)
	}
	return out
}

// guidePKI is the certificates the self-signed commands name, made by
// `cairnctl cert` in dir: the CAs ca-client and ca-peer; for each member
// <name>-client, signed by ca-client, and <name>-peer, signed by ca-peer,
// both with the peer profile (server and client use: a member presents its
// client-side certificate when it dials its own client port, and its peer
// certificate when it dials its peers) for the member's address, 127.0.0.1
// and localhost, CN the member's name; and etcdctl, a client certificate
// (CN root) signed by ca-client.
type guidePKI struct {
	dir string
}

// makeGuidePKI makes the certificates for members (name → address).
func makeGuidePKI(t *testing.T, cairnctl string, members map[string]string) guidePKI {
	t.Helper()
	p := guidePKI{dir: t.TempDir()}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cairnctl, append([]string{"cert"}, args...)...)
		cmd.Env = cleanEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cairnctl cert %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, side := range []string{"client", "peer"} {
		run("ca", "--out-dir", p.dir, "--name", "ca-"+side)
	}
	for name, addr := range members {
		for _, side := range []string{"client", "peer"} {
			run("issue", "--ca-cert", p.path("ca-"+side+".crt"), "--ca-key", p.path("ca-"+side+".key"),
				"--profile", "peer", "--hosts", addr+",127.0.0.1,localhost", "--cn", name,
				"--out-dir", p.dir, "--name", name+"-"+side)
		}
	}
	run("issue", "--ca-cert", p.path("ca-client.crt"), "--ca-key", p.path("ca-client.key"),
		"--profile", "client", "--cn", "root", "--out-dir", p.dir, "--name", "etcdctl")
	return p
}

// path returns the path of one of the files.
func (p guidePKI) path(file string) string { return filepath.Join(p.dir, file) }

// ctlFlags are etcdctl's flags to present a certificate stem (none when
// stem is "") and trust the CA file ca.
func (p guidePKI) ctlFlags(ca, stem string) []string {
	flags := []string{"--cacert", p.path(ca)}
	if stem != "" {
		flags = append(flags, "--cert", p.path(stem+".crt"), "--key", p.path(stem+".key"))
	}
	return flags
}

// mountTarget returns the one directory the commands name files in by
// absolute path: the guide's /path/to. It fails the test if they name
// files in more than one, since each member gets one bind mount.
func mountTarget(t testing.TB, cmds []guideCommand) string {
	t.Helper()
	var dirs []string
	for _, c := range cmds {
		for _, f := range fileFlags {
			if v, ok := flagValue(c.argv, f); ok && filepath.IsAbs(v) && !slices.Contains(dirs, filepath.Dir(v)) {
				dirs = append(dirs, filepath.Dir(v))
			}
		}
	}
	if len(dirs) != 1 {
		t.Fatalf("the self-signed commands name files by absolute path in %d directories %q, want one", len(dirs), dirs)
	}
	return dirs[0]
}

// layoutFiles puts the files command c names where it looks for them: a
// file named by absolute path goes into a fresh directory, returned, that
// is to be bind-mounted on the path's directory (mountTarget); one named
// by relative path goes under the working directory wd. Each is a copy of
// the certificate or key of the same base name in p.
func layoutFiles(t *testing.T, p guidePKI, c guideCommand, wd string) string {
	t.Helper()
	mnt := t.TempDir()
	for _, f := range fileFlags {
		v, ok := flagValue(c.argv, f)
		if !ok {
			t.Fatalf("guide line %d: the self-signed command has no --%s", c.line, f)
		}
		dst := filepath.Join(wd, v)
		switch {
		case filepath.IsAbs(v):
			dst = filepath.Join(mnt, filepath.Base(v))
		case !filepath.IsLocal(v):
			t.Fatalf("guide line %d: --%s=%s leaves the working directory", c.line, f, v)
		}
		src := p.path(filepath.Base(v))
		data, err := os.ReadFile(src)
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("guide line %d: --%s=%s names a file the test does not make (it has %s)", c.line, f, v, p.files(t))
		}
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return mnt
}

// files lists the file names in p.
func (p guidePKI) files(t testing.TB) string {
	t.Helper()
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// requireMountNS skips the test unless unshare(1) and mount(8) are there
// to give each member a mount namespace of its own.
func requireMountNS(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s(1) from util-linux to mount the guide's certificate directory for each member: %v", tool, err)
		}
	}
}

// hostMountTarget makes dir (the guide's /path/to) on the host when it is
// missing, as a bind mount needs an existing target, and at cleanup
// removes the directories it made, if empty. dir itself stays empty on
// the host: files are mounted on it only in members' mount namespaces.
// It skips the test if dir cannot be made.
func hostMountTarget(t *testing.T, dir string) {
	t.Helper()
	var made []string // deepest first
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		made = append(made, d)
	}
	t.Cleanup(func() {
		for _, d := range made {
			if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("cleanup: removing %s, which the test made: %v", d, err)
			}
		}
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make %s, where the guide's commands look for certificates, on this host: %v", dir, err)
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		t.Skipf("%s, where the guide's commands look for certificates, is not a directory on this host (%v)", dir, err)
	}
}

// inMountNS returns argv run in a mount namespace of its own, made
// private by unshare(1) so that nothing mounted in it is seen outside,
// with directory src bind-mounted on target; sh execs argv in place, so
// the process is argv itself.
func inMountNS(src, target string, argv []string) []string {
	const script = `mount --bind "$1" "$2" && shift 2 && exec "$@"`
	return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", src, target}, argv...)
}

// setFlag returns a copy of argv with the value of --name replaced by v,
// whether given as "--name value" or "--name=value".
func setFlag(argv []string, name, v string) []string {
	out := slices.Clone(argv)
	for i := 1; i < len(out); i++ {
		a := strings.TrimPrefix(strings.TrimPrefix(out[i], "-"), "-")
		switch {
		case a == name && i+1 < len(out):
			out[i+1] = v
			return out
		case strings.HasPrefix(a, name+"="):
			out[i] = out[i][:len(out[i])-len(a)] + name + "=" + v
			return out
		}
	}
	return out
}

// argvDiff describes the words in which a and b differ.
func argvDiff(a, b []string) []string {
	var d []string
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			d = append(d, fmt.Sprintf("word %d: %q → %q", i, x, y))
		}
	}
	return d
}

// pemEqual reports whether the first PEM block of file is der.
func pemEqual(t testing.TB, file string, der []byte) bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	return b != nil && bytes.Equal(b.Bytes, der)
}
