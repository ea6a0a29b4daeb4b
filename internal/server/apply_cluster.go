package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cairn-db/cairn/internal/membership"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// ClusterVersion is the cluster version Cairn reports: the etcd API level
// it implements.
const ClusterVersion = "3.6.0"

// applyConfChange handles v1 conf changes: the bootstrap entries raft
// writes for the founding members carry each member's record as context.
func (s *Server) applyConfChange(round *applyRound, cc raftpb.ConfChange, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
	cs := applyConf(cc)
	if err := s.logs.StageConfState(round.b, *cs); err != nil {
		return &fatalError{err}
	}
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		var m membership.Member
		if err := json.Unmarshal(cc.Context, &m); err != nil {
			return fmt.Errorf("%w: member in conf change: %v", ErrCorrupt, err)
		}
		m.IsLearner = cc.Type == raftpb.ConfChangeAddLearnerNode
		if _, ok := s.cluster.Member(m.ID); ok {
			return nil
		}
		if err := s.cluster.Add(round.b, &m); err != nil {
			s.lg.Warn("conf change rejected by membership", zap.Error(err))
		} else if m.ID != s.id {
			s.peers.AddPeer(m.ID, m.PeerURLs)
		}
	case raftpb.ConfChangeRemoveNode:
		if err := s.cluster.Remove(round.b, cc.NodeID); err != nil {
			s.lg.Warn("conf change rejected by membership", zap.Error(err))
		} else if cc.NodeID != s.id {
			s.peers.RemovePeer(cc.NodeID)
		}
	}
	return nil
}

// applyConfChangeV2 is for runtime reconfiguration (a later issue); the
// raft side is applied so the log stays consistent.
func (s *Server) applyConfChangeV2(round *applyRound, cc raftpb.ConfChangeV2, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
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
