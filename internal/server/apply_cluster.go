package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-db/cairn/internal/membership"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// ClusterVersion is the cluster version Cairn reports: the etcd API level
// it implements.
const ClusterVersion = "3.6.0"

// confChangeContext is the Context of a conf change entry: the member's
// record, and for an AddNode whether it promotes a learner. The layout is
// etcd's (the record's fields inline, plus "isPromote"), and the bootstrap
// entries' plain member records decode into it too.
type confChangeContext struct {
	membership.Member
	IsPromote bool `json:"isPromote,omitempty"`
}

// applyConfChange applies a membership change. Every member runs the same
// checks on the same state, so a refused change is refused everywhere: raft
// then applies it as a no-op (NodeID zero) and the proposer gets the error.
func (s *Server) applyConfChange(round *applyRound, cc raftpb.ConfChange, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
	var ctx confChangeContext
	if cc.Type != raftpb.ConfChangeRemoveNode {
		if err := json.Unmarshal(cc.Context, &ctx); err != nil {
			return fmt.Errorf("%w: member in conf change: %v", ErrCorrupt, err)
		}
		if ctx.ID != cc.NodeID {
			return fmt.Errorf("%w: conf change for %x carries member %x", ErrCorrupt, cc.NodeID, ctx.ID)
		}
	}
	err := s.applyMembership(round, cc, &ctx)
	if err != nil {
		if !isMembershipRefusal(err) {
			return &fatalError{err}
		}
		s.lg.Warn("membership change refused", zap.Stringer("type", cc.Type),
			zap.String("member-id", membership.FormatID(cc.NodeID)), zap.Error(err))
		cc.NodeID = raft.None
	}
	cs := applyConf(cc)
	if err := s.logs.StageConfState(round.b, *cs); err != nil {
		return &fatalError{err}
	}
	round.afterCommit(s.refreshRole)
	if cc.ID == 0 {
		return nil // a bootstrap entry: nobody waits for it
	}
	r := result{err: err}
	if err == nil {
		r.resp = s.cluster.Members()
	}
	round.results = append(round.results, applied{id: cc.ID, r: r})
	return nil
}

// applyMembership checks cc against the member list and stages the change;
// on a refusal nothing is staged. Transport changes wait for the commit.
func (s *Server) applyMembership(round *applyRound, cc raftpb.ConfChange, ctx *confChangeContext) error {
	id := cc.NodeID
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if ctx.IsPromote {
			if cc.Type != raftpb.ConfChangeAddNode {
				return fmt.Errorf("%w: promotion as a learner", ErrCorrupt)
			}
			return s.cluster.Promote(round.b, id)
		}
		m := ctx.Member
		m.IsLearner = cc.Type == raftpb.ConfChangeAddLearnerNode
		if m.IsLearner && s.cluster.Learners() >= s.opts.MaxLearners {
			return ErrTooManyLearners
		}
		if err := s.cluster.Add(round.b, &m); err != nil {
			return err
		}
		if id != s.id {
			round.afterCommit(func() { s.peers.AddPeer(id, m.PeerURLs) })
		}
	case raftpb.ConfChangeRemoveNode:
		if m, ok := s.cluster.Member(id); ok && !m.IsLearner && len(s.voters()) == 1 {
			// raft cannot remove its last voter.
			return ErrNotEnoughStarted
		}
		if err := s.cluster.Remove(round.b, id); err != nil {
			return err
		}
		if id == s.id {
			round.afterCommit(s.stopRemoved)
		} else {
			round.afterCommit(func() { s.peers.RemovePeer(id) })
		}
	case raftpb.ConfChangeUpdateNode:
		if err := s.cluster.UpdatePeerURLs(round.b, id, ctx.PeerURLs); err != nil {
			return err
		}
		if id != s.id {
			urls := ctx.PeerURLs
			round.afterCommit(func() { s.peers.UpdatePeer(id, urls) })
		}
	default:
		return fmt.Errorf("%w: conf change type %v", ErrCorrupt, cc.Type)
	}
	return nil
}

// isMembershipRefusal tells a refused change, which every member refuses
// alike, from a storage failure, which must stop this member.
func isMembershipRefusal(err error) bool {
	for _, r := range []error{membership.ErrIDExists, membership.ErrIDRemoved, membership.ErrIDNotFound,
		membership.ErrPeerURLExists, membership.ErrNotLearner, ErrTooManyLearners, ErrNotEnoughStarted} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// applyConfChangeV2 applies joint-consensus changes to raft only. Cairn and
// etcd propose v1 changes; a v2 entry can only come from another tool.
func (s *Server) applyConfChangeV2(round *applyRound, cc raftpb.ConfChangeV2, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
	if len(cc.Changes) > 0 || cc.Transition != raftpb.ConfChangeTransitionAuto {
		return fmt.Errorf("%w: joint-consensus conf changes are not supported", ErrCorrupt)
	}
	// An empty v2 change leaves a joint configuration; raft proposes it
	// itself.
	cs := applyConf(cc)
	if err := s.logs.StageConfState(round.b, *cs); err != nil {
		return &fatalError{err}
	}
	return nil
}

func (s *Server) applyMemberAttrSet(round *applyRound, req *membershippb.ClusterMemberAttrSetRequest) result {
	if req.MemberAttributes == nil {
		return result{err: ErrNotSupported}
	}
	err := s.cluster.UpdateAttributes(round.b, req.Member_ID, req.MemberAttributes.Name, req.MemberAttributes.ClientUrls)
	if err != nil {
		return result{err: err}
	}
	return result{resp: struct{}{}}
}

func (s *Server) applyClusterVersionSet(round *applyRound, req *membershippb.ClusterVersionSetRequest) result {
	if err := s.cluster.SetVersion(round.b, req.Ver); err != nil {
		return result{err: &fatalError{err}}
	}
	return result{resp: struct{}{}}
}

// publishOnce proposes this member's attributes, and on the leader the
// cluster version when it is not set yet.
func (s *Server) publishOnce(ctx context.Context) error {
	_, err := s.propose(ctx, &pb.InternalRaftRequest{ClusterMemberAttrSet: &membershippb.ClusterMemberAttrSetRequest{
		Member_ID: s.id,
		MemberAttributes: &membershippb.Attributes{
			Name:       s.opts.Name,
			ClientUrls: s.opts.ClientURLs,
		},
	}})
	if err != nil {
		return err
	}
	if s.cluster.Version() == "" && s.Leader() == s.id {
		_, err = s.propose(ctx, &pb.InternalRaftRequest{ClusterVersionSet: &membershippb.ClusterVersionSetRequest{Ver: ClusterVersion}})
	}
	return err
}
