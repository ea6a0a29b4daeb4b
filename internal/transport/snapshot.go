package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// SnapshotPath is where a leader posts a snapshot: one frame holding the
// MsgSnap (metadata only), then the state in the Snapshotter's format.
const SnapshotPath = "/raft/snapshot"

// SendSnapshot sends m, a MsgSnap, with the state it stands for, in the
// background, and reports the outcome to Raft.ReportSnapshot.
func (t *Transport) SendSnapshot(m raftpb.Message) {
	t.mu.RLock()
	p := t.mu.peers[m.To]
	stopped := t.mu.stopped
	if p != nil && !stopped {
		t.snapshots.Add(1)
	}
	t.mu.RUnlock()
	if p == nil || stopped || t.opts.Snapshots == nil {
		if !stopped {
			t.opts.Raft.ReportSnapshot(m.To, false)
		}
		return
	}
	go func() {
		defer t.snapshots.Done()
		start := time.Now()
		n, err := p.sendSnapshot(m)
		if err != nil {
			p.lg.Warn("sending snapshot failed", zap.Error(err))
			t.opts.Raft.ReportSnapshot(m.To, false)
			return
		}
		p.lg.Info("sent snapshot", zap.Uint64("index", n.Index), zap.Duration("took", time.Since(start)))
		t.opts.Raft.ReportSnapshot(m.To, true)
	}()
}

func (p *peer) sendSnapshot(m raftpb.Message) (raftpb.SnapshotMetadata, error) {
	meta, write, release, err := p.t.opts.Snapshots.OpenSnapshot()
	if err != nil {
		return meta, err
	}
	defer release()
	if meta.Index < m.Snapshot.Metadata.Index {
		return meta, fmt.Errorf("transport: state at %d is older than the snapshot raft asked for (%d)", meta.Index, m.Snapshot.Metadata.Index)
	}
	m.Snapshot = &raftpb.Snapshot{Metadata: meta}

	base := p.nextURL()
	if base == "" {
		return meta, errors.New("transport: peer has no URLs")
	}
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	pr, pw := io.Pipe()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		bw := bufio.NewWriterSize(pw, 256<<10)
		_, err := writeFrame(bw, &m, nil)
		if err == nil {
			err = write(bw)
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	// The writer reads the state through release's snapshot: stop it and
	// wait for it before release runs (deferred earlier, so later).
	defer func() {
		pr.Close()
		<-writerDone
	}()
	req, err := p.newRequest(ctx, base, SnapshotPath, pr)
	if err != nil {
		return meta, err
	}
	resp, err := p.t.client.Do(req)
	if err != nil {
		return meta, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return meta, fmt.Errorf("transport: peer refused the snapshot: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return meta, nil
}

// serveSnapshot receives a snapshot from the leader.
func (t *Transport) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	from, ok := t.admit(w, r)
	if !ok {
		return
	}
	defer t.handlers.Done()
	if t.opts.Snapshots == nil {
		http.Error(w, "this member cannot receive snapshots", http.StatusNotImplemented)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()

	br := bufio.NewReaderSize(r.Body, 256<<10)
	fr := &frameReader{r: br}
	var m raftpb.Message
	if err := fr.next(&m); err != nil {
		http.Error(w, "bad snapshot message: "+err.Error(), http.StatusBadRequest)
		return
	}
	if m.Type != raftpb.MsgSnap || m.From != from || m.To != t.opts.ID || m.Snapshot == nil {
		http.Error(w, "not a snapshot message for this member", http.StatusBadRequest)
		return
	}
	lg := t.lg.With(zap.String("remote-peer-id", idString(from)), zap.Uint64("index", m.Snapshot.Metadata.Index))
	lg.Info("receiving snapshot")
	if err := t.opts.Snapshots.ReceiveSnapshot(ctx, m, br); err != nil {
		lg.Warn("refused snapshot", zap.Error(err))
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
