package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
)

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("gateway: closed")

// Default values of Options.
const (
	DefaultRetryDelay  = time.Minute
	DefaultDialTimeout = 5 * time.Second
)

// Options configure a Proxy.
type Options struct {
	// Endpoints are the upstreams connections are proxied to, chosen by
	// SRV priority and weight (see the package comment); those without a
	// weight are taken round robin in this order. Required.
	Endpoints []Endpoint
	// RetryDelay is how long a failed endpoint is skipped before it is
	// tried again. Default DefaultRetryDelay.
	RetryDelay time.Duration
	// DialTimeout bounds one dial to an endpoint. Default
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Logger receives one line per failed endpoint and per client
	// connection closed for want of a live endpoint. Default: no logging.
	Logger *zap.Logger

	// intn returns a uniform random number in [0, n) for the weighted
	// choice; called under Proxy.mu. Tests set it to be deterministic.
	// Default rand.IntN.
	intn func(n int) int
}

// EnsureDefaults fills in the zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.RetryDelay == 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.intn == nil {
		o.intn = rand.IntN
	}
}

// Validate reports a configuration the proxy cannot run with.
func (o *Options) Validate() error {
	if len(o.Endpoints) == 0 {
		return errors.New("gateway: no endpoints")
	}
	for _, ep := range o.Endpoints {
		if ep.Addr == "" {
			return errors.New("gateway: endpoint with an empty address")
		}
	}
	if o.RetryDelay < 0 {
		return fmt.Errorf("gateway: negative retry delay %v", o.RetryDelay)
	}
	if o.DialTimeout < 0 {
		return fmt.Errorf("gateway: negative dial timeout %v", o.DialTimeout)
	}
	return nil
}

// Proxy is a running gateway. Its methods are safe for concurrent use.
type Proxy struct {
	opts   Options
	ln     net.Listener
	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve's connection goroutines

	mu struct {
		sync.Mutex
		pick   picker                // with its endpoints' failUntil
		conns  map[net.Conn]struct{} // open client and upstream connections
		closed bool
	}
}

// New returns a proxy that serves ln once Serve runs. It owns ln from then
// on, even when it returns an error.
func New(ln net.Listener, opts Options) (*Proxy, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		ln.Close()
		return nil, err
	}
	p := &Proxy{opts: opts, ln: ln}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.mu.pick.intn = opts.intn
	for _, ep := range opts.Endpoints {
		p.mu.pick.eps = append(p.mu.pick.eps, &endpoint{Endpoint: ep})
	}
	p.mu.conns = make(map[net.Conn]struct{})
	return p, nil
}

// Addr is the listen address.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Serve accepts client connections until Close or a listener failure. It
// returns ErrClosed after Close.
func (p *Proxy) Serve() error {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			if p.isClosed() {
				return ErrClosed
			}
			return fmt.Errorf("gateway: accept: %w", err)
		}
		if !p.track(in) {
			in.Close()
			return ErrClosed
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(in)
		}()
	}
}

// Close stops the proxy: it closes the listener and every proxied
// connection and waits until the connection goroutines end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.mu.closed {
		p.mu.Unlock()
		return nil
	}
	p.mu.closed = true
	conns := p.mu.conns
	p.mu.conns = nil
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	for c := range conns {
		c.Close()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.closed
}

// track registers c to be closed by Close; false if already closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return false
	}
	p.mu.conns[c] = struct{}{}
	return true
}

// closeConn closes c and forgets it.
func (p *Proxy) closeConn(c net.Conn) {
	p.mu.Lock()
	if p.mu.conns != nil {
		delete(p.mu.conns, c)
	}
	p.mu.Unlock()
	c.Close()
}

// dial connects to a live endpoint, marking those that fail.
func (p *Proxy) dial() (net.Conn, error) {
	tried := make(map[*endpoint]bool)
	d := net.Dialer{Timeout: p.opts.DialTimeout}
	for {
		p.mu.Lock()
		ep := p.mu.pick.pick(time.Now(), tried)
		p.mu.Unlock()
		if ep == nil {
			return nil, errors.New("no live endpoint")
		}
		tried[ep] = true
		out, err := d.DialContext(p.ctx, "tcp", ep.Addr)
		if err == nil {
			p.mu.Lock()
			ep.failUntil = time.Time{}
			p.mu.Unlock()
			return out, nil
		}
		if p.ctx.Err() != nil {
			return nil, ErrClosed
		}
		p.mu.Lock()
		ep.failUntil = time.Now().Add(p.opts.RetryDelay)
		p.mu.Unlock()
		p.opts.Logger.Warn("deactivated endpoint",
			zap.String("address", ep.Addr), zap.Duration("retry-delay", p.opts.RetryDelay), zap.Error(err))
	}
}

// serve proxies one client connection.
func (p *Proxy) serve(in net.Conn) {
	defer p.closeConn(in)
	out, err := p.dial()
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			p.opts.Logger.Warn("closing client connection",
				zap.String("client", in.RemoteAddr().String()), zap.Error(err))
		}
		return
	}
	if !p.track(out) {
		out.Close()
		return
	}
	defer p.closeConn(out)
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(in, out)
		// Either side ending ends the pair, as in etcd.
		in.Close()
		out.Close()
	}()
	io.Copy(out, in)
	in.Close()
	out.Close()
	<-done
}
