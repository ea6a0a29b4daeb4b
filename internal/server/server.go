package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/raftnode"
	"github.com/cairn-db/cairn/internal/storage"
	"github.com/cairn-db/cairn/internal/transport"
	"github.com/cairn-db/cairn/internal/watch"
	"go.etcd.io/raft/v3"
	"go.uber.org/zap"
)

// Keys under storage.PrefixApply.
var (
	keyApplied  = []byte{storage.PrefixApply, 'a'} // applied index, term
	keyMemberID = []byte{storage.PrefixApply, 'm'} // this member's ID
)

// Server is one Cairn member.
type Server struct {
	opts Options
	lg   *zap.Logger

	db      *storage.DB
	logs    *raftnode.LogStore
	node    *raftnode.Node
	peers   *transport.Transport
	kv      *mvcc.Store
	lessor  *lease.Lessor
	hub     *watch.Hub
	cluster *membership.Cluster
	alarms  *alarms
	// quota caches the size reading the space quota is checked against.
	quota struct {
		bytes  atomic.Int64 // last estimate of the state keyspaces' size
		readAt atomic.Int64 // when it was taken, Unix nanoseconds
		// raising is set while a NOSPACE alarm proposal is in flight.
		raising atomic.Bool
	}

	id    uint64 // this member's ID
	reqID *idGenerator
	waits *waitRegistry
	// applied wakes readers waiting for the applied index.
	applied       *indexWaiter
	appliedIndex  atomic.Uint64
	lead          atomic.Uint64
	leaderChanges atomic.Uint64
	// proposalsFailed counts proposals that did not commit in time.
	proposalsFailed atomic.Uint64
	// learner mirrors whether this member is a learner (refreshRole).
	learner atomic.Bool
	// leaderChanged is closed and replaced on every leader change, so
	// waiters can give up early (etcd's "leader changed").
	leaderChangedMu sync.Mutex
	leaderChanged   chan struct{}

	reads *readIndexer
	// renewals batches the keep-alives this member forwards to the leader.
	renewals *renewBatcher
	// forwardClient carries calls forwarded to the leader's peer port.
	forwardClient *http.Client

	// failc closes when the member must stop on its own (raft died, or a
	// bootstrapping member met another cluster); failErr says why.
	failc    chan struct{}
	failOnce sync.Once
	failErr  error
	// readyc closes once this member's attributes are published: like
	// etcd, client traffic is served only after that.
	readyc chan struct{}
	stopc  chan struct{}
	// attachMu orders goAttach against Stop: goAttach holds it shared
	// while it checks stopc and adds to wg; Stop holds it to close stopc.
	attachMu sync.RWMutex
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// New opens (or creates) the member's data and prepares raft; Start runs it.
func New(opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	lg := opts.Logger
	memberDir := filepath.Join(opts.DataDir, "member")
	if err := os.MkdirAll(memberDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: cannot access data directory: %w", err)
	}
	walDir := ""
	if opts.WALDir != "" {
		walDir = filepath.Join(opts.WALDir, "db-wal")
	}
	db, err := storage.Open(storage.Options{Dir: filepath.Join(memberDir, "db"), WALDir: walDir})
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:          opts,
		lg:            lg,
		db:            db,
		waits:         newWaitRegistry(),
		stopc:         make(chan struct{}),
		readyc:        make(chan struct{}),
		failc:         make(chan struct{}),
		leaderChanged: make(chan struct{}),
	}
	if err := s.open(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) open() error {
	var err error
	if err := s.finishSnapshotInstall(); err != nil {
		return err
	}
	if s.logs, err = raftnode.OpenLogStore(s.db); err != nil {
		return err
	}
	if s.cluster, err = membership.Load(s.db.Reader()); err != nil {
		return err
	}
	if s.alarms, err = loadAlarms(s.db.Reader()); err != nil {
		return err
	}
	appliedIdx, _, err := s.loadApplied()
	if err != nil {
		return err
	}
	s.appliedIndex.Store(appliedIdx)
	s.applied = newIndexWaiter(appliedIdx)

	if s.kv, err = mvcc.OpenWithOptions(s.db, s.lg.Named("mvcc"), mvcc.Options{CompactionBatchLimit: s.opts.CompactionBatchLimit}); err != nil {
		return err
	}
	if s.lessor, err = lease.New(s.db, lease.Options{
		Logger: s.lg.Named("lease"),
		MinTTL: s.opts.minLeaseTTL(),
		// Retry an expiry whose revoke did not apply after one request
		// timeout, as etcd does.
		ExpiredRetryInterval: s.opts.RequestTimeout,
	}); err != nil {
		s.kv.Close()
		return err
	}
	s.hub = watch.NewHub(s.kv, watch.Options{Logger: s.lg.Named("watch"), ProgressNotifyInterval: s.opts.WatchProgressNotifyInterval})
	return nil
}

func (s *Server) loadApplied() (index, term uint64, err error) {
	v, err := s.db.Get(keyApplied)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if len(v) != 16 {
		return 0, 0, fmt.Errorf("%w: applied index record", ErrCorrupt)
	}
	index, _ = storage.Uint64(v)
	term, _ = storage.Uint64(v[8:])
	return index, term, nil
}

// Start bootstraps (new member) or resumes (existing data) and runs raft.
func (s *Server) Start() error {
	var peers []raft.Peer
	fresh := s.logs.IsEmpty()
	if fresh {
		s.id = s.opts.Self.ID
		clusterID := s.opts.JoinClusterID
		if clusterID == 0 {
			// A new member of a new cluster: the founding members go into
			// raft as conf changes at index 1..n, as etcd does.
			ids := make([]uint64, 0, len(s.opts.InitialMembers))
			for _, m := range s.opts.InitialMembers {
				ctx, err := json.Marshal(m)
				if err != nil {
					return err
				}
				peers = append(peers, raft.Peer{ID: m.ID, Context: ctx})
				ids = append(ids, m.ID)
			}
			clusterID = membership.ClusterID(ids)
		}
		if err := s.saveIdentity(clusterID); err != nil {
			return err
		}
		if s.opts.JoinClusterID != 0 {
			s.lg.Info("joining an existing cluster",
				zap.String("member-id", membership.FormatID(s.id)),
				zap.String("cluster-id", membership.FormatID(clusterID)))
		}
	} else {
		v, err := s.db.Get(keyMemberID)
		if err != nil {
			return fmt.Errorf("server: data dir holds raft state but no member ID: %w", err)
		}
		s.id, _ = storage.Uint64(v)
		s.lg.Info("restarting member from existing data",
			zap.String("member-id", membership.FormatID(s.id)),
			zap.String("cluster-id", membership.FormatID(s.cluster.ID())),
			zap.Uint64("applied-index", s.appliedIndex.Load()))
		if s.cluster.IsRemoved(s.id) {
			return ErrRemoved
		}
	}
	s.refreshRole()
	s.reqID = newIDGenerator(s.id, time.Now())
	s.forwardClient = newForwardClient(s.opts.PeerTLS)
	s.reads = newReadIndexer(s)
	s.renewals = newRenewBatcher(s)
	members := s.opts.InitialMembers
	if !fresh {
		members = s.cluster.Members()
	}
	tr, err := s.newPeers(members)
	if err != nil {
		return err
	}
	s.peers = tr

	node, err := raftnode.Start(raftnode.Config{
		ID:             s.id,
		Store:          s.logs,
		DB:             s.db,
		Applier:        s,
		Transport:      s.peers,
		Logger:         s.lg.Named("raft"),
		TickInterval:   s.opts.TickInterval,
		ElectionTicks:  s.opts.electionTicks(),
		PreVote:        s.opts.PreVote,
		TickAdvance:    s.opts.InitialElectionTickAdvance,
		Applied:        s.appliedIndex.Load(),
		Peers:          peers,
		SnapshotCount:  s.opts.SnapshotCount,
		CatchUpEntries: s.opts.CatchUpEntries,
		UnsafeNoFsync:  s.opts.UnsafeNoFsync,
		OnReadStates:   s.reads.onReadStates,
		OnLeaderChange: s.onLeaderChange,
		OnDropped:      s.onDropped,
	})
	if err != nil {
		s.peers.Stop()
		return err
	}
	s.node = node
	s.goAttach(func() {
		select {
		case <-node.Done():
			s.fail(errors.New("raft stopped unexpectedly; see the log above"))
		case <-s.stopc:
		}
	})
	s.goAttach(s.reads.run)
	for range renewSenders {
		s.goAttach(s.renewals.run)
	}
	s.goAttach(s.expireLeases)
	s.goAttach(s.publishAttributes)
	s.goAttach(s.autoCompact)
	return nil
}

// saveIdentity records the cluster ID and this member's ID in a new data
// dir, durably, before raft writes anything.
func (s *Server) saveIdentity(clusterID uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.cluster.Bootstrap(b, clusterID); err != nil {
		return err
	}
	if err := b.Set(keyMemberID, storage.PutUint64(nil, s.id), nil); err != nil {
		return err
	}
	return s.db.Commit(b, storage.Sync)
}

// goAttach runs f in a goroutine that Stop waits for. Once Stop has begun
// it runs nothing, so wg.Add never races with Stop's wg.Wait.
func (s *Server) goAttach(f func()) {
	s.attachMu.RLock()
	defer s.attachMu.RUnlock()
	select {
	case <-s.stopc:
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Stop stops raft, background work and storage. Safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.HandOverLeadership()
		s.attachMu.Lock()
		close(s.stopc)
		s.attachMu.Unlock()
		if s.renewals != nil {
			s.renewals.stop()
		}
		if s.node != nil {
			s.node.Stop()
		}
		if s.peers != nil {
			s.peers.Stop()
		}
		s.wg.Wait()
		s.hub.Close()
		s.kv.Close()
		if err := s.db.Close(); err != nil {
			s.lg.Warn("closing storage", zap.Error(err))
		}
		s.fail(nil) // StopNotify closes on a normal stop too, with no error
	})
}

