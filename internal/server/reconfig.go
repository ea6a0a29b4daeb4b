package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// healthInterval is how long a peer's stream must have been up for the
// peer to count as connected in the strict reconfiguration checks (etcd's
// HealthInterval).
const healthInterval = 5 * time.Second

// learnerReadyPercent: a learner may be promoted once it holds this share
// of the leader's log (etcd's rule).
const learnerReadyPercent = 0.9

// removedStopDelay lets a member that applied its own removal answer the
// client that asked for it before stopping.
const removedStopDelay = time.Second

// AddMember adds a voter or a learner with the given peer URLs. It returns
// the new member and the member list after the change.
func (s *Server) AddMember(ctx context.Context, peerURLs []string, isLearner bool) (*membership.Member, []*membership.Member, error) {
	urls, err := checkPeerURLs(peerURLs)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	// etcd's rule for members added at run time: the ID mixes in the time
	// of the request and no token.
	m := &membership.Member{ID: membership.MemberID(urls, "", &now), PeerURLs: urls, IsLearner: isLearner}
	if !isLearner {
		if err := s.mayAddVoter(); err != nil {
			return nil, nil, err
		}
	}
	typ := raftpb.ConfChangeAddNode
	if isLearner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	members, err := s.configure(ctx, typ, m.ID, &confChangeContext{Member: *m})
	if err != nil {
		return nil, nil, err
	}
	return m, members, nil
}

// RemoveMember removes member id and returns the member list after it.
func (s *Server) RemoveMember(ctx context.Context, id uint64) ([]*membership.Member, error) {
	if err := s.mayRemove(id); err != nil {
		return nil, err
	}
	return s.configure(ctx, raftpb.ConfChangeRemoveNode, id, nil)
}

// UpdateMember replaces the peer URLs of member id.
func (s *Server) UpdateMember(ctx context.Context, id uint64, peerURLs []string) ([]*membership.Member, error) {
	urls, err := checkPeerURLs(peerURLs)
	if err != nil {
		return nil, err
	}
	m, ok := s.cluster.Member(id)
	if !ok {
		if s.cluster.IsRemoved(id) {
			return nil, membership.ErrIDRemoved
		}
		return nil, membership.ErrIDNotFound
	}
	m.PeerURLs = urls
	return s.configure(ctx, raftpb.ConfChangeUpdateNode, id, &confChangeContext{Member: *m})
}

// PromoteMember makes learner id a voter. Only the leader knows whether the
// learner has caught up, so a follower forwards the call to it.
func (s *Server) PromoteMember(ctx context.Context, id uint64) ([]*membership.Member, error) {
	if s.Leader() != s.id {
		return s.forwardPromote(ctx, id)
	}
	return s.promoteLocal(ctx, id)
}

// promoteLocal promotes on the leader.
func (s *Server) promoteLocal(ctx context.Context, id uint64) ([]*membership.Member, error) {
	m, ok := s.cluster.Member(id)
	if !ok {
		return nil, membership.ErrIDNotFound
	}
	if !m.IsLearner {
		return nil, membership.ErrNotLearner
	}
	if err := s.learnerReady(ctx, id); err != nil {
		return nil, err
	}
	if s.opts.StrictReconfigCheck && !s.quorumStarted(1, 1, 0) {
		return nil, ErrNotEnoughStarted
	}
	m.IsLearner = false
	return s.configure(ctx, raftpb.ConfChangeAddNode, id, &confChangeContext{Member: *m, IsPromote: true})
}

// configure proposes one membership change and waits until it is applied.
func (s *Server) configure(ctx context.Context, typ raftpb.ConfChangeType, id uint64, cctx *confChangeContext) ([]*membership.Member, error) {
	select {
	case <-s.stopc:
		return nil, ErrStopped
	default:
	}
	if s.Leader() == 0 {
		return nil, ErrNoLeader
	}
	cc := raftpb.ConfChange{Type: typ, NodeID: id, ID: s.reqID.next()}
	if cctx != nil {
		b, err := json.Marshal(cctx)
		if err != nil {
			return nil, err
		}
		cc.Context = b
	}
	ch := s.waits.register(cc.ID)
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	if err := s.node.ProposeConfChange(ctx, cc); err != nil {
		s.waits.cancel(cc.ID)
		s.proposalsFailed.Add(1)
		return nil, s.proposeErr(ctx, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return r.resp.([]*membership.Member), nil
	case <-ctx.Done():
		// raft drops a conf change proposed while another is pending; the
		// caller sees a timeout, as with etcd.
		s.waits.cancel(cc.ID)
		s.proposalsFailed.Add(1)
		return nil, s.proposeErr(ctx, ctx.Err())
	case <-s.stopc:
		return nil, ErrStopped
	}
}

// checkPeerURLs validates and normalises peer URLs as etcd's types.NewURLs
// does: http or https, host:port, nothing else.
func checkPeerURLs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, ErrBadPeerURLs
	}
	for _, s := range in {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Port() == "" ||
			u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("%w: %q", ErrBadPeerURLs, s)
		}
	}
	out := membership.NormalizeURLs(in)
	slices.Sort(out)
	return out, nil
}

