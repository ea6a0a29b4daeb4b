package v3rpc

import (
	"context"
	"errors"
	"io"

	"github.com/cairn-db/cairn/internal/watch"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
)

// HeaderFunc returns a new response header carrying cluster_id, member_id
// and raft_term, for the caller to keep: the watch server sets its revision
// and sends it.
type HeaderFunc func() *pb.ResponseHeader

// WatchOption configures NewWatchServer.
type WatchOption func(*watchConfig)

type watchConfig struct {
	lg     *zap.Logger
	permit func(ctx context.Context, key, rangeEnd []byte) error
}

// WithWatchLogger sets the watch server's logger; default zap.NewNop().
func WithWatchLogger(lg *zap.Logger) WatchOption {
	return func(c *watchConfig) { c.lg = lg }
}

// WithWatchPermission checks every watch creation. A non-nil error refuses
// the watch: its text becomes the cancel reason (etcd sends
// rpctypes.ErrGRPCPermissionDenied.Error(), or the token errors).
func WithWatchPermission(permit func(ctx context.Context, key, rangeEnd []byte) error) WatchOption {
	return func(c *watchConfig) { c.permit = permit }
}

// WatchServer serves etcd's Watch service from a watch.Hub.
type WatchServer struct {
	pb.UnimplementedWatchServer

	hub *watch.Hub
	hdr HeaderFunc
	cfg watchConfig
	// fragmentBytes is the size above which a fragmenting watcher's
	// responses are split: --max-request-bytes plus gRPC overhead, as etcd.
	fragmentBytes int
}

// NewWatchServer returns the Watch service. maxRequestBytes is
// --max-request-bytes.
func NewWatchServer(hub *watch.Hub, hdr HeaderFunc, maxRequestBytes int, opts ...WatchOption) pb.WatchServer {
	s := &WatchServer{hub: hub, hdr: hdr, fragmentBytes: maxRequestBytes + grpcOverheadBytes}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.lg == nil {
		s.cfg.lg = zap.NewNop()
	}
	return s
}

// Watch runs one watch stream. One goroutine receives requests; this one
// applies them and sends every response, so a watcher's creation response
// always precedes its events and the hub's order is kept.
func (s *WatchServer) Watch(gs pb.Watch_WatchServer) error {
	ctx := gs.Context()
	st := s.hub.NewStream()
	defer st.Close()
	sess := &watchSession{srv: s, gs: gs, st: st, fragment: make(map[int64]bool)}

	reqc := make(chan *pb.WatchRequest)
	errc := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			req, err := gs.Recv()
			if err != nil {
				// io.EOF: the client closed its side; responses go on
				// until the context ends, as etcd.
				if !errors.Is(err, io.EOF) {
					errc <- err
				}
				return
			}
			select {
			case reqc <- req:
			case <-done:
				return
			}
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return watchCtxErr(ctx.Err())
		case err := <-errc:
			if ctx.Err() != nil {
				return watchCtxErr(ctx.Err())
			}
			s.cfg.lg.Debug("watch stream receive failed", zap.Error(err))
			return err
		case req := <-reqc:
			if err := sess.handle(ctx, req); err != nil {
				return err
			}
		case resp, ok := <-st.Chan():
			if !ok {
				return rpctypes.ErrGRPCStopped
			}
			if err := sess.deliver(resp); err != nil {
				return err
			}
		}
	}
}

func watchCtxErr(err error) error {
	if errors.Is(err, context.Canceled) {
		return rpctypes.ErrGRPCWatchCanceled
	}
	return err
}

// watchSession is the state of one stream, owned by its sending goroutine.
type watchSession struct {
	srv *WatchServer
	gs  pb.Watch_WatchServer
	st  *watch.Stream
	// fragment holds the IDs of watchers that asked for fragmentation.
	fragment map[int64]bool
}