// StopNotify is closed when the server has stopped, or must stop on its
// own; Err says why (nil after a normal Stop).
func (s *Server) StopNotify() <-chan struct{} { return s.failc }

// Err is the reason StopNotify closed.
func (s *Server) Err() error {
	select {
	case <-s.failc:
		return s.failErr
	default:
		return nil
	}
}

// fail records why the member must stop and closes StopNotify.
func (s *Server) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.failc)
	})
}

// ReadyNotify is closed once the member may serve clients.
func (s *Server) ReadyNotify() <-chan struct{} { return s.readyc }

// ID is this member's ID.
func (s *Server) ID() uint64 { return s.id }

// ClusterID is the cluster's ID.
func (s *Server) ClusterID() uint64 { return s.cluster.ID() }

// Leader is the current leader's ID, 0 when there is none.
func (s *Server) Leader() uint64 { return s.lead.Load() }

// Term is the current raft term.
func (s *Server) Term() uint64 {
	if s.node == nil {
		return 0
	}
	return s.node.Term()
}

// AppliedIndex is the last applied raft index.
func (s *Server) AppliedIndex() uint64 { return s.appliedIndex.Load() }

// LeaderChanges counts leader changes seen since start.
func (s *Server) LeaderChanges() uint64 { return s.leaderChanges.Load() }

