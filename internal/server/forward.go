package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/transport"
	"google.golang.org/protobuf/proto"
)

// Calls that only the leader can answer (lease renewals, promotion) are
// forwarded by a follower to the leader's peer port as protobuf POSTs. A
// refusal travels as 409 with the name of the error below, so the caller
// gets the same sentinel the leader returned.

// maxForwardBody bounds a forwarded request or answer; a TimeToLive answer
// lists keys, so it may be large.
const maxForwardBody = 64 << 20

// errForwardNotLeader is what a member answers to a forwarded call when it
// is not (or no longer) the leader; the sender retries with the new one.
var errForwardNotLeader = errors.New("server: forwarded call reached a non-leader")

// forwardedErrors names the errors a forwarded call may return.
var forwardedErrors = map[string]error{
	"lease-not-found":     lease.ErrLeaseNotFound,
	"member-not-found":    membership.ErrIDNotFound,
	"member-removed":      membership.ErrIDRemoved,
	"member-not-learner":  membership.ErrNotLearner,
	"learner-not-ready":   ErrLearnerNotReady,
	"not-enough-started":  ErrNotEnoughStarted,
	"too-many-learners":   ErrTooManyLearners,
	"timeout":             ErrTimeout,
	"timeout-leader-lost": ErrTimeoutLeaderLost,
	"no-leader":           ErrNoLeader,
	"stopped":             ErrStopped,
}

// forwardIdleConns is how many idle connections to the leader a member
// keeps for forwarded calls.
const forwardIdleConns = 256

// newForwardClient returns the client for forwarded calls, secured like
// the member's other peer connections.
func newForwardClient(tlsCfg *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		// Lease keep-alives through a follower are forwarded one request
		// each; enough idle connections keep them from opening (and
		// leaving in TIME_WAIT) a connection per request under load.
		Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: forwardIdleConns, ForceAttemptHTTP2: false},
	}
}

// forward sends req to the leader's peer path and decodes its answer.
func (s *Server) forward(ctx context.Context, path string, req, resp proto.Message) error {
	body, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	data, err := s.forwardBytes(ctx, path, body)
	if err != nil {
		return err
	}
	return proto.Unmarshal(data, resp)
}

// errForwardPathUnknown: the leader does not serve the path (it runs an
// older version); the caller falls back to a path it does serve.
var errForwardPathUnknown = errors.New("server: the leader does not serve this forwarded call")

// forwardBytes posts body to the leader's peer path and returns the body
// of its 200 answer.
func (s *Server) forwardBytes(ctx context.Context, path string, body []byte) ([]byte, error) {
	lead := s.Leader()
	if lead == 0 {
		return nil, ErrNoLeader
	}
	m, ok := s.cluster.Member(lead)
	if !ok || len(m.PeerURLs) == 0 {
		return nil, ErrNoLeader
	}
	var lastErr error
	for _, u := range m.PeerURLs {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hreq.Header.Set(transport.HeaderClusterID, membership.FormatID(s.cluster.ID()))
		hreq.Header.Set("Content-Type", "application/protobuf")
		hresp, err := s.forwardClient.Do(hreq)
		if err != nil {
			lastErr = err
			continue
		}
		data, err := io.ReadAll(io.LimitReader(hresp.Body, maxForwardBody))
		hresp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		switch hresp.StatusCode {
		case http.StatusOK:
			return data, nil
		case http.StatusConflict:
			if e, ok := forwardedErrors[strings.TrimSpace(string(data))]; ok {
				return nil, e
			}
		case http.StatusServiceUnavailable:
			return nil, errForwardNotLeader
		case http.StatusNotFound:
			return nil, errForwardPathUnknown
		}
		return nil, fmt.Errorf("server: leader answered %d to %s: %s", hresp.StatusCode, path, bytes.TrimSpace(data))
	}
	return nil, fmt.Errorf("server: cannot reach the leader %s: %w", membership.FormatID(lead), lastErr)
}

// forwardRetry forwards, retrying briefly while leadership moves.
func (s *Server) forwardRetry(ctx context.Context, path string, req, resp proto.Message) error {
	for {
		err := s.forward(ctx, path, req, resp)
		if !retryForward(err) {
			return err
		}
		if err := s.forwardBackoff(ctx); err != nil {
			return err
		}
	}
}

// retryForward reports whether a forwarded call failed only because
// leadership is moving.
func retryForward(err error) bool {
	return errors.Is(err, errForwardNotLeader) || errors.Is(err, ErrNoLeader)
}

// forwardBackoff waits before a forwarded call is retried; it fails when
// the caller gives up or the member stops.
func (s *Server) forwardBackoff(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ErrNoLeader
	case <-s.stopc:
		return ErrStopped
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

// acceptForwarded checks a forwarded call on the leader's side and reads
// its body; on false the answer has been written.
func (s *Server) acceptForwarded(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if got := r.Header.Get(transport.HeaderClusterID); got != membership.FormatID(s.cluster.ID()) {
		http.Error(w, "cluster ID mismatch", http.StatusPreconditionFailed)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForwardBody))
	if err != nil {
		http.Error(w, "cannot read request", http.StatusBadRequest)
		return nil, false
	}
	if s.Leader() != s.id {
		http.Error(w, errForwardNotLeader.Error(), http.StatusServiceUnavailable)
		return nil, false
	}
	return body, true
}

// writeForwarded writes a forwarded call's answer.
func writeForwarded(w http.ResponseWriter, resp proto.Message) {
	data, err := proto.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/protobuf")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// writeForwardError writes a forwarded call's refusal.
func writeForwardError(w http.ResponseWriter, err error) {
	if errors.Is(err, lease.ErrNotPrimary) || errors.Is(err, ErrNotLeader) {
		http.Error(w, errForwardNotLeader.Error(), http.StatusServiceUnavailable)
		return
	}
	for name, e := range forwardedErrors {
		if errors.Is(err, e) {
			http.Error(w, name, http.StatusConflict)
			return
		}
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}
