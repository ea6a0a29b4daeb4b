package tlsutil

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// pki is the usual setup: one CA, a server certificate for 127.0.0.1.
type pki struct {
	ca     *testCA
	server *testLeaf
}

func newPKI(t testing.TB) *pki {
	ca := newCA(t, "ca")
	return &pki{ca: ca, server: ca.serverLeaf(t, "server")}
}

// serverInfo requires client certificates from p.ca.
func (p *pki) serverInfo() *Info {
	return &Info{CertFile: p.server.certFile, KeyFile: p.server.keyFile, TrustedCAFile: p.ca.file, ClientCertAuth: true}
}

// clientInfo trusts p.ca and presents leaf (none when nil).
func (p *pki) clientInfo(leaf *testLeaf) *Info {
	i := &Info{TrustedCAFile: p.ca.file}
	if leaf != nil {
		i.CertFile, i.KeyFile = leaf.certFile, leaf.keyFile
	}
	return i
}

func TestHandshakeSucceeds(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{})
	alice := p.ca.issue(t, leafOpts{cn: "alice"})

	for _, tc := range []struct {
		name   string
		client *Info
	}{
		{"TLS1.3", p.clientInfo(alice)},
		{"TLS1.2 with suite", &Info{
			TrustedCAFile: p.ca.file, CertFile: alice.certFile, KeyFile: alice.keyFile,
			MaxVersion: "TLS1.2", CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		}},
		{"client-cert-file overrides cert-file", &Info{
			TrustedCAFile: p.ca.file, CertFile: p.server.certFile, KeyFile: p.server.keyFile,
			ClientCertFile: alice.certFile, ClientKeyFile: alice.keyFile,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := exchange(t, h.addr, tc.client)
			if err != nil {
				t.Fatal(err)
			}
			if got != "hello alice" {
				t.Fatalf("answer %q, want %q", got, "hello alice")
			}
		})
	}
	h.close()
	if r := h.refusals(); len(r) != 0 {
		t.Fatalf("unexpected refusals: %v", r)
	}
}

// TestTrustedCAAloneRequiresClientCert: etcd's rule, --trusted-ca-file
// without --client-cert-auth still requires a verified client certificate.
func TestTrustedCAAloneRequiresClientCert(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	si.ClientCertAuth = false
	cfg, err := si.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
		t.Fatalf("ClientAuth = %v, ClientCAs set = %v", cfg.ClientAuth, cfg.ClientCAs != nil)
	}
	h := startServer(t, si, ListenerOptions{})
	if _, _, err := exchange(t, h.addr, p.clientInfo(nil)); err == nil {
		t.Fatal("client without certificate admitted")
	}

	// And without either, no client certificate is asked for.
	plain := &Info{CertFile: p.server.certFile, KeyFile: p.server.keyFile}
	cfg, err = plain.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.NoClientCert {
		t.Fatalf("ClientAuth = %v without CA or client-cert-auth", cfg.ClientAuth)
	}
	h2 := startServer(t, plain, ListenerOptions{})
	if got, _, err := exchange(t, h2.addr, p.clientInfo(nil)); err != nil || got != "hello " {
		t.Fatalf("answer %q, err %v", got, err)
	}
}

