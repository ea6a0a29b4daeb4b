package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Bodies of the refusals; peers and operators match on them.
const (
	bodyClusterMismatch = "cluster ID mismatch"
	bodyRemoved         = "the member has been permanently removed from the cluster"
)

// Handler returns the handler for StreamPath.
func (t *Transport) Handler() http.Handler { return http.HandlerFunc(t.serveStream) }

func (t *Transport) serveStream(w http.ResponseWriter, r *http.Request) {
	// Full duplex lets the handler answer (refusal or 200) before the body
	// ends; without it the server would try to drain a stream that never
	// ends before sending a refusal.
	rc := http.NewResponseController(w)
	if err := rc.EnableFullDuplex(); err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "full duplex unsupported", http.StatusInternalServerError)
		return
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	t.mu.RLock()
	if t.mu.stopped {
		t.mu.RUnlock()
		w.Header().Set("Connection", "close")
		http.Error(w, "transport stopped", http.StatusServiceUnavailable)
		return
	}
	t.handlers.Add(1)
	t.mu.RUnlock()
	defer t.handlers.Done()

	local := t.opts.ClusterID()
	w.Header().Set(HeaderClusterID, idString(local))
	cid, err := strconv.ParseUint(r.Header.Get(HeaderClusterID), 16, 64)
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "bad "+HeaderClusterID, http.StatusBadRequest)
		return
	}
	if cid != local {
		t.lg.Warn("refused stream from another cluster",
			zap.String("remote-cluster-id", idString(cid)), zap.String("local-cluster-id", idString(local)))
		writeRefusal(w, http.StatusPreconditionFailed, bodyClusterMismatch)
		return
	}
	from, err := strconv.ParseUint(r.Header.Get(HeaderFrom), 10, 64)
	if err != nil || from == 0 {
		w.Header().Set("Connection", "close")
		http.Error(w, "bad "+HeaderFrom, http.StatusBadRequest)
		return
	}
	if t.opts.Raft.IsRemovedID(from) {
		writeRefusal(w, http.StatusGone, bodyRemoved)
		return
	}
	to, err := strconv.ParseUint(r.Header.Get(HeaderTo), 10, 64)
	if err != nil || to != t.opts.ID {
		w.Header().Set("Connection", "close")
		http.Error(w, "stream is not addressed to this member", http.StatusBadRequest)
		return
	}

	// Answer before reading, so the sender knows the stream is accepted.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Stop must not wait on a peer that goes quiet: cut the read short.
	stopRead := context.AfterFunc(t.ctx, func() {
		cancel()
		_ = rc.SetReadDeadline(time.Now())
	})
	defer stopRead()
	// RemovePeer cuts the stream of a member that was just removed, so its
	// next connection attempt learns of the removal (410).
	defer t.trackInbound(from, func() {
		cancel()
		_ = rc.SetReadDeadline(time.Now())
	})()

	lg := t.lg.With(zap.String("remote-peer-id", idString(from)))
	fr := newFrameReader(r.Body)
	var m raftpb.Message
	for {
		if err := fr.next(&m); err != nil {
			switch {
			case errors.Is(err, io.EOF), ctx.Err() != nil:
			default:
				lg.Warn("closing stream from peer", zap.Error(err))
			}
			return
		}
		if err := t.opts.Raft.Process(ctx, m); err != nil {
			if ctx.Err() != nil {
				return
			}
			lg.Debug("raft refused message", zap.Stringer("type", m.Type), zap.Error(err))
		}
	}
}

// writeRefusal answers code with exactly body (no trailing newline).
func writeRefusal(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Connection", "close") // the unread stream is not reusable
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// trackInbound records how to cut an inbound stream from peer id; the
// returned func forgets it.
func (t *Transport) trackInbound(id uint64, cut func()) (forget func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.inbound == nil {
		t.mu.inbound = make(map[uint64]map[*func()]struct{})
	}
	if t.mu.inbound[id] == nil {
		t.mu.inbound[id] = make(map[*func()]struct{})
	}
	key := &cut
	t.mu.inbound[id][key] = struct{}{}
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.mu.inbound[id], key)
		if len(t.mu.inbound[id]) == 0 {
			delete(t.mu.inbound, id)
		}
	}
}

// cutInboundLocked cuts every inbound stream from peer id.
func (t *Transport) cutInboundLocked(id uint64) {
	for cut := range t.mu.inbound[id] {
		(*cut)()
	}
}
