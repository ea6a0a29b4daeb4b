package raftnode

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// ErrStopped is returned once the node has stopped.
var ErrStopped = errors.New("raftnode: stopped")

// Applier applies committed entries. It runs on the raft goroutine, in log
// order. For a conf change it must call applyConf, which returns the new
// ConfState, and persist that through LogStore.StageConfState in the same
// batch as the applied index.
//
// ApplySnapshot installs the state a snapshot from the leader describes
// (the receiving side staged it when the message arrived). It must call
// stageRaft with the batch that records the install, commit that batch
// durably, and only then replace the state machine, so a crash at any
// point leaves either the old state with the old log or a record that
// lets the install finish at restart.
type Applier interface {
	Apply(ents []raftpb.Entry, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error
	ApplySnapshot(snap raftpb.Snapshot, stageRaft func(b *storage.Batch) error) error
}

// Transport sends raft messages to peers. Send must not block on the
// network. SendSnapshot sends one MsgSnap, with the state it stands for,
// in the background, and reports the outcome through Node.ReportSnapshot.
type Transport interface {
	Send(msgs []raftpb.Message)
	SendSnapshot(m raftpb.Message)
}

// Config configures a Node.
type Config struct {
	ID            uint64
	Store         *LogStore
	DB            *storage.DB
	Applier       Applier
	Transport     Transport // nil: messages to peers are dropped (one member)
	Logger        *zap.Logger
	TickInterval  time.Duration // --heartbeat-interval
	ElectionTicks int           // --election-timeout / --heartbeat-interval
	PreVote       bool
	// TickAdvance fast-forwards the first election (--initial-election-tick-advance).
	TickAdvance bool
	// Applied is the index the state machine already holds (from storage).
	Applied uint64
	// Peers, for a new member of a new cluster: the founding members. Each
	// peer's Context is carried in its ConfChange so the applier can build
	// the member record.
	Peers []raft.Peer
	// SnapshotCount: after this many applied entries the log is compacted.
	SnapshotCount uint64
	// CatchUpEntries: entries kept behind a snapshot point for slow peers.
	CatchUpEntries uint64
	// UnsafeNoFsync skips the fsync of raft writes (--unsafe-no-fsync):
	// a crash may then lose acknowledged writes.
	UnsafeNoFsync bool

	// OnReadStates receives ReadIndex answers.
	OnReadStates func([]raft.ReadState)
	// OnLeaderChange is told the new leader (0: none) and whether it is us.
	OnLeaderChange func(lead uint64, isLeader bool)
	// OnDropped is told of proposals that raft dropped (no leader).
	OnDropped func(ids []uint64)
}

type proposal struct {
	id   uint64
	data []byte
}

type snapReport struct {
	id     uint64
	status raft.SnapshotStatus
}

type confProposal struct {
	cc   raftpb.ConfChangeI
	errc chan error
}

// Node is the raft loop of one member.
type Node struct {
	cfg Config
	lg  *zap.Logger
	rn  *raft.RawNode

	propc     chan proposal
	confc     chan confProposal
	recvc     chan raftpb.Message
	readc     chan []byte
	transferc chan uint64
	unreachc  chan uint64
	snapRepc  chan snapReport
	statusc   chan chan raft.Status
	stopc     chan struct{}
	donec     chan struct{}

	lead uint64        // owned by the loop goroutine
	term atomic.Uint64 // current term, from the hard state

	// Proposals taken in since the last Ready, stepped as one MsgProp
	// (owned by the loop goroutine): see flushProposals.
	props     []raftpb.Entry
	propIDs   []uint64
	propBytes int
}

// Start creates the raft node and starts its loop.
func Start(cfg Config) (*Node, error) {
	n, err := newNode(cfg)
	if err != nil {
		return nil, err
	}
	go n.run()
	return n, nil
}

// newNode creates the raft node without starting its loop.
func newNode(cfg Config) (*Node, error) {
	lg := cfg.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	if cfg.CatchUpEntries == 0 {
		cfg.CatchUpEntries = 5000
	}
	rcfg := &raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             1,
		Storage:                   cfg.Store,
		Applied:                   cfg.Applied,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  64 << 20,
		MaxUncommittedEntriesSize: 1 << 30,
		MaxInflightMsgs:           4096 / 8,
		CheckQuorum:               true,
		PreVote:                   cfg.PreVote,
		Logger:                    newRaftLogger(lg),
		StepDownOnRemoval:         true,
	}
	rn, err := raft.NewRawNode(rcfg)
	if err != nil {
		return nil, fmt.Errorf("raftnode: %w", err)
	}
	if len(cfg.Peers) > 0 && cfg.Store.IsEmpty() {
		if err := rn.Bootstrap(cfg.Peers); err != nil {
			return nil, fmt.Errorf("raftnode: bootstrap: %w", err)
		}
	}
	n := &Node{
		cfg:       cfg,
		lg:        lg,
		rn:        rn,
		propc:     make(chan proposal, 4096),
		confc:     make(chan confProposal),
		recvc:     make(chan raftpb.Message, 4096),
		readc:     make(chan []byte, 64),
		transferc: make(chan uint64),
		unreachc:  make(chan uint64, 256),
		snapRepc:  make(chan snapReport, 64),
		statusc:   make(chan chan raft.Status),
		stopc:     make(chan struct{}),
		donec:     make(chan struct{}),
	}
	if cfg.TickAdvance {
		// Like etcd: leave one tick before the first election so a fresh
		// member does not wait a whole election timeout.
		for i := 0; i < cfg.ElectionTicks-1; i++ {
			rn.Tick()
		}
	}
	if hs, _, err := cfg.Store.InitialState(); err == nil {
		n.term.Store(hs.Term)
	}
	return n, nil
}