// TestRefusals: each refused handshake fails on the client and is logged
// as exactly one line with the remote address, the subject and the reason.
func TestRefusals(t *testing.T) {
	p := newPKI(t)
	other := newCA(t, "other")
	revokedLeaf := p.ca.issue(t, leafOpts{cn: "revoked"})
	crlFile := writeFile(t, "ca.crl", p.ca.crl(t, revokedLeaf.serial))

	for _, tc := range []struct {
		name    string
		server  func(*Info)
		opts    ListenerOptions
		client  func(t *testing.T) *testLeaf
		reason  string
		subject string // substring of the subject in the line; "" for none
		is      error  // sentinel the reason matches, if any
	}{
		{
			name:   "no client certificate",
			client: func(t *testing.T) *testLeaf { return nil },
			reason: "no client certificate",
		},
		{
			name:    "certificate from another CA",
			client:  func(t *testing.T) *testLeaf { return other.issue(t, leafOpts{cn: "mallory"}) },
			reason:  "certificate signed by unknown authority",
			subject: "CN=mallory",
		},
		{
			name: "expired client certificate",
			client: func(t *testing.T) *testLeaf {
				return p.ca.issue(t, leafOpts{cn: "old", notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
			},
			reason:  "certificate has expired",
			subject: "CN=old",
		},
		{
			name:    "revoked client certificate",
			server:  func(i *Info) { i.CRLFile = crlFile },
			client:  func(t *testing.T) *testLeaf { return revokedLeaf },
			reason:  fmt.Sprintf("client certificate revoked (serial %s)", revokedLeaf.serial),
			subject: "CN=revoked",
			is:      ErrRevoked,
		},
		{
			name:    "CN not allowed",
			server:  func(i *Info) { i.AllowedCNs = []string{"alice", "carol"} },
			client:  func(t *testing.T) *testLeaf { return p.ca.issue(t, leafOpts{cn: "bob"}) },
			reason:  `CN "bob" not allowed`,
			subject: "CN=bob",
			is:      ErrCNNotAllowed,
		},
		{
			name:   "hostname not allowed",
			server: func(i *Info) { i.AllowedHostnames = []string{"other.example.com"} },
			client: func(t *testing.T) *testLeaf {
				return p.ca.issue(t, leafOpts{cn: "c1", dns: []string{"client.example.com"}})
			},
			reason:  "not valid for any allowed hostname",
			subject: "CN=c1",
			is:      ErrHostnameNotAllowed,
		},
		{
			name:   "peer SAN does not match remote address",
			server: func(i *Info) { i.Side = SidePeer },
			opts:   ListenerOptions{CheckClientSAN: true},
			client: func(t *testing.T) *testLeaf {
				return p.ca.issue(t, leafOpts{cn: "member2", ips: []net.IP{net.ParseIP("10.0.0.99")}})
			},
			reason:  "remote address 127.0.0.1 matches none of the client certificate's SANs",
			subject: "CN=member2",
			is:      ErrSANMismatch,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			si := p.serverInfo()
			if tc.server != nil {
				tc.server(si)
			}
			h := startServer(t, si, tc.opts)
			_, local, err := exchange(t, h.addr, p.clientInfo(tc.client(t)))
			if err == nil {
				t.Fatal("handshake succeeded; want refusal")
			}
			h.waitRefusals(1)
			h.close()
			lines := h.refusals()
			if len(lines) != 1 {
				t.Fatalf("want exactly 1 refusal line, got %d: %v", len(lines), lines)
			}
			line := lines[0]
			t.Log(line.Message)
			if line.Level != zapcore.WarnLevel {
				t.Errorf("level %v, want warn", line.Level)
			}
			want := "refused TLS connection from " + local
			if !strings.HasPrefix(line.Message, want) {
				t.Errorf("line %q does not start with %q", line.Message, want)
			}
			if !strings.Contains(line.Message, tc.reason) {
				t.Errorf("line %q does not give reason %q", line.Message, tc.reason)
			}
			if tc.subject != "" && !strings.Contains(line.Message, tc.subject) {
				t.Errorf("line %q does not name subject %q", line.Message, tc.subject)
			}
			if tc.subject == "" && strings.Contains(line.Message, "client certificate \"") {
				t.Errorf("line %q names a subject", line.Message)
			}
			if got := line.ContextMap()["remote-addr"]; got != local {
				t.Errorf("remote-addr field %v, want %s", got, local)
			}
		})
	}
}

// TestVerifyConnectionErrors checks the sentinels behind the refusals, as
// a gRPC server using ServerConfig directly would see them.
func TestVerifyConnectionErrors(t *testing.T) {
	p := newPKI(t)
	revoked := p.ca.issue(t, leafOpts{cn: "bob"})
	si := p.serverInfo()
	si.CRLFile = writeFile(t, "ca.crl", p.ca.crl(t, revoked.serial))
	cfg, err := si.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs := tls.ConnectionState{PeerCertificates: nil}
	if err := cfg.VerifyConnection(cs); err != nil {
		t.Fatalf("no certificate: %v", err)
	}
	cs.PeerCertificates = []*x509.Certificate{revoked.cert}
	cs.VerifiedChains = [][]*x509.Certificate{{revoked.cert, p.ca.cert}}
	if err := cfg.VerifyConnection(cs); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	// The CRL going away fails closed.
	if err := os.Remove(si.CRLFile); err != nil {
		t.Fatal(err)
	}
	ok := p.ca.issue(t, leafOpts{cn: "alice"})
	cs.PeerCertificates = []*x509.Certificate{ok.cert}
	cs.VerifiedChains = [][]*x509.Certificate{{ok.cert, p.ca.cert}}
	if err := cfg.VerifyConnection(cs); !errors.Is(err, ErrCRLUnavailable) || !strings.Contains(err.Error(), "--client-crl-file") {
		t.Fatalf("missing CRL: %v", err)
	}
}

func TestAllowedHostnameAccepted(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	si.AllowedHostnames = []string{"nope.example.com", "client.example.com"}
	h := startServer(t, si, ListenerOptions{})
	c := p.ca.issue(t, leafOpts{cn: "c1", dns: []string{"client.example.com"}})
	if got, _, err := exchange(t, h.addr, p.clientInfo(c)); err != nil || got != "hello c1" {
		t.Fatalf("answer %q, err %v", got, err)
	}
}

func TestAllowedCNAccepted(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	si.AllowedCNs = []string{"alice"}
	h := startServer(t, si, ListenerOptions{})
	c := p.ca.issue(t, leafOpts{cn: "alice"})
	if got, _, err := exchange(t, h.addr, p.clientInfo(c)); err != nil || got != "hello alice" {
		t.Fatalf("answer %q, err %v", got, err)
	}
}

// TestPeerSANCheck covers etcd's peer-port rule and its switch.
func TestPeerSANCheck(t *testing.T) {
	p := newPKI(t)
	fake := fakeResolver{
		ptr:  map[string][]string{"127.0.0.1": {"member1.example.com."}},
		host: map[string][]string{"member3.example.com": {"127.0.0.1"}},
	}
	for _, tc := range []struct {
		name string
		opts leafOpts
		skip bool
		ok   bool
	}{
		{"no SANs", leafOpts{cn: "m"}, false, true},
		{"IP SAN matches", leafOpts{cn: "m", ips: []net.IP{net.ParseIP("127.0.0.1")}}, false, true},
		{"IP SAN differs", leafOpts{cn: "m", ips: []net.IP{net.ParseIP("10.1.1.1")}}, false, false},
		{"IP SAN differs, skip", leafOpts{cn: "m", ips: []net.IP{net.ParseIP("10.1.1.1")}}, true, true},
		{"DNS SAN by reverse lookup", leafOpts{cn: "m", dns: []string{"member1.example.com"}}, false, true},
		{"DNS wildcard by reverse lookup", leafOpts{cn: "m", dns: []string{"*.example.com"}}, false, true},
		{"DNS SAN by forward lookup", leafOpts{cn: "m", dns: []string{"member3.example.com"}}, false, true},
		{"DNS SAN unresolvable", leafOpts{cn: "m", dns: []string{"member9.example.com"}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			si := p.serverInfo()
			si.Side = SidePeer
			si.SkipClientSANVerify = tc.skip
			opts := si.ListenerOptions()
			if opts.CheckClientSAN == tc.skip {
				t.Fatalf("CheckClientSAN = %v with SkipClientSANVerify = %v", opts.CheckClientSAN, tc.skip)
			}
			opts.Resolver = fake
			h := startServer(t, si, opts)
			_, _, err := exchange(t, h.addr, p.clientInfo(p.ca.issue(t, tc.opts)))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
	// The client side never checks SANs against addresses (etcd's client
	// listener does not).
	if (&Info{}).ListenerOptions().CheckClientSAN {
		t.Fatal("client side checks SANs")
	}
}

type fakeResolver struct{ ptr, host map[string][]string }

func (f fakeResolver) LookupAddr(_ context.Context, a string) ([]string, error) {
	if n, ok := f.ptr[a]; ok {
		return n, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: a, IsNotFound: true}
}

func (f fakeResolver) LookupHost(_ context.Context, h string) ([]string, error) {
	if a, ok := f.host[h]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
}

// TestPlaintextHTTP: an http:// client on the TLS port gets net/http's
// answer at once, not a hang until the handshake timeout.
func TestPlaintextHTTP(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{HandshakeTimeout: 30 * time.Second})

	start := time.Now()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != httpsOnlyAnswer {
		t.Fatalf("answer %q, want %q", got, httpsOnlyAnswer)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("answer took %v", d)
	}

	// And through net/http, as curl http:// would see it.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + h.addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server.") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}

	lines := h.waitRefusals(2)
	if !strings.Contains(lines[0].Message, "plaintext HTTP request") {
		t.Fatalf("line %q", lines[0].Message)
	}
}

// TestPlaintextGRPCPreface: a cleartext HTTP/2 client (gRPC without TLS
// credentials) is closed at once.
func TestPlaintextGRPCPreface(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{HandshakeTimeout: 30 * time.Second})
	for _, tc := range []struct{ send, reason string }{
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "plaintext HTTP/2 (gRPC) preface"},
		{"\x00\x01\x02\x03\x04garbage", `not a TLS handshake (first bytes "\x00\x01\x02\x03\x04")`},
	} {
		start := time.Now()
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if len(got) != 0 {
			t.Errorf("%q: got %q, want nothing", tc.send, got)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%q: connection not closed: %v", tc.send, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%q: closed after %v", tc.send, d)
		}
	}
	lines := h.waitRefusals(2)
	for i, want := range []string{"plaintext HTTP/2 (gRPC) preface", "not a TLS handshake"} {
		if !strings.Contains(lines[i].Message, want) {
			t.Errorf("line %d %q, want %q", i, lines[i].Message, want)
		}
	}
}

