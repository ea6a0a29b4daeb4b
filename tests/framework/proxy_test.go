package framework

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// echoServer accepts connections on 127.0.0.1 and echoes every line back;
// it is closed at cleanup.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
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
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes line and reads it back within d.
func roundTrip(c net.Conn, r *bufio.Reader, line string, d time.Duration) (string, error) {
	if err := c.SetDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func dialProxy(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// dialAndRoundTrip dials p and round-trips line; a reset may surface at the
// dial or at the read.
func dialAndRoundTrip(p *Proxy, line string) (string, error) {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return "", err
	}
	defer c.Close()
	return roundTrip(c, bufio.NewReader(c), line, 10*time.Second)
}

func TestProxyPassesRefusesAndStalls(t *testing.T) {
	p := NewProxy(t, 0, echoServer(t))
	c, r := dialProxy(t, p)
	if got, err := roundTrip(c, r, "hello", 10*time.Second); err != nil || got != "hello" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}

	// Stall: a line sent now is held, not lost, and arrives once the
	// proxy passes again.
	p.SetMode(ProxyStall)
	if got, err := roundTrip(c, r, "held", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a stalled proxy carried %q, %v", got, err)
	}
	stalled, sr := dialProxy(t, p) // a new connection is accepted but carries nothing
	if got, err := roundTrip(stalled, sr, "new", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a new connection through a stalled proxy carried %q, %v", got, err)
	}
	p.SetMode(ProxyPass)
	for _, conn := range []net.Conn{c, stalled} {
		if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("after the stall: %q, %v; want the held line", got, err)
	}
	if got, err := sr.ReadString('\n'); err != nil || got != "new\n" {
		t.Fatalf("the connection made while stalled: %q, %v", got, err)
	}

	// Refuse: the open connection is reset and so is a new one.
	p.SetMode(ProxyRefuse)
	if got, err := roundTrip(c, r, "after refuse", 10*time.Second); err == nil {
		t.Fatalf("a connection survived ProxyRefuse: %q", got)
	}
	if got, err := dialAndRoundTrip(p, "refused"); err == nil {
		t.Fatalf("a new connection through a refusing proxy carried %q", got)
	}

	p.SetMode(ProxyPass)
	c3, r3 := dialProxy(t, p)
	if got, err := roundTrip(c3, r3, "again", 10*time.Second); err != nil || got != "again" {
		t.Fatalf("after healing: %q, %v", got, err)
	}
	if p.Mode() != ProxyPass {
		t.Fatalf("Mode() = %v", p.Mode())
	}
}

func TestProxyToDownTargetAndClose(t *testing.T) {
	// A reserved port nobody listens on (FreePort never hands out a port
	// the kernel could give the proxy's own listener).
	down := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	p, err := StartProxy(0, down)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dialAndRoundTrip(p, "x"); err == nil {
		t.Fatalf("a proxy to a closed port carried %q", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		c.Close()
		t.Fatal("a closed proxy still accepts connections")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
