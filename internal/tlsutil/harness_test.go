package tlsutil

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// harness is a TLS echo server on 127.0.0.1: each accepted connection reads
// one line and answers "hello <CN>" with the verified client CN.
type harness struct {
	t    testing.TB
	ln   net.Listener
	addr string
	logs *observer.ObservedLogs

	wg        sync.WaitGroup
	closeOnce sync.Once
}

func startServer(t testing.TB, info *Info, opts ListenerOptions) *harness {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	lg := zap.New(core)
	info.Logger = lg
	cfg, err := info.ServerConfig()
	if err != nil {
		t.Fatalf("ServerConfig: %v", err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = lg
	}
	h := &harness{t: t, ln: NewListener(raw, cfg, opts), addr: raw.Addr().String(), logs: logs}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := h.ln.Accept()
			if err != nil {
				return
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				h.echo(c)
			}()
		}
	}()
	t.Cleanup(h.close)
	return h
}

func (h *harness) echo(c net.Conn) {
	defer c.Close()
	tc, ok := c.(*tls.Conn)
	if !ok {
		h.t.Errorf("Accept returned %T, want *tls.Conn", c)
		return
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		return
	}
	_, _ = c.Write([]byte("hello " + CommonName(tc.ConnectionState()) + "\n"))
}

// close stops the listener and waits for the echo goroutines; after it,
// every refusal has been logged.
func (h *harness) close() {
	h.closeOnce.Do(func() {
		if err := h.ln.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
		h.wg.Wait()
	})
}

// refusals are the logged "refused TLS connection" lines.
func (h *harness) refusals() []observer.LoggedEntry {
	return h.logs.FilterMessageSnippet("refused TLS connection").AllUntimed()
}

// waitRefusals waits until n refusal lines were logged.
func (h *harness) waitRefusals(n int) []observer.LoggedEntry {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := h.refusals(); len(r) >= n {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("want %d refusal lines, got %v", n, h.refusals())
	return nil
}

// exchange dials addr with the client config of info and returns the
// server's answer, the client's local address, and the first error.
func exchange(t testing.TB, addr string, info *Info) (answer, local string, err error) {
	t.Helper()
	cfg, cerr := info.ClientConfig()
	if cerr != nil {
		t.Fatalf("ClientConfig: %v", cerr)
	}
	return exchangeCfg(addr, cfg)
}

func exchangeCfg(addr string, cfg *tls.Config) (answer, local string, err error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", "", err
	}
	local = raw.LocalAddr().String()
	if cfg.ServerName == "" {
		// What tls.Dial does.
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	c := tls.Client(raw, cfg)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		return "", local, err
	}
	if _, err := c.Write([]byte("hi\n")); err != nil {
		return "", local, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), local, err
}