// TestHandshakeTimeout: a client that connects and says nothing is cut off
// after the timeout, and meanwhile other clients are served.
func TestHandshakeTimeout(t *testing.T) {
	p := newPKI(t)
	const timeout = time.Second
	h := startServer(t, p.serverInfo(), ListenerOptions{HandshakeTimeout: timeout})

	var silent []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	alice := p.ca.issue(t, leafOpts{cn: "alice"})
	start := time.Now()
	if got, _, err := exchange(t, h.addr, p.clientInfo(alice)); err != nil || got != "hello alice" {
		t.Fatalf("answer %q, err %v", got, err)
	}
	if d := time.Since(start); d >= timeout {
		t.Fatalf("good client waited %v behind silent ones", d)
	}
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("silent connection got data")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("silent connection not closed by the server")
		}
	}
	lines := h.waitRefusals(3)
	if !strings.Contains(lines[0].Message, "no TLS handshake within 1s") {
		t.Fatalf("line %q", lines[0].Message)
	}
}

// TestCloseEndsEverything: Close returns with handshakes pending and
// handshaked connections not accepted; goleak (TestMain) checks that no
// goroutine is left.
func TestCloseEndsEverything(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	cfg, err := si.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, cfg, ListenerOptions{})

	// One silent connection (handshake pending) and one handshaked but
	// never accepted.
	silent, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cc, err := p.clientInfo(p.ca.issue(t, leafOpts{cn: "alice"})).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	done, err := tls.Dial("tcp", raw.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer done.Close()

	closed := make(chan error, 1)
	go func() { closed <- ln.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
	if err := ln.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, c := range []net.Conn{silent, done} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection still open after Close")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open after Close")
		}
	}
}