// mayAddVoter is the strict check before adding a voter: a quorum of the
// enlarged cluster must already be started, and connected.
func (s *Server) mayAddVoter() error {
	if !s.opts.StrictReconfigCheck {
		return nil
	}
	if !s.quorumStarted(1, 0, 0) {
		return ErrNotEnoughStarted
	}
	if !s.quorumConnected() {
		return ErrUnhealthy
	}
	return nil
}

// mayRemove is the strict check before removing a member: what remains must
// hold a quorum of started members, and removing an active voter must not
// leave fewer connected voters than a quorum.
func (s *Server) mayRemove(id uint64) error {
	if !s.opts.StrictReconfigCheck {
		return nil
	}
	m, ok := s.cluster.Member(id)
	if !ok || m.IsLearner {
		return nil // apply answers "not found"; a learner never holds quorum
	}
	if !s.quorumStarted(0, 0, id) {
		return ErrNotEnoughStarted
	}
	if id != s.id && s.peers.ActiveSince(id).IsZero() {
		return nil // a member that is down is not part of the live quorum
	}
	voters := s.voters()
	active := s.connectedSince(time.Now().Add(-healthInterval), voters)
	if active-1 < 1+(len(voters)-1)/2 {
		return ErrUnhealthy
	}
	return nil
}

// quorumStarted reports whether the voters, counted without voter except
// and with newVoters more (newStarted of them already started), have a
// quorum of started members, i.e. members that published their attributes.
// As in etcd, a one-member cluster may always grow to two.
func (s *Server) quorumStarted(newVoters, newStarted int, except uint64) bool {
	n, started := newVoters, newStarted
	for _, m := range s.voters() {
		if m.ID == except {
			continue
		}
		n++
		if m.Name != "" {
			started++
		}
	}
	if newVoters == 1 && newStarted == 0 && n == 2 && started == 1 {
		return true
	}
	return n > 0 && started >= n/2+1
}

// quorumConnected reports whether this member has had streams to a quorum
// of the voters (itself included) for healthInterval.
func (s *Server) quorumConnected() bool {
	voters := s.voters()
	return s.connectedSince(time.Now().Add(-healthInterval), voters) >= len(voters)/2+1
}

// connectedSince counts the members, this one included, whose stream has
// been up since before since.
func (s *Server) connectedSince(since time.Time, members []*membership.Member) int {
	n := 0
	for _, m := range members {
		if m.ID == s.id {
			n++
			continue
		}
		if t := s.peers.ActiveSince(m.ID); !t.IsZero() && t.Before(since) {
			n++
		}
	}
	return n
}

func (s *Server) voters() []*membership.Member {
	return slices.DeleteFunc(s.cluster.Members(), func(m *membership.Member) bool { return m.IsLearner })
}

// learnerReady checks, on the leader, that learner id holds enough of the
// log to vote without slowing commits.
func (s *Server) learnerReady(ctx context.Context, id uint64) error {
	st, err := s.node.Status(ctx)
	if err != nil {
		return err
	}
	if st.ID != st.Lead {
		return ErrNotLeader
	}
	pr, ok := st.Progress[id]
	if !ok {
		return ErrLearnerNotReady
	}
	if float64(pr.Match) < float64(st.Progress[st.ID].Match)*learnerReadyPercent {
		return ErrLearnerNotReady
	}
	return nil
}

// stopRemoved runs after this member applied its own removal.
func (s *Server) stopRemoved() {
	s.lg.Warn("this member has been removed from the cluster; stopping",
		zap.String("member-id", membership.FormatID(s.id)))
	s.goAttach(func() {
		t := time.NewTimer(removedStopDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.stopc:
			return
		}
		s.fail(ErrRemoved)
	})
}

// IsLearner reports whether this member is a learner. Every client call
// asks, so it reads a flag that refreshRole keeps in step with the member
// list rather than the list itself.
func (s *Server) IsLearner() bool { return s.learner.Load() }

// refreshRole re-reads whether this member is a learner; it runs whenever
// the member list may have changed (start, conf change, snapshot).
func (s *Server) refreshRole() { s.learner.Store(s.cluster.IsLearner(s.id)) }
