package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"
)

// Bodies of the refusals; peers and operators match on them.
const (
	bodyClusterMismatch = "cluster ID mismatch"
	bodyRemoved         = "the member has been permanently removed from the cluster"
)

// Handler returns the handler for StreamPath, SnapshotPath and ProbePath.
func (t *Transport) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(StreamPath, t.serveStream)
	mux.HandleFunc(SnapshotPath, t.serveSnapshot)
	mux.HandleFunc(ProbePath, serveProbe)
	return mux
}

// admit runs the checks every peer request passes: method, cluster ID,
// sender not removed, addressed to us. On success the request counts as a
// running handler (the caller must call t.handlers.Done) and the sender's
// ID is returned; otherwise the refusal has been written.
func (t *Transport) admit(w http.ResponseWriter, r *http.Request) (from uint64, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return 0, false
	}
	local := t.opts.ClusterID()
	w.Header().Set(HeaderClusterID, idString(local))
	cid, err := strconv.ParseUint(r.Header.Get(HeaderClusterID), 16, 64)
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "bad "+HeaderClusterID, http.StatusBadRequest)
		return 0, false
	}
	if cid != local {
		t.lg.Warn("refused stream from another cluster",
			zap.String("remote-cluster-id", idString(cid)), zap.String("local-cluster-id", idString(local)))
		writeRefusal(w, http.StatusPreconditionFailed, bodyClusterMismatch)
		return 0, false
	}
	from, err = strconv.ParseUint(r.Header.Get(HeaderFrom), 10, 64)
	if err != nil || from == 0 {
		w.Header().Set("Connection", "close")
		http.Error(w, "bad "+HeaderFrom, http.StatusBadRequest)
		return 0, false
	}
	if t.opts.Raft.IsRemovedID(from) {
		writeRefusal(w, http.StatusGone, bodyRemoved)
		return 0, false
	}
	to, err := strconv.ParseUint(r.Header.Get(HeaderTo), 10, 64)
	if err != nil || to != t.opts.ID {
		w.Header().Set("Connection", "close")
		http.Error(w, "stream is not addressed to this member", http.StatusBadRequest)
		return 0, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.mu.stopped {
		w.Header().Set("Connection", "close")
		http.Error(w, "transport stopped", http.StatusServiceUnavailable)
		return 0, false
	}
	t.handlers.Add(1)
	return from, true
}

func (t *Transport) serveStream(w http.ResponseWriter, r *http.Request) {
	from, ok := t.admit(w, r)
	if !ok {
		return
	}
	defer t.handlers.Done()
	if !httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade") || !strings.EqualFold(r.Header.Get("Upgrade"), StreamProtocol) {
		w.Header().Set("Connection", "close")
		http.Error(w, "a stream must upgrade to "+StreamProtocol, http.StatusUpgradeRequired)
		return
	}

	// Take the connection over: frames are read from it directly, and
	// the answer is 101 before any frame is read, so the sender knows the
	// stream is accepted.
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.lg.Warn("cannot take over a stream connection", zap.Error(err))
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{}) // the server's timeouts are for requests
	if _, err := brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + StreamProtocol + "\r\n\r\n"); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}

	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	cut := func() {
		cancel()
		_ = conn.SetReadDeadline(time.Now())
	}
	// Stop must not wait on a peer that goes quiet: cut the read short.
	defer context.AfterFunc(t.ctx, cut)()
	// RemovePeer cuts the stream of a member that was just removed, so its
	// next connection attempt learns of the removal (410).
	defer t.trackInbound(from, cut)()

	lg := t.lg.With(zap.String("remote-peer-id", idString(from)))
	fr := newFrameReader(brw.Reader)
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