// Hub is the watch hub.
func (s *Server) Hub() *watch.Hub { return s.hub }

// KV is the MVCC store, for reads.
func (s *Server) KV() *mvcc.Store { return s.kv }

// Cluster is the membership state.
func (s *Server) Cluster() *membership.Cluster { return s.cluster }

// DB is the member's storage.
func (s *Server) DB() *storage.DB { return s.db }

// Options are the server's options after defaults.
func (s *Server) Options() Options { return s.opts }

func (s *Server) onLeaderChange(lead uint64, isLeader bool) {
	old := s.lead.Swap(lead)
	if lead != 0 && old != lead {
		s.leaderChanges.Add(1)
	}
	if isLeader {
		// A new leader gives every lease an extra election timeout, so no
		// lease expires because of the election itself.
		s.lessor.Promote(s.opts.ElectionTimeout)
	} else {
		s.lessor.Demote()
	}
	s.leaderChangedMu.Lock()
	close(s.leaderChanged)
	s.leaderChanged = make(chan struct{})
	s.leaderChangedMu.Unlock()
}

func (s *Server) leaderChangedNotify() <-chan struct{} {
	s.leaderChangedMu.Lock()
	defer s.leaderChangedMu.Unlock()
	return s.leaderChanged
}

func (s *Server) onDropped(ids []uint64) {
	s.proposalsFailed.Add(uint64(len(ids)))
	for _, id := range ids {
		s.waits.trigger(id, result{err: ErrNoLeader})
	}
}

// publishAttributes announces this member's name and client URLs through
// raft, retrying until it is applied (etcd publishes on every start).
func (s *Server) publishAttributes() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
		err := s.publishOnce(ctx)
		cancel()
		if err == nil {
			close(s.readyc)
			return
		}
		s.lg.Debug("publish member attributes", zap.Error(err))
		select {
		case <-s.stopc:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
