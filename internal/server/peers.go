package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/transport"
	"go.etcd.io/raft/v3/raftpb"
)

// raftPeer adapts the server to transport.Raft: incoming messages go to the
// raft node, removed IDs come from membership.
type raftPeer struct{ s *Server }

func (p raftPeer) Process(ctx context.Context, m raftpb.Message) error {
	if p.s.node == nil {
		return ErrStopped
	}
	return p.s.node.Step(ctx, m)
}

func (p raftPeer) IsRemovedID(id uint64) bool { return p.s.cluster.IsRemoved(id) }

func (p raftPeer) ReportUnreachable(id uint64) {
	if p.s.node != nil {
		p.s.node.ReportUnreachable(id)
	}
}

func (p raftPeer) ReportSnapshot(id uint64, ok bool) {
	if p.s.node != nil {
		p.s.node.ReportSnapshot(id, ok)
	}
}

// newPeers builds the transport and tells it every other member.
func (s *Server) newPeers(members []*membership.Member) (*transport.Transport, error) {
	tr, err := transport.New(transport.Options{
		ID:        s.id,
		ClusterID: s.cluster.ID,
		Raft:      raftPeer{s},
		Snapshots: s,
		TLSConfig: s.opts.PeerTLS,
		Logger:    s.lg.Named("transport"),
		// A member still bootstrapping that reaches a running cluster with
		// another ID was started with another member set: it stops, with
		// the guide's words. A serving member only logs, so a misconfigured
		// newcomer can never take a healthy cluster down.
		OnClusterMismatch: func(remote uint64) {
			select {
			case <-s.readyc:
				return
			default:
			}
			//lint:ignore ST1005 the guide's exact text, full stop included
			s.fail(fmt.Errorf("conflicting cluster ID to the target cluster (%s != %s). Exiting.",
				membership.FormatID(s.cluster.ID()), membership.FormatID(remote)))
		},
		// A peer refuses us with 410 once it has applied our removal; this
		// member may have missed that entry while it was down.
		OnRemoved: func() { s.fail(ErrRemoved) },
	})
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.ID != s.id {
			tr.AddPeer(m.ID, m.PeerURLs)
		}
	}
	return tr, nil
}

// PeerHandler serves the member-to-member paths: the raft stream and
// forwarded lease calls. Mount it on the peer listener.
func (s *Server) PeerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(transport.StreamPath, s.peers.Handler())
	mux.Handle(transport.SnapshotPath, s.peers.Handler())
	mux.Handle(transport.ProbePath, s.peers.Handler())
	mux.HandleFunc(leaseRenewPath, s.leaseHandler)
	mux.HandleFunc(leaseRenewBatchPath, s.renewBatchHandler)
	mux.HandleFunc(leaseTTLPath, s.leaseHandler)
	mux.HandleFunc(promotePath, s.promoteHandler)
	return mux
}