// TestServerCertRotation: new files on disk are served by new handshakes.
func TestServerCertRotation(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	h := startServer(t, si, ListenerOptions{})
	alice := p.ca.issue(t, leafOpts{cn: "alice"})
	cc, err := p.clientInfo(alice).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	serverCN := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", h.addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := serverCN(); got != "server" {
		t.Fatalf("server CN %q", got)
	}

	next := p.ca.serverLeaf(t, "server-rotated")
	rewrite(t, si.CertFile, next.certPEM)
	rewrite(t, si.KeyFile, next.keyPEM)
	if got := serverCN(); got != "server-rotated" {
		t.Fatalf("after rotation server CN %q", got)
	}

	// A rotation caught halfway (new certificate, old key) keeps the last
	// good pair and says so once.
	third := p.ca.serverLeaf(t, "server-third")
	rewrite(t, si.CertFile, third.certPEM)
	for range 3 {
		if got := serverCN(); got != "server-rotated" {
			t.Fatalf("half-rotated: server CN %q", got)
		}
	}
	if n := h.logs.FilterMessageSnippet("cannot reload certificate").Len(); n != 1 {
		t.Fatalf("%d reload warnings, want 1", n)
	}
	rewrite(t, si.KeyFile, third.keyPEM)
	if got := serverCN(); got != "server-third" {
		t.Fatalf("after completing rotation server CN %q", got)
	}
}

