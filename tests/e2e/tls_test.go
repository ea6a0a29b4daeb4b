package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/pki"
	"github.com/cairn-db/cairn/tests/framework"
)

// testPKI is a CA, another CA nobody trusts, and the files issued by them.
type testPKI struct {
	t             *testing.T
	dir           string
	ca, otherCA   *pki.KeyPair
	caFile        string
	otherCAFile   string
	serverHosts   []string
	issuedByOther map[string]bool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{t: t, dir: t.TempDir(), serverHosts: []string{"127.0.0.1", "localhost"}, issuedByOther: map[string]bool{}}
	var err error
	if p.ca, err = pki.NewCA(pki.CAOptions{CommonName: "test CA"}); err != nil {
		t.Fatal(err)
	}
	if p.otherCA, err = pki.NewCA(pki.CAOptions{CommonName: "other CA"}); err != nil {
		t.Fatal(err)
	}
	p.caFile = filepath.Join(p.dir, "ca.crt")
	if err := os.WriteFile(p.caFile, p.ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	p.otherCAFile = filepath.Join(p.dir, "other-ca.crt")
	if err := os.WriteFile(p.otherCAFile, p.otherCA.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue writes <name>.crt and <name>.key signed by the test CA (or the
// other CA) and returns their paths.
func (p *testPKI) issue(name string, profile pki.Profile, byOther bool) (certFile, keyFile string) {
	p.t.Helper()
	ca := p.ca
	if byOther {
		ca = p.otherCA
	}
	opts := pki.IssueOptions{Profile: profile, CommonName: name}
	if profile != pki.ProfileClient {
		opts.Hosts = p.serverHosts
	}
	kp, err := pki.Issue(ca, opts)
	if err != nil {
		p.t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.dir, name+".crt"), filepath.Join(p.dir, name+".key")
	if err := kp.WriteFiles(certFile, keyFile, pki.WriteOptions{Force: true}); err != nil {
		p.t.Fatal(err)
	}
	return certFile, keyFile
}

// clientTLS is a client configuration trusting the test CA, presenting
// the named client certificate ("" for none).
func (p *testPKI) clientTLS(certName string) *tls.Config {
	p.t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca.CertPEM)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certName != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(p.dir, certName+".crt"), filepath.Join(p.dir, certName+".key"))
		if err != nil {
			p.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// TestTLSClientMutual: an https client port with --client-cert-auth
// serves etcdctl 3.4 and clientv3 with a certificate of the trusted CA, and
// refuses, with one clear log line each, clients without a certificate,
// with one from another CA, and plain-text clients.
func TestTLSClientMutual(t *testing.T) {
	p := newTestPKI(t)
	srvCert, srvKey := p.issue("server", pki.ProfileServer, false)
	p.issue("client", pki.ProfileClient, false)
	p.issue("stranger", pki.ProfileClient, true)
	m := framework.StartMember(t, framework.MemberConfig{
		ClientScheme: "https",
		ClientTLS:    p.clientTLS("client"),
		Args: []string{"--client-cert-auth", "--trusted-ca-file", p.caFile,
			"--cert-file", srvCert, "--key-file", srvKey},
	})
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: "https://" + m.Endpoint()}
	auth := []string{"--cacert", p.caFile, "--cert", filepath.Join(p.dir, "client.crt"), "--key", filepath.Join(p.dir, "client.key")}
	ctl.ok(append(auth, "put", "secure", "yes")...)
	if out := ctl.ok(append(auth, "get", "secure", "--print-value-only")...); strings.TrimSpace(out) != "yes" {
		t.Fatalf("get over TLS: %q", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.Client(t).Put(ctx, "from/clientv3", "v"); err != nil {
		t.Fatalf("clientv3 over TLS: %v", err)
	}

	// Refused: no client certificate; one from another CA.
	before := strings.Count(m.Log(), "refused TLS connection")
	if e := ctl.fails("--cacert", p.caFile, "get", "secure"); e == "" {
		t.Fatal("etcdctl without a client certificate was not refused")
	}
	strangerAuth := []string{"--cacert", p.caFile, "--cert", filepath.Join(p.dir, "stranger.crt"), "--key", filepath.Join(p.dir, "stranger.key")}
	ctl.fails(append(strangerAuth, "get", "secure")...)
	var refusals []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		refusals = nil
		for _, l := range strings.Split(m.Log(), "\n") {
			if strings.Contains(l, "refused TLS connection") {
				refusals = append(refusals, l)
			}
		}
		if len(refusals) > before && strings.Contains(strings.Join(refusals, "\n"), "unknown authority") {
			break
		}
	}
	joined := strings.Join(refusals, "\n")
	if !strings.Contains(joined, "127.0.0.1") || !strings.Contains(joined, "certificate") || !strings.Contains(joined, "unknown authority") {
		t.Fatalf("refusals are not logged with the peer and reason:\n%s", joined)
	}

	// A plain-text HTTP client gets a clear answer at once.
	conn, err := net.DialTimeout("tcp", m.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("plain HTTP to the TLS port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
		t.Fatalf("plain HTTP to the TLS port: %d %q", resp.StatusCode, body)
	}

	// HTTP endpoints and the JSON gateway over TLS, HTTP/2 and HTTP/1.1.
	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: p.clientTLS("client"), ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		r, err := hc.Get(m.ClientURL() + "/health")
		if err != nil {
			t.Fatalf("GET /health over TLS (h2=%v): %v", h2, err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(b), `"health":"true"`) {
			t.Fatalf("GET /health over TLS (h2=%v): %d %s", h2, r.StatusCode, b)
		}
		r, err = hc.Post(m.ClientURL()+"/v3/kv/range", "application/json", strings.NewReader(`{"key":"c2VjdXJl"}`))
		if err != nil {
			t.Fatalf("gateway over TLS (h2=%v): %v", h2, err)
		}
		var rr struct {
			Kvs []struct{ Value string } `json:"kvs"`
		}
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
		if err := json.Unmarshal(b, &rr); err != nil || len(rr.Kvs) != 1 || rr.Kvs[0].Value != "eWVz" {
			t.Fatalf("gateway range over TLS (h2=%v): %d %s, %v", h2, r.StatusCode, b, err)
		}
		tr.CloseIdleConnections()
	}
}

// TestTLSPeers: a 3-member cluster whose peers authenticate each other with
// certificates of one CA (https peer and client URLs, the guide's
// self-signed layout), and a member with a certificate from another CA
// that the others refuse.
func TestTLSPeers(t *testing.T) {
	p := newTestPKI(t)
	p.issue("client", pki.ProfileClient, false)
	var args []string
	certFor := map[int][2]string{}
	for i := 0; i < 3; i++ {
		c, k := p.issue(fmt.Sprintf("m%d", i), pki.ProfilePeer, false)
		certFor[i] = [2]string{c, k}
	}
	// Every member gets its own pair through the template's Args below, so
	// start them one by one with the same cluster layout.
	ports := make([][2]int, 3)
	var initial []string
	for i := range ports {
		ports[i] = [2]int{framework.FreePort(t), framework.FreePort(t)}
		initial = append(initial, fmt.Sprintf("m%d=https://127.0.0.1:%d", i, ports[i][1]))
	}
	var members []*framework.Member
	for i := 0; i < 3; i++ {
		args = []string{
			"--client-cert-auth", "--trusted-ca-file", p.caFile, "--cert-file", certFor[i][0], "--key-file", certFor[i][1],
			"--peer-client-cert-auth", "--peer-trusted-ca-file", p.caFile, "--peer-cert-file", certFor[i][0], "--peer-key-file", certFor[i][1],
		}
		m := framework.NewMember(t, framework.MemberConfig{
			Name: fmt.Sprintf("m%d", i), ClientPort: ports[i][0], PeerPort: ports[i][1],
			ClientScheme: "https", PeerScheme: "https", ClientTLS: p.clientTLS("client"),
			InitialCluster: strings.Join(initial, ","), Args: args,
		})
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	for _, m := range members {
		if err := m.WaitReadyTimeout(time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := members[0].Client(t).Put(ctx, "over", "tls"); err != nil {
		t.Fatal(err)
	}
	resp, err := members[2].Client(t).Get(ctx, "over")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("read through another member: %v, %v", resp, err)
	}
	ml, err := members[1].Client(t).MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range ml.Members {
		if len(mm.PeerURLs) != 1 || !strings.HasPrefix(mm.PeerURLs[0], "https://") {
			t.Fatalf("member %s peer URLs %v", mm.Name, mm.PeerURLs)
		}
	}

	// A member whose peer certificate comes from another CA: its peers
	// refuse it, and it never becomes ready. (It is added first, so the
	// refusal is about the certificate, not membership.)
	intruderCert, intruderKey := p.issue("intruder", pki.ProfilePeer, true)
	peerPort := framework.FreePort(t)
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: "https://" + members[0].Endpoint()}
	auth := []string{"--cacert", p.caFile, "--cert", filepath.Join(p.dir, "client.crt"), "--key", filepath.Join(p.dir, "client.key")}
	env := memberAddEnv(t, memberAdd(t, ctl, append(auth, "intruder", fmt.Sprintf("--peer-urls=https://127.0.0.1:%d", peerPort))...))
	intruder := framework.NewMember(t, framework.MemberConfig{
		Name: "intruder", PeerPort: peerPort, ClientScheme: "https", PeerScheme: "https", ClientTLS: p.clientTLS("client"),
		InitialCluster: env["ETCD_INITIAL_CLUSTER"], ClusterState: "existing",
		Args: []string{"--cert-file", intruderCert, "--key-file", intruderKey,
			"--peer-cert-file", intruderCert, "--peer-key-file", intruderKey, "--peer-trusted-ca-file", p.otherCAFile},
	})
	if err := intruder.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if strings.Contains(members[0].Log()+members[1].Log()+members[2].Log(), "refused TLS connection") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no member logged refusing the intruder's certificate:\n%s", members[0].LogTail(20))
		}
	}
	if err := intruder.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := members[0].Client(t).Put(ctx, "still", "serving"); err != nil {
		t.Fatal(err)
	}
}

// TestAutoTLS: the guide's automatic certificates, on loopback: peers and
// clients speak TLS with certificates each member made for itself, kept
// under <data-dir>/fixtures and reused on restart.
func TestAutoTLS(t *testing.T) {
	insecure := &tls.Config{InsecureSkipVerify: true}
	c := framework.StartCluster(t, 3, framework.MemberConfig{
		ClientScheme: "https", PeerScheme: "https", ClientTLS: insecure,
		Args: []string{"--auto-tls", "--peer-auto-tls"},
	})
	m := c.Members[0]
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: "https://" + m.Endpoint()}
	// etcdctl 3.4 needs --insecure-transport=false for
	// --insecure-skip-tls-verify to take effect (the same with etcd).
	ctl.ok("--insecure-transport=false", "--insecure-skip-tls-verify", "put", "auto", "tls")
	if out := ctl.ok("--insecure-transport=false", "--insecure-skip-tls-verify", "--endpoints", "https://"+c.Members[2].Endpoint(), "get", "auto", "--print-value-only"); strings.TrimSpace(out) != "tls" {
		t.Fatalf("get through another member: %q", out)
	}
	certPath := filepath.Join(m.DataDir(), "fixtures", "peer", "cert.pem")
	first, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatalf("auto-TLS peer certificate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.DataDir(), "fixtures", "client", "cert.pem")); err != nil {
		t.Fatalf("auto-TLS client certificate: %v", err)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(certPath)
	if err != nil || string(again) != string(first) {
		t.Fatalf("the certificate was not reused on restart (%v)", err)
	}
	ctl.ok("--insecure-transport=false", "--insecure-skip-tls-verify", "get", "auto")
}

// TestUnixSocketListener: a unix:// client URL binds the socket file named
// by its host in the working directory, as etcd does, and serves etcdctl
// and HTTP.
func TestUnixSocketListener(t *testing.T) {
	dir := t.TempDir()
	cp := framework.FreePort(t)
	sock := fmt.Sprintf("localhost:%d", framework.FreePort(t))
	m := framework.StartMember(t, framework.MemberConfig{
		Dir: dir, ClientPort: cp,
		Args: []string{"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d,unix://%s", cp, sock)},
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, framework.Etcdctl(t), append([]string{"--endpoints", "unix://" + sock, "--dial-timeout", "5s"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("etcdctl %v over the unix socket: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("put", "via", "socket")
	if out := run("get", "via", "--print-value-only"); strings.TrimSpace(out) != "socket" {
		t.Fatalf("get over the unix socket: %q", out)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dir, sock))
	}}, Timeout: 5 * time.Second}
	r, err := hc.Get("http://unix/health")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/health over the unix socket: %d", r.StatusCode)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, sock)); !os.IsNotExist(err) {
		t.Fatalf("socket file left after stop: %v", err)
	}
}

// TestTLSClientOnPlainPort: a TLS client on a plain-text client port fails
// at once with a TLS alert, and the member says why in its log.
func TestTLSClientOnPlainPort(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{})
	start := time.Now()
	_, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", m.Endpoint(), &tls.Config{InsecureSkipVerify: true})
	if err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Fatalf("TLS dial of a plain port: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the refusal took %v", d)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(m.Log(), "refused a TLS connection on a plain-text client port"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the refused TLS client:\n%s", m.LogTail(10))
		}
	}
	// Plain clients are unaffected.
	if _, err := m.Client(t).Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
}