func (s *watchSession) handle(ctx context.Context, req *pb.WatchRequest) error {
	switch u := req.GetRequestUnion().(type) {
	case *pb.WatchRequest_CreateRequest:
		if u.CreateRequest != nil {
			return s.create(ctx, u.CreateRequest)
		}
	case *pb.WatchRequest_CancelRequest:
		if u.CancelRequest != nil {
			return s.cancel(u.CancelRequest.GetWatchId())
		}
	case *pb.WatchRequest_ProgressRequest:
		if u.ProgressRequest != nil {
			s.st.RequestProgress()
		}
	default:
		// etcd ignores requests it does not know rather than end the stream.
		s.srv.cfg.lg.Debug("ignoring unknown watch request", zap.Any("request", req))
	}
	return nil
}

func (s *watchSession) create(ctx context.Context, c *pb.WatchCreateRequest) error {
	if c.GetStartRevision() < 0 {
		return s.refuse(rpctypes.ErrCompacted.Error())
	}
	if permit := s.srv.cfg.permit; permit != nil {
		if err := permit(ctx, c.GetKey(), c.GetRangeEnd()); err != nil {
			return s.refuse(err.Error())
		}
	}
	req := watch.WatchRequest{
		ID:             c.GetWatchId(),
		Key:            c.GetKey(),
		End:            c.GetRangeEnd(),
		StartRev:       c.GetStartRevision(),
		PrevKV:         c.GetPrevKv(),
		ProgressNotify: c.GetProgressNotify(),
	}
	for _, f := range c.GetFilters() {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			req.NoPut = true
		case pb.WatchCreateRequest_NODELETE:
			req.NoDelete = true
		}
	}
	id, err := s.st.Watch(req)
	if err != nil {
		return s.refuse(watchCancelReason(err))
	}
	if c.GetFragment() {
		s.fragment[id] = true
	}
	return s.send(&pb.WatchResponse{
		Header:  s.header(s.st.CreatedRev(id)),
		WatchId: id,
		Created: true,
	})
}

// refuse answers a create request that made no watcher, as etcd does.
func (s *watchSession) refuse(reason string) error {
	return s.send(&pb.WatchResponse{
		Header:       s.header(s.srv.hub.Rev()),
		WatchId:      watch.ProgressID, // etcd's InvalidWatchID, -1
		Created:      true,
		Canceled:     true,
		CancelReason: reason,
	})
}

// cancel answers only a known watch ID; etcd is silent about others.
func (s *watchSession) cancel(id int64) error {
	if err := s.st.Cancel(id); err != nil {
		return nil
	}
	delete(s.fragment, id)
	return s.send(&pb.WatchResponse{
		Header:   s.header(s.srv.hub.Rev()),
		WatchId:  id,
		Canceled: true,
	})
}

func (s *watchSession) deliver(r watch.Response) error {
	if r.Stale() {
		return nil
	}
	wr := &pb.WatchResponse{
		Header:          s.header(r.Revision),
		WatchId:         r.WatchID,
		Events:          r.Events,
		CompactRevision: r.CompactRevision,
		Canceled:        r.CompactRevision != 0,
	}
	if r.WatchID != watch.ProgressID && s.fragment[r.WatchID] {
		for _, f := range watchFragments(wr, s.srv.fragmentBytes) {
			if err := s.send(f); err != nil {
				return err
			}
		}
		return nil
	}
	return s.send(wr)
}

func (s *watchSession) send(wr *pb.WatchResponse) error {
	if err := s.gs.Send(wr); err != nil {
		s.srv.cfg.lg.Debug("watch stream send failed", zap.Error(err))
		return err
	}
	return nil
}

// header is the header of a response at rev. HeaderFunc hands out a fresh
// header, so it is used as it is: one allocation per response, not two.
func (s *watchSession) header(rev int64) *pb.ResponseHeader {
	if s.srv.hdr != nil {
		if h := s.srv.hdr(); h != nil {
			h.Revision = rev
			return h
		}
	}
	return &pb.ResponseHeader{Revision: rev}
}

// watchCancelReason is the cancel_reason etcd sends for a refused watch.
func watchCancelReason(err error) string {
	switch {
	case errors.Is(err, watch.ErrDuplicateID):
		return "mvcc: duplicate watch ID provided on the WatchStream"
	case errors.Is(err, watch.ErrEmptyRange):
		return "mvcc: watcher range is empty"
	case errors.Is(err, watch.ErrClosed):
		return rpctypes.ErrStopped.Error()
	}
	return err.Error()
}