// TestClientCertRotation: the dialing side re-reads its certificate too.
func TestClientCertRotation(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{})
	ci := p.clientInfo(p.ca.issue(t, leafOpts{cn: "alice"}))
	cc, err := ci.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := exchangeCfg(h.addr, cc); err != nil || got != "hello alice" {
		t.Fatalf("answer %q, err %v", got, err)
	}
	bob := p.ca.issue(t, leafOpts{cn: "bob"})
	rewrite(t, ci.CertFile, bob.certPEM)
	rewrite(t, ci.KeyFile, bob.keyPEM)
	if got, _, err := exchangeCfg(h.addr, cc); err != nil || got != "hello bob" {
		t.Fatalf("after rotation answer %q, err %v", got, err)
	}
}

// rewrite replaces a file in place and moves its mtime, as an operator's
// copy would (file systems with coarse timestamps could otherwise keep it).
func rewrite(t *testing.T, path string, data []byte) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	later := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// TestHTTP2ALPN: net/http serves HTTP/2 over the listener, gRPC-style
// clients get "h2", and handlers see the client CN.
func TestHTTP2ALPN(t *testing.T) {
	p := newPKI(t)
	si := p.serverInfo()
	cfg, err := si.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, cfg, ListenerOptions{})
	srv := &http.Server{
		TLSConfig: cfg,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", r.Proto, CommonName(*r.TLS))
		}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()

	ci := p.clientInfo(p.ca.issue(t, leafOpts{cn: "alice"}))
	cc, err := ci.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	// What a gRPC client does: offer only h2.
	h2cfg := cc.Clone()
	h2cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", raw.Addr().String(), h2cfg)
	if err != nil {
		t.Fatal(err)
	}
	if proto := c.ConnectionState().NegotiatedProtocol; proto != "h2" {
		t.Errorf("negotiated %q, want h2", proto)
	}
	c.Close()

	for _, tc := range []struct {
		force bool
		want  string
	}{{true, "HTTP/2.0 alice"}, {false, "HTTP/1.1 alice"}} {
		tr := &http.Transport{TLSClientConfig: cc.Clone(), ForceAttemptHTTP2: tc.force}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + raw.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if string(body) != tc.want {
			t.Errorf("body %q, want %q", body, tc.want)
		}
	}
}

// TestClientConfigDefaults: the dialing side's settings.
func TestClientConfigDefaults(t *testing.T) {
	p := newPKI(t)
	empty := &Info{}
	cfg, err := empty.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs != nil || cfg.GetClientCertificate != nil || cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify {
		t.Fatalf("empty Info: %+v", cfg)
	}
	i := &Info{TrustedCAFile: p.ca.file, ServerName: "srv.example.com", InsecureSkipVerify: true, MinVersion: "TLS1.3"}
	if cfg, err = i.ClientConfig(); err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || cfg.ServerName != "srv.example.com" || !cfg.InsecureSkipVerify || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("config: %+v", cfg)
	}
	sc, err := p.serverInfo().ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.MinVersion != tls.VersionTLS12 || len(sc.Certificates) != 0 || sc.GetCertificate == nil {
		t.Fatalf("server config: %+v", sc)
	}
	if _, err := (&Info{}).ServerConfig(); !errors.Is(err, ErrNoServerCert) || !strings.Contains(err.Error(), "--cert-file") {
		t.Fatalf("ServerConfig without cert: %v", err)
	}
}

// TestClientSideAllowedCN: as in etcd, the allowed CNs also bind the
// server's certificate when dialing (peer to peer).
func TestClientSideAllowedCN(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{})
	alice := p.ca.issue(t, leafOpts{cn: "alice"})
	ci := p.clientInfo(alice)
	ci.AllowedCNs = []string{"someone-else"}
	if _, _, err := exchange(t, h.addr, ci); !errors.Is(err, ErrCNNotAllowed) {
		t.Fatalf("err %v, want ErrCNNotAllowed", err)
	}
	ci.AllowedCNs = []string{"server"}
	if got, _, err := exchange(t, h.addr, ci); err != nil || got != "hello alice" {
		t.Fatalf("answer %q, err %v", got, err)
	}
	// Without verification there is nothing to check, so nothing is.
	ci.AllowedCNs = []string{"someone-else"}
	ci.InsecureSkipVerify = true
	if got, _, err := exchange(t, h.addr, ci); err != nil || got != "hello alice" {
		t.Fatalf("insecure: answer %q, err %v", got, err)
	}
}

