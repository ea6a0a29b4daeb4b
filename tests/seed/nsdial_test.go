package seed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// probeTimeout bounds one connection or request the test makes itself.
const probeTimeout = 10 * time.Second

// nsDial opens a TCP connection to addr (an IP literal and port) from
// inside network namespace ns, so that the test process itself can reach
// the guide's addresses.
func nsDial(ctx context.Context, ns, addr string) (conn net.Conn, err error) {
	nerr := inNamespace(ns, func() {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	})
	if nerr != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, nerr
	}
	return conn, err
}

// inNamespace runs fn on a thread inside network namespace ns. A network
// namespace belongs to a thread, and a socket keeps the namespace it was
// made in, so fn may dial or listen and hand the socket to any goroutine.
// The goroutine locks its thread, moves it into ns, runs fn, and moves it
// back before unlocking it. Should moving back fail, the thread stays
// locked and the runtime ends it with the goroutine (or, for the main
// thread, parks it), so no other goroutine runs in ns. The thread may be
// the main one, which `ip netns pids` reports as the process's namespace:
// no fn may be under way while a namespace is deleted.
func inNamespace(ns string, fn func()) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := runIn(ns, fn)
		if back {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

// runIn runs fn in namespace ns on the current, locked thread and reports
// whether the thread is back in its own namespace.
func runIn(ns string, fn func()) (back bool, err error) {
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return true, err
	}
	defer own.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("setns %s: %w", ns, err)
	}
	fn()
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		return false, fmt.Errorf("setns back from %s: %w", ns, err)
	}
	return true, nil
}

// nsHTTPClient returns an HTTP client whose connections start in
// namespace ns and, for https URLs, use tlsConfig.
func nsHTTPClient(ns string, tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: probeTimeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return nsDial(ctx, ns, addr)
			},
			TLSClientConfig:   tlsConfig,
			DisableKeepAlives: true,
		},
	}
}

// nsServerCert makes a TLS handshake with addr from namespace ns, without
// verifying or presenting a certificate, and returns the certificate the
// server presented.
func nsServerCert(t testing.TB, ns, addr string) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	raw, err := nsDial(ctx, ns, addr)
	if err != nil {
		t.Fatalf("from %s: dial %s: %v", ns, addr, err)
	}
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("from %s: TLS handshake with %s: %v", ns, addr, err)
	}
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		t.Fatalf("from %s: %s presented no certificate", ns, addr)
	}
	return certs[0]
}

// tlsConfig trusts the CA in caFile and presents the pair certFile/keyFile
// when certFile is not "".
func tlsConfig(t testing.TB, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("%s holds no PEM certificate", caFile)
	}
	cfg := &tls.Config{RootCAs: pool}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}
