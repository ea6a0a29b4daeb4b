package transport

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// StreamPath is the path the Handler serves.
const StreamPath = "/raft/stream"

// StreamProtocol is the protocol a stream request upgrades to: after the
// receiver's 101 the connection carries frames from sender to receiver.
const StreamProtocol = "cairn-raft/1"

// Header names of a stream request.
const (
	HeaderClusterID = "X-Cairn-Cluster-ID"
	HeaderFrom      = "X-Cairn-From"
	HeaderTo        = "X-Cairn-To"
)

// Transport sends raft messages to peers and receives theirs.
type Transport struct {
	opts      Options
	lg        *zap.Logger
	client    *http.Client
	ownClient *http.Transport // nil when Options.HTTPClient was given

	// ctx is cancelled by Stop; every stream and handler watches it.
	ctx    context.Context
	cancel context.CancelFunc

	// handlers counts running Handler calls; Stop waits for them.
	handlers sync.WaitGroup
	// snapshots counts snapshots being sent; Stop waits for them.
	snapshots sync.WaitGroup

	mu struct {
		sync.RWMutex
		stopped bool             // protected by mu
		peers   map[uint64]*peer // protected by mu
		// inbound holds a cut function per inbound stream, by sender;
		// protected by mu.
		inbound map[uint64]map[*func()]struct{}
	}
}

// New returns a Transport with no peers.
func New(opts Options) (*Transport, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := &Transport{opts: opts, lg: opts.Logger.With(zap.String("local-member-id", idString(opts.ID)))}
	t.client = opts.HTTPClient
	if t.client == nil {
		t.ownClient = &http.Transport{
			Proxy:             nil,
			DialContext:       (&net.Dialer{Timeout: opts.DialTimeout}).DialContext,
			ForceAttemptHTTP2: false,
			MaxIdleConns:      16,
			TLSClientConfig:   opts.TLSConfig,
		}
		t.client = &http.Client{Transport: t.ownClient}
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mu.peers = make(map[uint64]*peer)
	return t, nil
}

// AddPeer starts streaming to member id at urls. Adding a known peer
// updates its URLs.
func (t *Transport) AddPeer(id uint64, urls []string) {
	if id == t.opts.ID {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.stopped {
		return
	}
	if p, ok := t.mu.peers[id]; ok {
		p.setURLs(urls)
		return
	}
	p := newPeer(t, id, urls)
	t.mu.peers[id] = p
	go p.run()
	go p.probe()
}

// UpdatePeer replaces the URLs of a known peer; the current stream is kept
// until it breaks. An unknown id is ignored.
func (t *Transport) UpdatePeer(id uint64, urls []string) {
	t.mu.RLock()
	p := t.mu.peers[id]
	t.mu.RUnlock()
	if p != nil {
		p.setURLs(urls)
	}
}

// RemovePeer closes the streams to and from id and drops its queued
// messages. It returns once the outgoing stream's goroutines have ended.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p := t.mu.peers[id]
	delete(t.mu.peers, id)
	t.cutInboundLocked(id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// ActiveSince reports since when the stream to peer id has been up; the
// zero time means it is down or the peer is unknown. Reconfiguration checks
// use it to tell whether a quorum is reachable.
func (t *Transport) ActiveSince(id uint64) time.Time {
	t.mu.RLock()
	p := t.mu.peers[id]
	t.mu.RUnlock()
	if p == nil {
		return time.Time{}
	}
	ns := p.activeSince.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Send queues msgs for their peers and returns without waiting on the
// network. See the package comment for what is dropped.
func (t *Transport) Send(msgs []raftpb.Message) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i := range msgs {
		m := &msgs[i]
		if m.To == 0 || m.To == t.opts.ID {
			continue
		}
		p := t.mu.peers[m.To]
		if p == nil {
			continue
		}
		select {
		case p.queue <- *m:
		default:
			p.dropped.Add(1)
			t.opts.Raft.ReportUnreachable(m.To)
		}
	}
}

// Stop closes all streams, ends every goroutine the Transport started and
// waits for running Handler calls. It is safe to call more than once.
func (t *Transport) Stop() {
	t.mu.Lock()
	if t.mu.stopped {
		t.mu.Unlock()
		return
	}
	t.mu.stopped = true
	peers := t.mu.peers
	t.mu.peers = nil
	t.mu.Unlock()

	t.cancel()
	for _, p := range peers {
		p.stop()
	}
	t.snapshots.Wait()
	t.handlers.Wait()
	if t.ownClient != nil {
		t.ownClient.CloseIdleConnections()
	}
}