func TestRefusalLogRateLimit(t *testing.T) {
	r := newRefusalLog(nil, 2, time.Second)
	now := time.Unix(1000, 0)
	var got []string
	for i := range 6 {
		ok, skipped := r.allow("10.0.0.1", now.Add(time.Duration(i)*100*time.Millisecond))
		got = append(got, fmt.Sprint(ok, skipped))
	}
	// Two in a row, then limited.
	want := "[true 0 true 0 false 0 false 0 false 0 false 0]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	// After a second one more line, counting the four skipped.
	if ok, skipped := r.allow("10.0.0.1", now.Add(1500*time.Millisecond)); !ok || skipped != 4 {
		t.Fatalf("after refill: %v %d", ok, skipped)
	}
	// Other addresses are not affected.
	if ok, _ := r.allow("10.0.0.2", now); !ok {
		t.Fatal("other IP limited")
	}
	unlimited := newRefusalLog(nil, -1, time.Second)
	for range 100 {
		if ok, _ := unlimited.allow("x", now); !ok {
			t.Fatal("negative burst limited")
		}
	}
}

// TestRefusalLogLine checks the limited lines end up saying how many were
// skipped, through a real listener.
func TestRefusalLogLine(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{LogBurst: 1, LogEvery: 200 * time.Millisecond})
	for range 3 {
		if _, _, err := exchange(t, h.addr, p.clientInfo(nil)); err == nil {
			t.Fatal("admitted")
		}
	}
	time.Sleep(250 * time.Millisecond)
	if _, _, err := exchange(t, h.addr, p.clientInfo(nil)); err == nil {
		t.Fatal("admitted")
	}
	lines := h.waitRefusals(2)
	h.close()
	if len(h.refusals()) != 2 {
		t.Fatalf("lines %v", h.refusals())
	}
	if !strings.Contains(lines[1].Message, "(2 more refused from 127.0.0.1 not logged)") {
		t.Fatalf("second line %q", lines[1].Message)
	}
}

// TestEOFIsQuiet: a probe that connects and leaves is logged at debug
// level only.
func TestEOFIsQuiet(t *testing.T) {
	p := newPKI(t)
	h := startServer(t, p.serverInfo(), ListenerOptions{})
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	lines := h.waitRefusals(1)
	if lines[0].Level != zapcore.DebugLevel {
		t.Fatalf("level %v for %q", lines[0].Level, lines[0].Message)
	}
}

// TestAcceptedConnIsUsable: a read on the accepted conn sees the client's
// bytes (the handshake did not eat them), as cmux's sniffing needs.
func TestAcceptedConnIsUsable(t *testing.T) {
	p := newPKI(t)
	cfg, err := p.serverInfo().ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, cfg, ListenerOptions{})
	defer ln.Close()
	cc, _ := p.clientInfo(p.ca.issue(t, leafOpts{cn: "a"})).ClientConfig()
	go func() {
		c, err := tls.Dial("tcp", raw.Addr().String(), cc)
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
		_, _ = c.Read(make([]byte, 1))
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	if !tc.ConnectionState().HandshakeComplete {
		t.Fatal("handshake not complete")
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "PRI * HTTP/2.0\r\n" {
		t.Fatalf("read %q, %v", line, err)
	}
}

// TestCRLRotation: a CRL replaced on disk applies to new handshakes.
func TestCRLRotation(t *testing.T) {
	p := newPKI(t)
	alice := p.ca.issue(t, leafOpts{cn: "alice"})
	si := p.serverInfo()
	si.CRLFile = writeFile(t, "ca.crl", p.ca.crl(t))
	h := startServer(t, si, ListenerOptions{})
	if got, _, err := exchange(t, h.addr, p.clientInfo(alice)); err != nil || got != "hello alice" {
		t.Fatalf("answer %q, err %v", got, err)
	}
	rewrite(t, si.CRLFile, p.ca.crl(t, alice.serial))
	if _, _, err := exchange(t, h.addr, p.clientInfo(alice)); err == nil {
		t.Fatal("revoked certificate admitted after CRL update")
	}
	lines := h.waitRefusals(1)
	if !strings.Contains(lines[0].Message, "client certificate revoked") {
		t.Fatalf("line %q", lines[0].Message)
	}
}
