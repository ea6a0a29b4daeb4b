package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/pki"
)

// cairnctl is the binary under test, built once by TestMain.
var cairnctl string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairnctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "building cairnctl needs the go tool:", err)
		return 1
	}
	cairnctl = filepath.Join(dir, "cairnctl")
	if out, err := exec.Command(goTool, "build", "-o", cairnctl, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary in dir.
func cli(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnctl, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run cairnctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustCLI runs the binary and fails the test unless it succeeds.
func mustCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	r := cli(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("cairnctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestCertWorkflow is what an operator does for the guide's cluster: a
// CA, server, peer and client certificates, a look at them, and then real
// TLS on loopback with the files as crypto/tls loads them.
func TestCertWorkflow(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, "cert", "ca", "--out-dir", "certs", "--org", "Cairn")
	issue := func(args ...string) {
		mustCLI(t, dir, append([]string{"cert", "issue", "--ca-cert", "certs/ca.crt", "--ca-key", "certs/ca.key", "--out-dir", "certs"}, args...)...)
	}
	issue("--profile", "server", "--hosts", "127.0.0.1,localhost", "--name", "server")
	issue("--profile", "peer", "--hosts", "10.0.1.10,infra0.example.com,127.0.0.1,localhost", "--cn", "infra0", "--name", "infra0")
	issue("--profile", "client", "--name", "client", "--validity", "30d")

	for _, name := range []string{"ca", "server", "infra0", "client"} {
		checkMode(t, filepath.Join(dir, "certs", name+".crt"), pki.CertFileMode)
		checkMode(t, filepath.Join(dir, "certs", name+".key"), pki.KeyFileMode)
	}
	checkMode(t, filepath.Join(dir, "certs"), pki.DirMode|fs.ModeDir)

	out := mustCLI(t, dir, "cert", "show", "certs/ca.crt", "certs/server.crt", "certs/infra0.crt", "certs/client.crt")
	blocks := strings.Split(out, "\n\n")
	if len(blocks) != 4 {
		t.Fatalf("show printed %d blocks, want 4:\n%s", len(blocks), out)
	}
	for i, want := range [][]string{
		{"== certs/ca.crt: certificate 1 of 1 ==", "Subject:             CN=Cairn CA,O=Cairn", "CA:                  yes", "Key usage:           Certificate Sign, CRL Sign", "valid, 3650 days left"},
		{"== certs/server.crt:", "Subject:             CN=127.0.0.1", "Ext key usage:       TLS Server Auth\n", "DNS names:           localhost\n", "IP addresses:        127.0.0.1\n", "valid, 365 days left"},
		{"== certs/infra0.crt:", "Subject:             CN=infra0", "Issuer:              CN=Cairn CA,O=Cairn", "Ext key usage:       TLS Server Auth, TLS Client Auth", "DNS names:           infra0.example.com, localhost", "IP addresses:        10.0.1.10, 127.0.0.1"},
		{"== certs/client.crt:", "Subject:             CN=client", "Ext key usage:       TLS Client Auth\n", "DNS names:           (none)", "valid, 30 days left"},
	} {
		for _, w := range want {
			if !strings.Contains(blocks[i], w) {
				t.Errorf("show block %d lacks %q:\n%s", i, w, blocks[i])
			}
		}
		if !strings.Contains(blocks[i], "SHA-256 fingerprint: ") {
			t.Errorf("show block %d has no fingerprint", i)
		}
	}

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, "certs", "ca.crt"))
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("load ca.crt: %v", err)
	}
	load := func(name string) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, "certs", name+".crt"), filepath.Join(dir, "certs", name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	mtls := func(serverCert []tls.Certificate) *tls.Config {
		return &tls.Config{Certificates: serverCert, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	}

	t.Run("client cert accepted", func(t *testing.T) {
		for _, name := range []string{"localhost", "127.0.0.1"} {
			sErr, cErr := exchange(t, mtls(load("server")), &tls.Config{Certificates: load("client"), RootCAs: pool, ServerName: name})
			if sErr != nil || cErr != nil {
				t.Errorf("server name %s: server: %v, client: %v", name, sErr, cErr)
			}
		}
	})
	t.Run("no client cert refused", func(t *testing.T) {
		sErr, cErr := exchange(t, mtls(load("server")), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if sErr == nil || cErr == nil {
			t.Errorf("server: %v, client: %v; want both to fail", sErr, cErr)
		}
	})
	t.Run("server cert cannot dial", func(t *testing.T) {
		sErr, cErr := exchange(t, mtls(load("infra0")), &tls.Config{Certificates: load("server"), RootCAs: pool, ServerName: "localhost"})
		if sErr == nil || cErr == nil {
			t.Errorf("server: %v, client: %v; want both to fail", sErr, cErr)
		}
	})
	t.Run("peer cert serves and dials", func(t *testing.T) {
		sErr, cErr := exchange(t, mtls(load("infra0")), &tls.Config{Certificates: load("infra0"), RootCAs: pool, ServerName: "127.0.0.1"})
		if sErr != nil || cErr != nil {
			t.Errorf("server: %v, client: %v", sErr, cErr)
		}
	})
	t.Run("server name not in SANs refused", func(t *testing.T) {
		_, cErr := exchange(t, mtls(load("server")), &tls.Config{Certificates: load("client"), RootCAs: pool, ServerName: "infra1.example.com"})
		var hostErr x509.HostnameError
		if !errors.As(cErr, &hostErr) {
			t.Errorf("client: %v, want a hostname error", cErr)
		}
	})
}

// exchange accepts one TLS connection on 127.0.0.1, dials it, and echoes
// one byte, so that a client certificate the server refuses (which under
// TLS 1.3 the client learns only after its own handshake) fails the client
// too.
func exchange(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second)
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(deadline)
		s := tls.Server(conn, server)
		if err = s.Handshake(); err == nil {
			buf := make([]byte, 1)
			if _, err = io.ReadFull(s, buf); err == nil {
				_, err = s.Write(buf)
			}
		}
		done <- err
	}()
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	c := tls.Client(conn, client)
	if clientErr = c.Handshake(); clientErr == nil {
		if _, clientErr = c.Write([]byte{'x'}); clientErr == nil {
			_, clientErr = io.ReadFull(c, make([]byte, 1))
		}
	}
	return <-done, clientErr
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

// TestErrors checks exit statuses and messages: 1 and one "cairnctl: "
// line for a command that failed, 2 and a pointer to --help for a
// malformed command line.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, "cert", "ca", "--out-dir", "certs")
	if err := os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A CA that expired yesterday, made with the library.
	old, err := pki.NewCA(pki.CAOptions{Now: time.Now().Add(-48 * time.Hour), Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.WriteFiles(filepath.Join(dir, "old.crt"), filepath.Join(dir, "old.key"), pki.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	issue := []string{"cert", "issue", "--ca-cert", "certs/ca.crt", "--ca-key", "certs/ca.key"}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // substrings of stderr
	}{
		{"overwrite", []string{"cert", "ca", "--out-dir", "certs"}, 1,
			[]string{"cairnctl: pki: key file certs/ca.key: file already exists (use --force to replace it)"}},
		{"show junk", []string{"cert", "show", "junk.pem"}, 1,
			[]string{"cairnctl: pki: certificate file junk.pem: no PEM data"}},
		{"show key", []string{"cert", "show", "certs/ca.key"}, 1,
			[]string{"cairnctl: pki: certificate file certs/ca.key: not a certificate", `"PRIVATE KEY"`}},
		{"show missing", []string{"cert", "show", "missing.crt"}, 1,
			[]string{"cairnctl: pki: certificate file missing.crt: no such file or directory"}},
		{"missing CA", []string{"cert", "issue", "--ca-cert", "nope.crt", "--ca-key", "certs/ca.key", "--profile", "client", "--name", "c"}, 1,
			[]string{"cairnctl: pki: certificate file nope.crt: no such file or directory"}},
		{"CA key mismatch", []string{"cert", "issue", "--ca-cert", "certs/ca.crt", "--ca-key", "old.key", "--profile", "client", "--name", "c"}, 1,
			[]string{"cairnctl: pki: key file old.key: private key does not match certificate in certs/ca.crt"}},
		{"expired CA", []string{"cert", "issue", "--ca-cert", "old.crt", "--ca-key", "old.key", "--profile", "client", "--name", "c"}, 1,
			[]string{"cairnctl: pki: certificate file old.crt: certificate has expired"}},
		{"outlives CA", append(issue, "--profile", "client", "--name", "c", "--validity", "4000d"), 1,
			[]string{"cairnctl: pki: certificate would outlive its CA"}},
		{"required flags", []string{"cert", "issue", "--profile", "peer", "--hosts", "127.0.0.1", "--name", "p"}, 2,
			[]string{`cairnctl: required flag(s) "ca-cert", "ca-key" not set`, "Run 'cairnctl cert issue --help' for usage."}},
		{"no profile", append(issue, "--name", "p"), 2, []string{`required flag(s) "profile" not set`}},
		{"no hosts", append(issue, "--profile", "server", "--name", "s"), 2, []string{`required flag "hosts" not set`}},
		{"no name", append(issue, "--profile", "server", "--hosts", "localhost"), 2, []string{`required flag "name" not set`}},
		{"bad profile", append(issue, "--profile", "both"), 2, []string{`invalid argument "both" for "--profile" flag: want server, peer or client`}},
		{"bad host", append(issue, "--profile", "server", "--hosts", "infra0:2380", "--name", "s"), 2, []string{`invalid host "infra0:2380"`}},
		{"bad validity", []string{"cert", "ca", "--validity", "10y"}, 2, []string{`invalid argument "10y" for "--validity" flag`}},
		{"bad key type", []string{"cert", "ca", "--key-type", "dsa"}, 2, []string{`"--key-type" flag: want ecdsa, rsa2048 or rsa4096`}},
		{"path as name", append(issue, "--profile", "client", "--name", "../c"), 2, []string{"is a file name stem, not a path"}},
		{"unknown command", []string{"cert", "revoke"}, 2, []string{`unknown command "revoke" for "cairnctl cert"`}},
		{"unknown flag", []string{"cert", "ca", "--bogus"}, 2, []string{"unknown flag: --bogus"}},
		{"show without files", []string{"cert", "show"}, 2, []string{"requires at least 1 arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, dir, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if tc.code == 1 && (len(lines) != 1 || !strings.HasPrefix(lines[0], "cairnctl: ")) {
				t.Errorf("stderr is not one \"cairnctl: \" line:\n%s", r.stderr)
			}
		})
	}

	// show goes on past a bad file, reports each, and fails.
	r := cli(t, dir, "cert", "show", "junk.pem", "certs/ca.crt", "missing.crt")
	if r.code != 1 || !strings.Contains(r.stdout, "CN=Cairn CA") || strings.Count(r.stderr, "cairnctl: ") != 2 {
		t.Errorf("show with bad files: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// --force replaces, and the old CA's files are gone.
	mustCLI(t, dir, "cert", "ca", "--out-dir", "certs", "--force", "--cn", "New CA")
	if out := mustCLI(t, dir, "cert", "show", "certs/ca.crt"); !strings.Contains(out, "CN=New CA") {
		t.Errorf("after --force: %s", out)
	}
	// --cert and --key choose paths outright.
	mustCLI(t, dir, append(issue, "--profile", "client", "--cn", "root", "--cert", "x/root.pem", "--key", "y/root-key.pem")...)
	if _, err := pki.LoadKeyPair(filepath.Join(dir, "x", "root.pem"), filepath.Join(dir, "y", "root-key.pem")); err != nil {
		t.Error(err)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"cert"}, {"cert", "ca", "--help"}, {"cert", "issue", "--help"}, {"cert", "show", "--help"}} {
		out := mustCLI(t, t.TempDir(), args...)
		if !strings.Contains(out, "Usage:") {
			t.Errorf("cairnctl %s: no usage:\n%s", strings.Join(args, " "), out)
		}
	}
	out := mustCLI(t, t.TempDir(), "cert", "issue", "--help")
	for _, w := range []string{"--validity duration", "(365d)", "(default 365d)", "peer    a TLS server and client certificate"} {
		if !strings.Contains(out, w) {
			t.Errorf("issue --help lacks %q", w)
		}
	}
}

func TestParseValidity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"365d", 365 * day, true},
		{"1d", day, true},
		{"87600h", 87600 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{" 30d ", 30 * day, true},
		{"0d", 0, false},
		{"-1d", 0, false},
		{"-1h", 0, false},
		{"0", 0, false},
		{"1.5d", 0, false},
		{"10y", 0, false},
		{"d", 0, false},
		{"", 0, false},
		{"999999999d", 0, false},
	} {
		got, err := parseValidity(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseValidity(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	v := validityValue(3650 * day)
	if v.String() != "3650d" {
		t.Errorf("String = %s", v.String())
	}
	v = validityValue(90 * time.Minute)
	if v.String() != "1h30m0s" {
		t.Errorf("String = %s", v.String())
	}
}
