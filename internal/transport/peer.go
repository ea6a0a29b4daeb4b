package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Reconnect backoff bounds.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

const writeBufferSize = 64 << 10

// Errors a stream attempt can end with.
var (
	errClusterMismatch = errors.New("transport: cluster ID mismatch")
	errRemoved         = errors.New("transport: the member has been permanently removed from the cluster")
	errStreamClosed    = errors.New("transport: stream closed")
)

// peer owns the outgoing stream to one member. Its run goroutine is the only
// reader of queue.
type peer struct {
	t       *Transport
	id      uint64
	lg      *zap.Logger
	queue   chan raftpb.Message
	dropped atomic.Uint64 // messages dropped because queue was full
	// activeSince is when the current stream was accepted, Unix
	// nanoseconds; 0 while there is none.
	activeSince atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	// probeDone is closed when probe returns.
	probeDone chan struct{}

	mu struct {
		sync.Mutex
		urls []string // protected by mu
		next int      // index of the URL to try next; protected by mu
	}
}

func newPeer(t *Transport, id uint64, urls []string) *peer {
	p := &peer{
		t:     t,
		id:    id,
		lg:    t.lg.With(zap.String("remote-peer-id", idString(id))),
		queue: make(chan raftpb.Message, t.opts.QueueSize),
		done:  make(chan struct{}),

		probeDone: make(chan struct{}),
	}
	p.ctx, p.cancel = context.WithCancel(t.ctx)
	p.setURLs(urls)
	return p
}

func (p *peer) setURLs(urls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.urls = append([]string(nil), urls...)
	p.mu.next = 0
}

// nextURL returns the URL to dial and moves on to the following one.
func (p *peer) nextURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mu.urls) == 0 {
		return ""
	}
	u := p.mu.urls[p.mu.next%len(p.mu.urls)]
	p.mu.next = (p.mu.next + 1) % len(p.mu.urls)
	return u
}

// currentURL returns the URL the next stream will use, without moving on.
func (p *peer) currentURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mu.urls) == 0 {
		return ""
	}
	return p.mu.urls[p.mu.next%len(p.mu.urls)]
}

func (p *peer) stop() {
	p.cancel()
	<-p.done
	<-p.probeDone
}

// run dials, streams until the stream breaks, and redials with backoff
// until the peer is stopped.
func (p *peer) run() {
	defer close(p.done)
	backoff := minBackoff
	for p.ctx.Err() == nil {
		u := p.nextURL()
		var err error
		connected := false
		if u == "" {
			err = errors.New("transport: peer has no URLs")
		} else {
			connected, err = p.stream(u)
		}
		if p.ctx.Err() != nil {
			return
		}
		if connected {
			backoff = minBackoff
		}
		wait := backoff
		switch {
		case errors.Is(err, errRemoved):
			p.lg.Warn("peer refused the stream: this member has been permanently removed from the cluster", zap.String("url", u))
			wait = maxBackoff
			if p.t.opts.OnRemoved != nil {
				p.t.opts.OnRemoved()
			}
		case errors.Is(err, errClusterMismatch):
			p.lg.Warn("peer refused the stream: cluster ID mismatch", zap.String("url", u), zap.String("local-cluster-id", idString(p.t.opts.ClusterID())))
			wait = maxBackoff
			var cm *clusterMismatchError
			if errors.As(err, &cm) && p.t.opts.OnClusterMismatch != nil {
				p.t.opts.OnClusterMismatch(cm.remote)
			}
		default:
			p.lg.Warn("lost stream to peer", zap.String("url", u), zap.Bool("was-connected", connected), zap.Error(err))
		}
		p.t.opts.Raft.ReportUnreachable(p.id)
		timer := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// stream opens one stream to base and writes queued messages into it until
// it breaks or the peer stops. connected reports whether the peer accepted
// the stream.
func (p *peer) stream(base string) (connected bool, err error) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()

	req, err := p.newRequest(ctx, base, StreamPath, nil)
	if err != nil {
		return false, err
	}
	req.ContentLength = 0
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", StreamProtocol)

	// The dial timeout covers connecting and the answer; the receiver
	// answers before it reads any frame.
	timer := time.AfterFunc(p.t.opts.DialTimeout, cancel)
	resp, err := p.t.client.Do(req)
	timedOut := !timer.Stop()
	if err != nil {
		if timedOut {
			return false, fmt.Errorf("transport: no answer within %v: %w", p.t.opts.DialTimeout, err)
		}
		return false, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusPreconditionFailed:
			if remote, err := strconv.ParseUint(resp.Header.Get(HeaderClusterID), 16, 64); err == nil {
				return false, &clusterMismatchError{remote: remote}
			}
			return false, errClusterMismatch
		case http.StatusGone:
			return false, errRemoved
		}
		return false, fmt.Errorf("transport: peer answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	// After 101 the body is the connection itself: frames are written on
	// it from writeLoop, with no goroutine of the HTTP client in between.
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		_ = resp.Body.Close()
		return false, errors.New("transport: the upgraded stream is not writable")
	}
	// Closing the connection is what unblocks a write to a peer that
	// stopped reading.
	stopClose := context.AfterFunc(ctx, func() { _ = conn.Close() })
	// The receiver never writes; a read ending means it closed.
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		_, _ = io.Copy(io.Discard, conn)
		cancel()
	}()
	defer func() {
		cancel()
		stopClose()
		_ = conn.Close()
		<-readerDone
	}()

	p.lg.Debug("stream to peer established", zap.String("url", base))
	p.activeSince.Store(time.Now().UnixNano())
	defer p.activeSince.Store(0)
	return true, p.writeLoop(ctx, conn)
}

// newRequest is a POST of body to the peer's path at base, with the
// headers every receiver checks before it reads the body.
func (p *peer) newRequest(ctx context.Context, base, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set(HeaderClusterID, idString(p.t.opts.ClusterID()))
	req.Header.Set(HeaderFrom, strconv.FormatUint(p.t.opts.ID, 10))
	req.Header.Set(HeaderTo, strconv.FormatUint(p.id, 10))
	return req, nil
}

// writeLoop moves messages from the queue into the stream. It flushes only
// when the queue is momentarily empty, so frames batch under load and leave
// at once when idle.
func (p *peer) writeLoop(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriterSize(w, writeBufferSize)
	var scratch []byte
	for {
		select {
		case <-ctx.Done():
			return errStreamClosed
		case m := <-p.queue:
			if n := m.Size(); n > MaxFrameSize {
				p.lg.Error("dropping message larger than the frame limit", zap.Stringer("type", m.Type), zap.Int("size", n))
				continue
			}
			var err error
			if scratch, err = writeFrame(bw, &m, scratch); err != nil {
				return err
			}
			if len(p.queue) == 0 {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
	}
}

func idString(id uint64) string { return strconv.FormatUint(id, 16) }

// clusterMismatchError is a 412 refusal that named the peer's cluster ID.
type clusterMismatchError struct{ remote uint64 }

func (e *clusterMismatchError) Error() string {
	return "transport: cluster ID mismatch (peer's cluster " + idString(e.remote) + ")"
}

func (e *clusterMismatchError) Is(target error) bool { return target == errClusterMismatch }