// Propose hands an encoded request to raft. id is reported to OnDropped if
// raft drops it.
func (n *Node) Propose(ctx context.Context, id uint64, data []byte) error {
	select {
	case n.propc <- proposal{id: id, data: data}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}

// ProposeConfChange proposes a membership change.
func (n *Node) ProposeConfChange(ctx context.Context, cc raftpb.ConfChangeI) error {
	errc := make(chan error, 1)
	select {
	case n.confc <- confProposal{cc: cc, errc: errc}:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}

// ReadIndex asks raft for a read index; the answer comes to OnReadStates
// carrying rctx.
func (n *Node) ReadIndex(ctx context.Context, rctx []byte) error {
	select {
	case n.readc <- rctx:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}

// Step delivers a message from a peer.
func (n *Node) Step(ctx context.Context, m raftpb.Message) error {
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}

// TransferLeader asks raft to hand leadership to transferee.
func (n *Node) TransferLeader(ctx context.Context, transferee uint64) error {
	select {
	case n.transferc <- transferee:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}

// ReportUnreachable tells raft that a message to peer id could not be
// delivered, so the leader probes it instead of streaming appends. It never
// blocks: when the loop is busy the report is dropped, and the transport
// will report again on its next failure.
func (n *Node) ReportUnreachable(id uint64) {
	select {
	case n.unreachc <- id:
	default:
	}
}

// ReportSnapshot tells raft how sending a snapshot to peer id ended, so
// the leader resumes replicating to it (or retries later).
func (n *Node) ReportSnapshot(id uint64, ok bool) {
	st := raft.SnapshotFinish
	if !ok {
		st = raft.SnapshotFailure
	}
	select {
	case n.snapRepc <- snapReport{id: id, status: st}:
	case <-n.stopc:
	}
}

// Status returns raft's status, read on the loop goroutine.
func (n *Node) Status(ctx context.Context) (raft.Status, error) {
	c := make(chan raft.Status, 1)
	select {
	case n.statusc <- c:
	case <-ctx.Done():
		return raft.Status{}, ctx.Err()
	case <-n.donec:
		return raft.Status{}, ErrStopped
	}
	select {
	case st := <-c:
		return st, nil
	case <-ctx.Done():
		return raft.Status{}, ctx.Err()
	case <-n.donec:
		return raft.Status{}, ErrStopped
	}
}

// Stop ends the loop and waits for it.
func (n *Node) Stop() {
	select {
	case <-n.stopc:
	default:
		close(n.stopc)
	}
	<-n.donec
}

// Term is the current raft term.
func (n *Node) Term() uint64 { return n.term.Load() }

// Done is closed when the loop has ended (after Stop, or a fatal error).
func (n *Node) Done() <-chan struct{} { return n.donec }

func (n *Node) run() {
	defer close(n.donec)
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	var dropped []uint64
	for {
		select {
		case <-ticker.C:
			n.rn.Tick()
		case p := <-n.propc:
			dropped = n.propose(p, dropped)
		case m := <-n.recvc:
			n.step(m)
		case rctx := <-n.readc:
			n.rn.ReadIndex(rctx)
		case cp := <-n.confc:
			cp.errc <- n.rn.ProposeConfChange(cp.cc)
		case to := <-n.transferc:
			n.rn.TransferLeader(to)
		case id := <-n.unreachc:
			n.rn.ReportUnreachable(id)
		case r := <-n.snapRepc:
			n.rn.ReportSnapshot(r.id, r.status)
		case c := <-n.statusc:
			c <- n.rn.Status()
		case <-n.stopc:
			return
		}
		// Take in everything else already queued before making a Ready:
		// one Ready then carries many proposals and peer messages, and one
		// fsync covers them all. Handling one input per Ready instead
		// makes a busy member fsync per message, and its queues grow.
		dropped = n.drainInputs(dropped)
		dropped = n.flushProposals(dropped)
		if len(dropped) > 0 && n.cfg.OnDropped != nil {
			n.cfg.OnDropped(dropped)
			dropped = dropped[:0]
		}
		// Advance can make a new Ready at once (a single voter commits what
		// it just persisted), so drain before blocking again.
		for n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				n.lg.Error("raft loop stopped: cannot persist or apply", zap.Error(err))
				return
			}
		}
	}
}

// maxDrain bounds the inputs taken in before one Ready, so that a flood
// of messages cannot hold off ticks and the Ready's write for long.
const maxDrain = 4096

// drainInputs steps the proposals, peer messages and read requests that
// are already queued, without blocking, and returns dropped with the IDs
// of proposals raft refused appended.
func (n *Node) drainInputs(dropped []uint64) []uint64 {
	for range maxDrain {
		select {
		case p := <-n.propc:
			dropped = n.propose(p, dropped)
		case m := <-n.recvc:
			n.step(m)
		case rctx := <-n.readc:
			n.rn.ReadIndex(rctx)
		default:
			return dropped
		}
	}
	return dropped
}

func (n *Node) step(m raftpb.Message) {
	if err := n.rn.Step(m); err != nil {
		n.lg.Debug("raft step", zap.Error(err))
	}
}

// maxProposalBatch bounds the data of one batched MsgProp, as
// MaxSizePerMsg bounds an append: a follower forwards the batch to the
// leader in one message.
const maxProposalBatch = 1 << 20

// propose queues p for the next flushProposals; a full batch is stepped
// first.
func (n *Node) propose(p proposal, dropped []uint64) []uint64 {
	if n.propBytes > 0 && n.propBytes+len(p.data) > maxProposalBatch {
		dropped = n.flushProposals(dropped)
	}
	n.props = append(n.props, raftpb.Entry{Data: p.data})
	n.propIDs = append(n.propIDs, p.id)
	n.propBytes += len(p.data)
	return dropped
}

// flushProposals steps the queued proposals as one MsgProp. Stepping them
// one by one makes a leader send an append to every follower per proposal
// (until its inflight window fills), and a follower forward each one: a
// busy Ready then carries thousands of messages. One MsgProp makes one
// append per follower. raft accepts or drops the batch whole; dropped IDs
// are appended to dropped.
func (n *Node) flushProposals(dropped []uint64) []uint64 {
	if len(n.props) == 0 {
		return dropped
	}
	// raft keeps the entries (a follower forwards this very slice), so
	// the next batch starts a new one.
	m := raftpb.Message{Type: raftpb.MsgProp, From: n.cfg.ID, Entries: n.props}
	if err := n.rn.Step(m); err != nil {
		dropped = append(dropped, n.propIDs...)
	}
	n.props, n.propIDs, n.propBytes = nil, n.propIDs[:0], 0
	return dropped
}

func (n *Node) handleReady() error {
	rd := n.rn.Ready()
	if rd.SoftState != nil && rd.SoftState.Lead != n.lead {
		n.lead = rd.SoftState.Lead
		if n.cfg.OnLeaderChange != nil {
			n.cfg.OnLeaderChange(n.lead, rd.SoftState.RaftState == raft.StateLeader)
		}
	}
	if rd.HardState.Term != 0 {
		n.term.Store(rd.HardState.Term)
		proposalsCommitted.Set(float64(rd.HardState.Commit))
	}
	isLeader := n.lead == n.cfg.ID

	// 0. A snapshot from the leader replaces log and state first; the
	// entries of this Ready follow it.
	if !raft.IsEmptySnap(rd.Snapshot) {
		meta := rd.Snapshot.Metadata
		var hs raftpb.HardState
		err := n.cfg.Applier.ApplySnapshot(rd.Snapshot, func(b *storage.Batch) error {
			var err error
			hs, err = n.cfg.Store.stageSnapshot(b, meta, rd.HardState)
			return err
		})
		if err != nil {
			return fmt.Errorf("raftnode: installing snapshot at %d: %w", meta.Index, err)
		}
		n.cfg.Store.commitSnapshot(meta, hs)
		n.lg.Info("installed snapshot from the leader", zap.Uint64("index", meta.Index), zap.Uint64("term", meta.Term))
	}

	// 1. A leader sends before its own write is durable. The transport's
	// writers were just woken on this goroutine's processor; yield it so
	// they run now, not after the fsync below (the scheduler would keep
	// them waiting behind the syscall, and the followers would start
	// their own write one fsync late).
	if isLeader && len(rd.Messages) > 0 {
		n.send(rd.Messages)
		runtime.Gosched()
	}

	// 2. Persist entries and hard state in one batch.
	if len(rd.Entries) > 0 || !raft.IsEmptyHardState(rd.HardState) {
		b := n.cfg.DB.NewBatch()
		if err := n.cfg.Store.stageAppend(b, rd.Entries, rd.HardState); err != nil {
			b.Close()
			return err
		}
		opts := storage.NoSync
		if rd.MustSync && !n.cfg.UnsafeNoFsync {
			opts = storage.Sync
		}
		start := time.Now()
		if err := n.cfg.DB.Commit(b, opts); err != nil {
			b.Close()
			return err
		}
		if opts == storage.Sync {
			walFsyncSec.Observe(time.Since(start).Seconds())
		}
		b.Close()
		n.cfg.Store.commitAppend(rd.Entries, rd.HardState)
	}

	// 3. Followers acknowledge only what is durable.
	if !isLeader {
		n.send(rd.Messages)
	}

	if len(rd.ReadStates) > 0 && n.cfg.OnReadStates != nil {
		n.cfg.OnReadStates(rd.ReadStates)
	}

	// 4. Apply committed entries in order.
	if len(rd.CommittedEntries) > 0 {
		if err := n.cfg.Applier.Apply(rd.CommittedEntries, n.rn.ApplyConfChange); err != nil {
			return err
		}
		last := rd.CommittedEntries[len(rd.CommittedEntries)-1]
		if err := n.maybeCompact(last.Index, last.Term); err != nil {
			return err
		}
	}

	// 5. Advance.
	n.rn.Advance(rd)
	return nil
}

func (n *Node) send(msgs []raftpb.Message) {
	if len(msgs) == 0 || n.cfg.Transport == nil {
		return
	}
	if !slices.ContainsFunc(msgs, isSnap) {
		n.cfg.Transport.Send(msgs) // the common case: no copy
		return
	}
	rest := make([]raftpb.Message, 0, len(msgs))
	for _, m := range msgs {
		if isSnap(m) {
			n.cfg.Transport.SendSnapshot(m)
		} else {
			rest = append(rest, m)
		}
	}
	if len(rest) > 0 {
		n.cfg.Transport.Send(rest)
	}
}

func isSnap(m raftpb.Message) bool { return m.Type == raftpb.MsgSnap }

// maybeCompact records a snapshot point every SnapshotCount entries and
// trims the log behind it.
func (n *Node) maybeCompact(applied, term uint64) error {
	if n.cfg.SnapshotCount == 0 || applied-n.cfg.Store.SnapshotIndex() < n.cfg.SnapshotCount {
		return nil
	}
	keepFrom := uint64(1)
	if applied > n.cfg.CatchUpEntries {
		keepFrom = applied - n.cfg.CatchUpEntries
	}
	b := n.cfg.DB.NewBatch()
	defer b.Close()
	if err := n.cfg.Store.compact(b, applied, term, keepFrom); err != nil {
		return err
	}
	return n.cfg.DB.Commit(b, storage.NoSync)
}

// LastIndex is the index of the last entry in the durable log.
func (n *Node) LastIndex() uint64 {
	i, _ := n.cfg.Store.LastIndex()
	return i
}
