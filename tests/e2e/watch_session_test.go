package e2e

import (
	"context"
	"fmt"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// watchWait bounds the wait for the answers an exchange expects.
const watchWait = 10 * time.Second

// watchStream is one raw gRPC Watch stream of the differential script, so
// that watch IDs, created/canceled answers, compact revisions and progress
// notifications are recorded as they are on the wire.
type watchStream struct {
	s      *session
	cancel context.CancelFunc
	stream pb.Watch_WatchClient
	resps  chan *pb.WatchResponse // closed when Recv fails
	err    error                  // Recv's error; read after resps is closed
}

func (s *session) openWatch() *watchStream {
	ctx, cancel := context.WithCancel(s.t.Context())
	w := &watchStream{s: s, cancel: cancel, resps: make(chan *pb.WatchResponse, 1024)}
	stream, err := s.watch.Watch(ctx)
	if err != nil {
		w.err = err
		close(w.resps)
		return w
	}
	w.stream = stream
	go func() {
		defer close(w.resps)
		for {
			r, err := stream.Recv()
			if err != nil {
				w.err = err
				return
			}
			w.resps <- r
		}
	}()
	return w
}

func (w *watchStream) close() {
	w.cancel()
	for range w.resps {
	}
}

// exchange sends req (if not nil), then records what arrives until at least
// wantEvents events and wantControl responses without events have come, and
// then for settle more (to catch answers that should not be there).
// Responses without events are recorded whole, in order; events are grouped
// by watch ID without their response headers, since how a server batches
// events into responses is its own choice.
func (w *watchStream) exchange(name string, req *pb.WatchRequest, wantEvents, wantControl int, settle time.Duration) {
	st := w.s.tr.add(name)
	if req != nil {
		if w.stream == nil {
			st.errorLine(w.err)
			return
		}
		if err := w.stream.Send(req); err != nil {
			st.errorLine(err)
			return
		}
	}
	events := map[int64][]*mvccpb.Event{}
	nEvents, nControl := 0, 0
	timeout := time.NewTimer(watchWait)
	defer timeout.Stop()
	var settleC <-chan time.Time
	if wantEvents == 0 && wantControl == 0 {
		settleC = time.After(settle)
	}
loop:
	for {
		select {
		case r, ok := <-w.resps:
			if !ok {
				st.line("stream ended: %s", describeError(w.err))
				break loop
			}
			if len(r.Events) > 0 && !r.Created && !r.Canceled && r.CompactRevision == 0 {
				events[r.WatchId] = append(events[r.WatchId], r.Events...)
				nEvents += len(r.Events)
			} else {
				st.message(fmt.Sprintf("response[%d].", nControl), r)
				nControl++
			}
			if settleC == nil && nEvents >= wantEvents && nControl >= wantControl {
				settleC = time.After(settle)
			}
		case <-settleC:
			break loop
		case <-timeout.C:
			st.line("timed out after %v waiting for %d events and %d other responses", watchWait, wantEvents, wantControl)
			break loop
		}
	}
	ids := make([]int64, 0, len(events))
	for id := range events {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for i, ev := range events[id] {
			st.message(fmt.Sprintf("watch %d event[%d].", id, i), ev)
		}
	}
}

func createReq(c *pb.WatchCreateRequest) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: c}}
}

func cancelReq(id int64) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: id}}}
}

func progressReq() *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}}
}
