package framework

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ProxyMode says what a Proxy does with the traffic it carries.
type ProxyMode int

const (
	// ProxyPass forwards every byte both ways (the default).
	ProxyPass ProxyMode = iota
	// ProxyRefuse resets every open connection and resets each new one as
	// soon as it is accepted: the target looks down, and the dialer learns
	// it at once.
	ProxyRefuse
	// ProxyStall forwards nothing: open and new connections stay open but
	// carry no byte, as when packets are dropped; TCP backpressure blocks
	// the writers. Back in ProxyPass, the bytes held flow on in order, so
	// no stream is ever corrupted.
	ProxyStall
)

func (m ProxyMode) String() string {
	switch m {
	case ProxyPass:
		return "pass"
	case ProxyRefuse:
		return "refuse"
	case ProxyStall:
		return "stall"
	}
	return "ProxyMode(" + strconv.Itoa(int(m)) + ")"
}

// proxyDialTimeout bounds the proxy's dial of its target.
const proxyDialTimeout = 2 * time.Second

// Proxy is a TCP proxy from a 127.0.0.1 port to a target address that can
// cut the traffic it carries, to inject network faults: put one in front of
// a member's peer port (MemberConfig.AdvertisePeerPort) and every connection
// the other members open to that member goes through it. Its methods are
// safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup // the accept loop and every connection's goroutines

	mu struct {
		sync.Mutex
		mode   ProxyMode               // protected by mu
		open   chan struct{}           // protected by mu; closed while mode is ProxyPass
		conns  map[*proxyConn]struct{} // protected by mu
		closed bool                    // protected by mu
	}
}

// proxyConn is one accepted connection and its connection to the target.
type proxyConn struct {
	in, out   net.Conn
	done      chan struct{} // closed by close
	closeOnce sync.Once
}

// close closes both sides; with reset, the accepted side is reset (RST)
// rather than shut down cleanly.
func (c *proxyConn) close(reset bool) {
	c.closeOnce.Do(func() {
		if reset {
			if tc, ok := c.in.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		c.in.Close()
		if c.out != nil {
			c.out.Close()
		}
		close(c.done)
	})
}

// NewProxy starts a proxy listening on 127.0.0.1:port (0: any free port)
// and forwarding to target (host:port); it is closed at the test's cleanup.
func NewProxy(t testing.TB, port int, target string) *Proxy {
	t.Helper()
	p, err := StartProxy(port, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// StartProxy is NewProxy without a test: the caller closes the proxy.
func StartProxy(port int, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("framework: proxy to %s: %w", target, err)
	}
	p := &Proxy{ln: ln, target: target}
	p.mu.open = make(chan struct{})
	close(p.mu.open)
	p.mu.conns = make(map[*proxyConn]struct{})
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address the proxy listens on, 127.0.0.1:<port>.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the port the proxy listens on.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Mode returns the current mode.
func (p *Proxy) Mode() ProxyMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.mode
}

// SetMode switches the proxy to mode. Entering ProxyRefuse resets every
// open connection; entering ProxyStall holds every byte from now on;
// entering ProxyPass lets held bytes flow again.
func (p *Proxy) SetMode(mode ProxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || p.mu.mode == mode {
		return
	}
	if p.mu.mode == ProxyPass {
		p.mu.open = make(chan struct{}) // stop forwarding
	}
	p.mu.mode = mode
	switch mode {
	case ProxyPass:
		close(p.mu.open)
	case ProxyRefuse:
		for c := range p.mu.conns {
			c.close(true)
			delete(p.mu.conns, c)
		}
	}
}

// Close stops the proxy: it closes the listener and every connection, and
// waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.mu.closed {
		p.mu.Unlock()
		return nil
	}
	p.mu.closed = true
	err := p.ln.Close()
	for c := range p.mu.conns {
		c.close(false)
		delete(p.mu.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE; try again
			continue
		}
		c := &proxyConn{in: in, done: make(chan struct{})}
		if !p.register(c) {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// register tracks c, or resets it when the proxy refuses or is closed.
func (p *Proxy) register(c *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || p.mu.mode == ProxyRefuse {
		c.close(true)
		return false
	}
	p.mu.conns[c] = struct{}{}
	return true
}

func (p *Proxy) unregister(c *proxyConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.mu.conns, c)
}

// gate returns a channel closed while bytes may flow.
func (p *Proxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.open
}

// waitOpen blocks until bytes may flow; it reports false once c is closed.
func (p *Proxy) waitOpen(c *proxyConn) bool {
	select {
	case <-p.gate():
		return true
	case <-c.done:
		return false
	}
}

// serve dials the target once bytes may flow and copies both ways until
// either side ends.
func (p *Proxy) serve(c *proxyConn) {
	defer p.wg.Done()
	defer p.unregister(c)
	if !p.waitOpen(c) {
		return
	}
	out, err := net.DialTimeout("tcp", p.target, proxyDialTimeout)
	if err != nil {
		c.close(true) // the target is down: so is the proxy, to the dialer
		return
	}
	p.mu.Lock()
	select {
	case <-c.done: // reset while dialing
		p.mu.Unlock()
		out.Close()
		return
	default:
		c.out = out
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.copy(c, out, c.in) }()
	go func() { defer wg.Done(); p.copy(c, c.in, out) }()
	wg.Wait()
}

// copy forwards src to dst while the gate is open; it closes c when either
// side fails or ends.
func (p *Proxy) copy(c *proxyConn, dst io.Writer, src io.Reader) {
	defer c.close(false)
	buf := make([]byte, 32<<10)
	for {
		if !p.waitOpen(c) { // stalled: read nothing, so the sender backs off
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitOpen(c) { // stalled while reading: hold the bytes
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
