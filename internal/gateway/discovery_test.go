package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cairn-db/cairn/internal/pki"
	"github.com/cairn-db/cairn/internal/srv/srvtest"
)

// tlsServer accepts TLS connections on 127.0.0.1 with kp's certificate and
// completes each handshake, until cleanup. It returns the port.
func tlsServer(t *testing.T, kp *pki.KeyPair) uint16 {
	t.Helper()
	cert, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// plainServer accepts TCP connections on 127.0.0.1 and closes them, until
// cleanup. It returns the port.
func plainServer(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// srvCluster is a discovery domain served by real listeners on 127.0.0.1:
//
//	_etcd-client-ssl._tcp.example.test:
//	  ok.example.test      priority 0 weight 30: certificate for example.test
//	  wrong.example.test   priority 0 weight 10: certificate for other.test only
//	  gone.example.test    priority 1 weight 0:  https, nothing listening
//	_etcd-client._tcp.example.test:
//	  plain.example.test   priority 0 weight 5:  http
//	_etcd-client-ssl-prod._tcp.example.test:
//	  ok.example.test      priority 2 weight 7
//
// all targets resolving to 127.0.0.1, both certificates signed by one CA.
type srvCluster struct {
	r      *net.Resolver
	caFile string
	ok     Endpoint
	wrong  Endpoint
	gone   Endpoint
	plain  Endpoint
}

func newSRVCluster(t *testing.T) *srvCluster {
	t.Helper()
	ca, err := pki.NewCA(pki.CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(host string) *pki.KeyPair {
		kp, err := pki.Issue(ca, pki.IssueOptions{Profile: pki.ProfileServer, Hosts: []string{host}})
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	okPort := tlsServer(t, issue("example.test"))
	wrongPort := tlsServer(t, issue("other.test"))
	plainPort := plainServer(t)
	// A listener closed again: nothing answers on its port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gonePort := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	srvRR := func(service string, pri, wei, port uint16, target string) string {
		return fmt.Sprintf("%s._tcp.example.test. 60 IN SRV %d %d %d %s", service, pri, wei, port, target)
	}
	zone := map[string][]string{
		"_etcd-client-ssl._tcp.example.test.": {
			srvRR("_etcd-client-ssl", 0, 30, okPort, "ok.example.test."),
			srvRR("_etcd-client-ssl", 0, 10, wrongPort, "wrong.example.test."),
			srvRR("_etcd-client-ssl", 1, 0, gonePort, "gone.example.test."),
		},
		"_etcd-client._tcp.example.test.": {
			srvRR("_etcd-client", 0, 5, plainPort, "plain.example.test."),
		},
		"_etcd-client-ssl-prod._tcp.example.test.": {
			srvRR("_etcd-client-ssl-prod", 2, 7, okPort, "ok.example.test."),
		},
	}
	for _, h := range []string{"ok", "wrong", "gone", "plain"} {
		name := h + ".example.test."
		zone[name] = []string{name + " 60 IN A 127.0.0.1"}
	}
	ep := func(target string, port, pri, wei uint16) Endpoint {
		return Endpoint{Addr: net.JoinHostPort(target, strconv.Itoa(int(port))), Priority: pri, Weight: wei}
	}
	return &srvCluster{
		r:      srvtest.Start(t, zone),
		caFile: caFile,
		ok:     ep("ok.example.test.", okPort, 0, 30),
		wrong:  ep("wrong.example.test.", wrongPort, 0, 10),
		gone:   ep("gone.example.test.", gonePort, 1, 0),
		plain:  ep("plain.example.test.", plainPort, 0, 5),
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sorted orders endpoints by address: Go's resolver shuffles records of
// one priority by weight.
func sorted(eps []Endpoint) []Endpoint {
	eps = slices.Clone(eps)
	slices.SortFunc(eps, func(a, b Endpoint) int { return strings.Compare(a.Addr, b.Addr) })
	return eps
}

func TestDiscoverSRVValidates(t *testing.T) {
	c := newSRVCluster(t)
	core, logs := observer.New(zap.InfoLevel)
	got, err := DiscoverSRV(testCtx(t), c.r, DiscoveryOptions{
		Domain: "example.test", TrustedCAFile: c.caFile, Logger: zap.New(core),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Only the endpoint whose certificate carries the domain survives,
	// with its SRV priority and weight.
	if want := []Endpoint{c.ok}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if logs.FilterMessage("discovered cluster from SRV").Len() != 1 {
		t.Fatalf("no discovery line: %v", logs.All())
	}
	dropped := logs.FilterMessage("dropped discovered SRV endpoints").All()
	if len(dropped) != 1 {
		t.Fatalf("dropped lines: %v", logs.All())
	}
	reasons := fmt.Sprint(dropped[0].ContextMap()["reasons"])
	for _, want := range []string{
		`"http://` + c.plain.Addr + `" is insecure`,
		`"https://` + c.wrong.Addr + `" failed TLS handshake`,
		"other.test",
		`"https://` + c.gone.Addr + `" failed TLS handshake`,
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %s do not contain %s", reasons, want)
		}
	}
	if strings.Contains(reasons, c.ok.Addr) {
		t.Errorf("the good endpoint is among the dropped: %s", reasons)
	}
}

func TestDiscoverSRVSystemRoots(t *testing.T) {
	// Without --trusted-ca-file the test CA is unknown: nothing is kept,
	// and ResolveEndpoints falls back to --endpoints, as etcd does.
	c := newSRVCluster(t)
	o := DiscoveryOptions{Domain: "example.test"}
	got, err := DiscoverSRV(testCtx(t), c.r, o)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want nothing kept", got, err)
	}
	core, logs := observer.New(zap.InfoLevel)
	o.Logger = zap.New(core)
	eps, err := ResolveEndpoints(testCtx(t), c.r, o, []string{"http://127.0.0.1:2379"})
	if err != nil {
		t.Fatal(err)
	}
	if want := plain("127.0.0.1:2379"); !slices.Equal(eps, want) {
		t.Fatalf("got %v, want the --endpoints fallback %v", eps, want)
	}
	if logs.FilterMessage("no usable endpoint discovered from SRV; using --endpoints").Len() != 1 {
		t.Fatalf("no fallback line: %v", logs.All())
	}
}

func TestDiscoverSRVInsecure(t *testing.T) {
	c := newSRVCluster(t)
	got, err := ResolveEndpoints(testCtx(t), c.r, DiscoveryOptions{Domain: "example.test", Insecure: true}, []string{"unused:1"})
	if err != nil {
		t.Fatal(err)
	}
	// Every record, unchecked, with its priority and weight.
	if want := sorted([]Endpoint{c.ok, c.wrong, c.gone, c.plain}); !slices.Equal(sorted(got), want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The https records come first, as srv.ClientRecords looks them up
	// first; the resolver orders each service by priority.
	if got[2] != c.gone || got[3] != c.plain {
		t.Fatalf("order %v", got)
	}
}

func TestDiscoverSRVServiceName(t *testing.T) {
	c := newSRVCluster(t)
	got, err := DiscoverSRV(testCtx(t), c.r, DiscoveryOptions{
		Domain: "example.test", ServiceName: "prod", TrustedCAFile: c.caFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Endpoint{{Addr: c.ok.Addr, Priority: 2, Weight: 7}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDiscoverSRVErrors(t *testing.T) {
	c := newSRVCluster(t)

	// Both lookups fail: the srv package's text, and no fallback.
	_, err := ResolveEndpoints(testCtx(t), c.r, DiscoveryOptions{Domain: "nothing.test"}, []string{"127.0.0.1:2379"})
	if err == nil || !strings.HasPrefix(err.Error(), "gateway: dns lookup errors: lookup _etcd-client-ssl._tcp.nothing.test") ||
		!strings.Contains(err.Error(), " and lookup _etcd-client._tcp.nothing.test") {
		t.Fatalf("error %v", err)
	}

	// A CA file that cannot be read stops the gateway.
	_, err = DiscoverSRV(testCtx(t), c.r, DiscoveryOptions{
		Domain: "example.test", TrustedCAFile: filepath.Join(t.TempDir(), "missing.pem"),
	})
	if err == nil || !strings.HasPrefix(err.Error(), "gateway: ") || !strings.Contains(err.Error(), "--trusted-ca-file") {
		t.Fatalf("error %v", err)
	}

	if _, err := DiscoverSRV(testCtx(t), c.r, DiscoveryOptions{}); err == nil {
		t.Fatal("empty domain accepted")
	}

	// A context cancelled while validating is an error, not "nothing
	// validated" (which would fall back to --endpoints).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := cancelOnIPLookup{Resolver: c.r, cancel: cancel}
	_, err = ResolveEndpoints(ctx, r, DiscoveryOptions{Domain: "example.test", TrustedCAFile: c.caFile}, []string{"127.0.0.1:2379"})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "gateway: validating https://") {
		t.Fatalf("error %v", err)
	}
}

// cancelOnIPLookup cancels the discovery's context when the first
// endpoint's address is looked up, after the SRV lookups succeeded.
type cancelOnIPLookup struct {
	*net.Resolver
	cancel context.CancelFunc
}

func (c cancelOnIPLookup) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	c.cancel()
	return c.Resolver.LookupIPAddr(ctx, host)
}

func TestResolveEndpointsWithoutDiscovery(t *testing.T) {
	// No domain: the resolver is not asked at all.
	got, err := ResolveEndpoints(testCtx(t), nil, DiscoveryOptions{}, []string{"http://10.0.0.1:2379", "10.0.0.2:2379"})
	if err != nil {
		t.Fatal(err)
	}
	if want := plain("10.0.0.1:2379", "10.0.0.2:2379"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ResolveEndpoints(testCtx(t), nil, DiscoveryOptions{}, []string{"no-port"}); err == nil {
		t.Fatal("bad --endpoints accepted")
	}
}
