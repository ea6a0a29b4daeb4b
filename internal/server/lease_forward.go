package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/transport"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Peer paths for lease calls that only the leader's lessor can answer. A
// follower forwards them so clients may keep leases alive through any
// member, as with etcd.
const (
	leaseRenewPath = "/cairn/lease/renew"
	leaseTTLPath   = "/cairn/lease/ttl"
	// maxLeaseBody bounds a forwarded request or answer; a TimeToLive
	// answer lists keys, so it may be large.
	maxLeaseBody = 64 << 20
)

// errForwardNotLeader is what a member answers to a forwarded call when it
// is not (or no longer) the leader; the sender retries with the new one.
var errForwardNotLeader = errors.New("server: forwarded lease call reached a non-leader")

var forwardClient = &http.Client{Timeout: 5 * time.Second}

// forward sends req to the leader's peer path and decodes its answer.
func (s *Server) forward(ctx context.Context, path string, req, resp proto.Message) error {
	lead := s.Leader()
	if lead == 0 {
		return ErrNoLeader
	}
	m, ok := s.cluster.Member(lead)
	if !ok || len(m.PeerURLs) == 0 {
		return ErrNoLeader
	}
	body, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	var lastErr error
	for _, u := range m.PeerURLs {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hreq.Header.Set(transport.HeaderClusterID, membership.FormatID(s.cluster.ID()))
		hreq.Header.Set("Content-Type", "application/protobuf")
		hresp, err := forwardClient.Do(hreq)
		if err != nil {
			lastErr = err
			continue
		}
		data, err := io.ReadAll(io.LimitReader(hresp.Body, maxLeaseBody))
		hresp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		switch hresp.StatusCode {
		case http.StatusOK:
			return proto.Unmarshal(data, resp)
		case http.StatusNotFound:
			return lease.ErrLeaseNotFound
		case http.StatusServiceUnavailable:
			return errForwardNotLeader
		default:
			return fmt.Errorf("server: leader answered %d to %s: %s", hresp.StatusCode, path, bytes.TrimSpace(data))
		}
	}
	return fmt.Errorf("server: cannot reach the leader %s: %w", membership.FormatID(lead), lastErr)
}

// forwardRetry forwards, retrying briefly while leadership moves.
func (s *Server) forwardRetry(ctx context.Context, path string, req, resp proto.Message) error {
	for {
		err := s.forward(ctx, path, req, resp)
		if !errors.Is(err, errForwardNotLeader) && !errors.Is(err, ErrNoLeader) {
			return err
		}
		select {
		case <-ctx.Done():
			return ErrNoLeader
		case <-s.stopc:
			return ErrStopped
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// leaseHandler serves forwarded lease calls on the peer port.
func (s *Server) leaseHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if got := r.Header.Get(transport.HeaderClusterID); got != membership.FormatID(s.cluster.ID()) {
		http.Error(w, "cluster ID mismatch", http.StatusPreconditionFailed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLeaseBody))
	if err != nil {
		http.Error(w, "cannot read request", http.StatusBadRequest)
		return
	}
	if s.Leader() != s.id {
		http.Error(w, errForwardNotLeader.Error(), http.StatusServiceUnavailable)
		return
	}
	var resp proto.Message
	switch r.URL.Path {
	case leaseRenewPath:
		req := &pb.LeaseKeepAliveRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		ttl, err := s.renewLocal(r.Context(), req.ID)
		if err != nil {
			leaseHTTPError(w, err)
			return
		}
		resp = &pb.LeaseKeepAliveResponse{ID: req.ID, TTL: ttl}
	case leaseTTLPath:
		req := &pb.LeaseTimeToLiveRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		out, err := s.timeToLiveLocal(r.Context(), req)
		if err != nil {
			leaseHTTPError(w, err)
			return
		}
		resp = out
	default:
		http.NotFound(w, r)
		return
	}
	data, err := proto.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/protobuf")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func leaseHTTPError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, lease.ErrLeaseNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, lease.ErrNotPrimary), errors.Is(err, ErrNotLeader):
		http.Error(w, errForwardNotLeader.Error(), http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
