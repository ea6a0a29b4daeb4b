package tlsutil

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultHandshakeTimeout is ListenerOptions.HandshakeTimeout's default.
const DefaultHandshakeTimeout = 10 * time.Second

// ListenerOptions tune NewListener. The zero value is usable.
type ListenerOptions struct {
	// HandshakeTimeout bounds the handshake and the checks after it, from
	// the moment the connection is accepted. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// CheckClientSAN refuses a client certificate that has IP or DNS SANs
	// none of which match the address it connects from (IP SANs directly,
	// DNS SANs by reverse and forward lookup). etcd does this on peer ports
	// unless --peer-skip-client-san-verification; Info.ListenerOptions sets
	// it accordingly. Certificates without IP or DNS SANs pass.
	CheckClientSAN bool
	// Resolver does CheckClientSAN's lookups. Default net.DefaultResolver.
	Resolver Resolver
	// Logger receives one line per refused connection. Nil discards them.
	Logger *zap.Logger
	// LogBurst is how many refusal lines one remote IP may cause in a row
	// before they are limited to one per LogEvery, the skipped ones counted
	// in the next line. Default 5; negative means no limit.
	LogBurst int
	// LogEvery: see LogBurst. Default 10s.
	LogEvery time.Duration
}

// Resolver is the part of *net.Resolver the SAN check uses.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

func (o *ListenerOptions) ensureDefaults() {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.LogBurst == 0 {
		o.LogBurst = 5
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 10 * time.Second
	}
}

// ListenerOptions returns the options etcd uses for this side's listener:
// the Info's logger, and on the peer side the client SAN check unless
// SkipClientSANVerify.
func (i *Info) ListenerOptions() ListenerOptions {
	return ListenerOptions{
		CheckClientSAN: i.Side == SidePeer && !i.SkipClientSANVerify,
		Logger:         i.Logger,
	}
}

// NewListener serves TLS on this side: it builds ServerConfig and wraps ln
// with the package-level NewListener and i.ListenerOptions(). On error ln
// is left open.
func (i *Info) NewListener(ln net.Listener) (net.Listener, error) {
	cfg, err := i.ServerConfig()
	if err != nil {
		return nil, err
	}
	return NewListener(ln, cfg, i.ListenerOptions()), nil
}

// NewListener wraps ln so that Accept returns only *tls.Conn whose
// handshake (and, with CheckClientSAN, SAN check) has succeeded.
//
// Each accepted connection is handshaked in its own goroutine under
// HandshakeTimeout, so a slow or silent client never delays Accept for
// others. A connection that fails is closed and logged as one line naming
// the remote address, the client certificate's subject if there was one,
// and the reason. A plaintext HTTP/1 request gets net/http's
// "400 Bad Request / Client sent an HTTP request to an HTTPS server."
// answer; any other non-TLS first bytes (a cleartext gRPC preface, say) are
// closed at once.
//
// The connections work under cmux, net/http (HTTP/2 through ALPN when cfg
// offers "h2") and gRPC. Close closes ln, aborts handshakes in progress,
// closes handshaked connections not yet accepted, and returns after every
// goroutine the listener started has ended. After Close, or after ln's
// Accept fails for good, Accept returns that error (net.ErrClosed after
// Close).
func NewListener(ln net.Listener, cfg *tls.Config, opts ListenerOptions) net.Listener {
	opts.ensureDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{
		inner:  ln,
		cfg:    cfg,
		opts:   opts,
		log:    newRefusalLog(opts.Logger, opts.LogBurst, opts.LogEvery),
		ctx:    ctx,
		cancel: cancel,
		connc:  make(chan *tls.Conn),
		closec: make(chan struct{}),
		donec:  make(chan struct{}),
	}
	go l.acceptLoop()
	return l
}

type listener struct {
	inner net.Listener
	cfg   *tls.Config
	opts  ListenerOptions
	log   *refusalLog

	// ctx is cancelled when the accept loop ends; it aborts handshakes in
	// flight and undelivered connections.
	ctx    context.Context
	cancel context.CancelFunc
	// connc hands handshaked connections to Accept.
	connc chan *tls.Conn
	// closec is closed by Close, before ln is closed.
	closec chan struct{}
	// donec is closed once the accept loop and every handshake goroutine
	// have returned; err is written before.
	donec chan struct{}
	err   error

	closeOnce sync.Once
	closeErr  error
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.connc:
		return c, nil
	case <-l.donec:
		return nil, l.err
	}
}

func (l *listener) Addr() net.Addr { return l.inner.Addr() }

func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closec)
		l.closeErr = l.inner.Close()
	})
	<-l.donec
	return l.closeErr
}

// temporary is the old net.Error method, still how accept(2) reports
// EMFILE and the like; declared here because net.Error's is deprecated.
type temporary interface{ Temporary() bool }

func (l *listener) acceptLoop() {
	var wg sync.WaitGroup
	defer func() {
		l.cancel()
		wg.Wait()
		close(l.donec)
	}()
	var backoff time.Duration
	for {
		conn, err := l.inner.Accept()
		if err != nil {
			// Out of file descriptors and the like pass; back off as
			// net/http does rather than spin or give up.
			if t, ok := err.(temporary); ok && t.Temporary() && !errors.Is(err, net.ErrClosed) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				l.opts.Logger.Warn("accept failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
				select {
				case <-time.After(backoff):
					continue
				case <-l.closec:
					err = net.ErrClosed
				}
			}
			l.err = err
			return
		}
		backoff = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.serve(conn)
		}()
	}
}

// serve handshakes one connection and hands it to Accept.
func (l *listener) serve(raw net.Conn) {
	deadline := time.Now().Add(l.opts.HandshakeTimeout)
	ctx, cancel := context.WithDeadline(l.ctx, deadline)
	defer cancel()
	// The deadline on the socket too: the SAN lookups and the plaintext
	// answer must not outlive the timeout either.
	_ = raw.SetDeadline(deadline)

	tc := tls.Server(raw, l.cfg)
	err := tc.HandshakeContext(ctx)
	if err == nil && l.opts.CheckClientSAN {
		err = checkClientSAN(ctx, l.opts.Resolver, tc)
	}
	if err != nil {
		if !l.rejectPlaintext(err) {
			_ = tc.Close()
		}
		if l.ctx.Err() == nil {
			l.log.refused(raw.RemoteAddr(), err, l.opts.HandshakeTimeout)
		}
		return
	}
	_ = raw.SetDeadline(time.Time{})
	select {
	case l.connc <- tc:
	case <-l.ctx.Done():
		_ = tc.Close()
	}
}
