package v3rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/watch"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// watchHistory is an in-memory History for the watch server tests.
type watchHistory struct {
	mu      sync.Mutex
	evs     []*mvccpb.Event
	rev     int64
	compact int64
	kvs     map[string]*mvccpb.KeyValue
}

func (h *watchHistory) Rev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev
}

func (h *watchHistory) CompactRev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.compact
}

func (h *watchHistory) Events(from, to int64, limit int, prevKV bool) ([]*mvccpb.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if from <= h.compact {
		return nil, errors.New("test: compacted")
	}
	var out []*mvccpb.Event
	for _, ev := range h.evs {
		rev := ev.Kv.ModRevision
		if rev < from || rev > to {
			continue
		}
		if len(out) >= limit && out[len(out)-1].Kv.ModRevision != rev {
			break
		}
		c := &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
		if prevKV {
			c.PrevKv = ev.PrevKv
		}
		out = append(out, c)
	}
	return out, nil
}

// commit writes one revision; a value of "" deletes the key.
func (h *watchHistory) commit(kv ...string) (int64, []*mvccpb.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rev++
	var evs []*mvccpb.Event
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		prev := h.kvs[k]
		if v == "" {
			delete(h.kvs, k)
			evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte(k), ModRevision: h.rev}, PrevKv: prev})
			continue
		}
		cur := &mvccpb.KeyValue{Key: []byte(k), Value: []byte(v), CreateRevision: h.rev, ModRevision: h.rev, Version: 1}
		if prev != nil {
			cur.CreateRevision, cur.Version = prev.CreateRevision, prev.Version+1
		}
		h.kvs[k] = cur
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: cur, PrevKv: prev})
	}
	h.evs = append(h.evs, evs...)
	return h.rev, evs
}

type watchEnv struct {
	t      *testing.T
	hist   *watchHistory
	hub    *watch.Hub
	cli    *clientv3.Client
	closed chan struct{} // one value per Watch handler that returned
}

// trackedWatch reports when a Watch handler returns.
type trackedWatch struct {
	pb.WatchServer
	closed chan struct{}
}

func (w trackedWatch) Watch(gs pb.Watch_WatchServer) error {
	defer func() { w.closed <- struct{}{} }()
	return w.WatchServer.Watch(gs)
}

func newWatchEnv(t *testing.T, opts watch.Options, maxRequestBytes int, preload int, wopts ...WatchOption) *watchEnv {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	e := &watchEnv{t: t, hist: &watchHistory{kvs: make(map[string]*mvccpb.KeyValue)}, closed: make(chan struct{}, 100)}
	for i := range preload {
		e.hist.commit(fmt.Sprintf("pre%d", i%3), fmt.Sprint(i))
	}
	if opts.ResyncInterval == 0 {
		opts.ResyncInterval = 5 * time.Millisecond
	}
	e.hub = watch.NewHub(e.hist, opts)
	hdr := func() *pb.ResponseHeader { return &pb.ResponseHeader{ClusterId: 11, MemberId: 22, RaftTerm: 33} }
	srv := NewWatchServer(e.hub, hdr, maxRequestBytes, append([]WatchOption{WithWatchLogger(zap.NewNop())}, wopts...)...)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	pb.RegisterWatchServer(g, trackedWatch{srv, e.closed})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(lis)
	}()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{lis.Addr().String()},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cli = cli
	t.Cleanup(func() {
		cli.Close()
		g.Stop()
		<-served
		e.hub.Close()
	})
	return e
}

// write commits one revision and notifies the hub.
func (e *watchEnv) write(kv ...string) int64 {
	rev, evs := e.hist.commit(kv...)
	e.hub.Notify(rev, evs)
	return rev
}

func (e *watchEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

func recvWatch(t *testing.T, ch clientv3.WatchChan) clientv3.WatchResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no watch response")
	}
	panic("unreachable")
}

func watchEvString(evs []*clientv3.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s %s@%d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision)
		if ev.PrevKv != nil {
			fmt.Fprintf(&b, " prev=%s", ev.PrevKv.Value)
		}
		b.WriteString("; ")
	}
	return b.String()
}

func TestWatchClientEvents(t *testing.T) {
	e := newWatchEnv(t, watch.Options{}, 1<<20, 0)
	ctx := e.ctx()
	wch := e.cli.Watch(ctx, "foo", clientv3.WithPrefix(), clientv3.WithPrevKV())
	e.write("foo1", "a")
	e.write("bar", "x")
	e.write("foo1", "b", "foo2", "c")
	e.write("foo1", "")

	want := []string{
		"PUT foo1@1; ",
		"PUT foo1@3 prev=a; PUT foo2@3; ",
		"DELETE foo1@4 prev=b; ",
	}
	for i, w := range want {
		r := recvWatch(t, wch)
		if got := watchEvString(r.Events); got != w {
			t.Fatalf("response %d: %q, want %q", i, got, w)
		}
		h := r.Header
		if h.ClusterId != 11 || h.MemberId != 22 || h.RaftTerm != 33 || h.Revision != r.Events[0].Kv.ModRevision {
			t.Fatalf("response %d header %v", i, h)
		}
	}
}

func TestWatchClientFromPastAndFilters(t *testing.T) {
	e := newWatchEnv(t, watch.Options{SyncEvents: 2}, 1<<20, 9)
	ctx := e.ctx()
	all := e.cli.Watch(ctx, "pre0", clientv3.WithRev(2))
	noPut := e.cli.Watch(ctx, "pre", clientv3.WithPrefix(), clientv3.WithRev(1), clientv3.WithFilterPut())
	from := e.cli.Watch(ctx, "pre1", clientv3.WithFromKey(), clientv3.WithRev(8))
	e.write("pre0", "")

	// pre0 at 4 and 7 from history, then the delete at 10.
	if s := recvEvents(t, all, 3); s != "PUT pre0@4; PUT pre0@7; DELETE pre0@10; " {
		t.Fatalf("catch-up: %s", s)
	}
	if s := recvEvents(t, noPut, 1); s != "DELETE pre0@10; " {
		t.Fatalf("NOPUT watcher: %s", s)
	}
	// From key pre1 at revision 8 (pre0 sorts before pre1).
	if s := recvEvents(t, from, 2); s != "PUT pre1@8; PUT pre2@9; " {
		t.Fatalf("from-key: %s", s)
	}
}

// recvEvents receives until n events came and describes them.
func recvEvents(t *testing.T, ch clientv3.WatchChan, n int) string {
	t.Helper()
	var evs []*clientv3.Event
	for len(evs) < n {
		evs = append(evs, recvWatch(t, ch).Events...)
	}
	return watchEvString(evs)
}

func TestWatchClientCompacted(t *testing.T) {
	e := newWatchEnv(t, watch.Options{}, 1<<20, 9)
	e.hist.mu.Lock()
	e.hist.compact = 5
	e.hist.mu.Unlock()
	wch := e.cli.Watch(e.ctx(), "pre0", clientv3.WithRev(2))
	r := recvWatch(t, wch)
	if !r.Canceled || r.CompactRevision != 6 || !errors.Is(r.Err(), rpctypes.ErrCompacted) {
		t.Fatalf("got %+v (err %v), want compaction at 6", r, r.Err())
	}
	if _, ok := <-wch; ok {
		t.Fatal("watch channel open after compaction")
	}
	// Watching from the reported revision works.
	wch = e.cli.Watch(e.ctx(), "pre0", clientv3.WithRev(r.CompactRevision))
	if s := watchEvString(recvWatch(t, wch).Events); s != "PUT pre0@7; " {
		t.Fatalf("from compact revision: %s", s)
	}
}

func TestWatchClientProgress(t *testing.T) {
	e := newWatchEnv(t, watch.Options{ProgressNotifyInterval: 20 * time.Millisecond}, 1<<20, 3)
	ctx := e.ctx()
	wch := e.cli.Watch(ctx, "k", clientv3.WithProgressNotify())
	r := recvWatch(t, wch)
	if !r.IsProgressNotify() || r.Header.Revision != 3 {
		t.Fatalf("got %+v, want periodic progress at 3", r)
	}

	quiet := e.cli.Watch(ctx, "q")
	rev := e.write("other", "x")
	if err := e.cli.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		r := recvWatch(t, quiet)
		if !r.IsProgressNotify() {
			t.Fatalf("quiet watcher got %+v", r)
		}
		if r.Header.Revision == rev {
			break
		}
	}
}

func TestWatchClientFragment(t *testing.T) {
	e := newWatchEnv(t, watch.Options{}, 1, 0) // split above 512 KiB + 1
	ctx := e.ctx()
	wch := e.cli.Watch(ctx, "big", clientv3.WithPrefix(), clientv3.WithFragment())
	big := strings.Repeat("x", 200<<10)
	var kv []string
	for i := range 8 {
		kv = append(kv, fmt.Sprint("big", i), big)
	}
	rev := e.write(kv...)
	r := recvWatch(t, wch)
	if len(r.Events) != 8 || r.Events[7].Kv.ModRevision != rev {
		t.Fatalf("reassembled %d events, want 8", len(r.Events))
	}

	// On the wire the response came in fragments.
	raw := newRawWatch(t, e)
	raw.create(&pb.WatchCreateRequest{Key: []byte("big"), RangeEnd: []byte("bih"), StartRevision: rev, Fragment: true})
	if c := raw.recv(); !c.Created {
		t.Fatalf("got %v, want created", c)
	}
	n, parts := 0, 0
	for n < 8 {
		f := raw.recv()
		parts++
		n += len(f.Events)
		if f.Fragment != (n < 8) {
			t.Fatalf("fragment %d has Fragment=%v with %d/8 events", parts, f.Fragment, n)
		}
	}
	if parts < 3 {
		t.Fatalf("8 events of 200 KiB came in %d parts", parts)
	}
}

// rawWatch drives the Watch protocol directly.
type rawWatch struct {
	t      *testing.T
	stream pb.Watch_WatchClient
	cancel context.CancelFunc
	resps  chan *pb.WatchResponse
	err    error // why the stream ended; set before resps is closed
}

func newRawWatch(t *testing.T, e *watchEnv) *rawWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := pb.NewWatchClient(e.cli.ActiveConnection()).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawWatch{t: t, stream: stream, cancel: cancel, resps: make(chan *pb.WatchResponse, 100)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(r.resps)
		for {
			resp, err := stream.Recv()
			if err != nil {
				r.err = err
				return
			}
			r.resps <- resp
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

func (r *rawWatch) send(req *pb.WatchRequest) {
	r.t.Helper()
	if err := r.stream.Send(req); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawWatch) create(c *pb.WatchCreateRequest) {
	r.send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: c}})
}

func (r *rawWatch) cancelWatch(id int64) {
	r.send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: id}}})
}

func (r *rawWatch) progress() {
	r.send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
}

func (r *rawWatch) recv() *pb.WatchResponse {
	r.t.Helper()
	select {
	case resp, ok := <-r.resps:
		if !ok {
			r.t.Fatal("watch stream ended")
		}
		return resp
	case <-time.After(10 * time.Second):
		r.t.Fatal("no watch response")
	}
	panic("unreachable")
}

func TestWatchProtocol(t *testing.T) {
	e := newWatchEnv(t, watch.Options{}, 1<<20, 9)
	e.hist.mu.Lock()
	e.hist.compact = 3
	e.hist.mu.Unlock()
	raw := newRawWatch(t, e)
	type check struct {
		name string
		req  func()
		want string
	}
	checks := []check{
		{"create", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("a")}) },
			"id=0 created header=11/22/33@9"},
		{"explicit id", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("a"), WatchId: 7}) },
			"id=7 created header=11/22/33@9"},
		{"duplicate id", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("a"), WatchId: 7}) },
			`id=-1 created canceled reason="mvcc: duplicate watch ID provided on the WatchStream" header=11/22/33@9`},
		{"empty range", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("b"), RangeEnd: []byte("a")}) },
			`id=-1 created canceled reason="mvcc: watcher range is empty" header=11/22/33@9`},
		{"negative start", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("a"), StartRevision: -1}) },
			`id=-1 created canceled reason="etcdserver: mvcc: required revision has been compacted" header=11/22/33@9`},
		{"cancel", func() { raw.cancelWatch(99); raw.cancelWatch(7) },
			"id=7 canceled header=11/22/33@9"},
		{"progress", func() { raw.progress() },
			"id=-1 header=11/22/33@9"},
		{"compacted start", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("pre0"), StartRevision: 2}) },
			"id=1 created header=11/22/33@9\nid=1 canceled compact=4 header=11/22/33@0"},
		{"future start", func() { raw.create(&pb.WatchCreateRequest{Key: []byte("f"), StartRevision: 11, PrevKv: true}) },
			"id=2 created header=11/22/33@9"},
		{"waits for its start", func() { e.write("f", "10"); e.write("f", "11") },
			"id=2 events=[PUT f@11 prev=10] header=11/22/33@11"},
	}
	for _, c := range checks {
		c.req()
		var got []string
		for range strings.Count(c.want, "\n") + 1 {
			got = append(got, describeWatchResp(raw.recv()))
		}
		if s := strings.Join(got, "\n"); s != c.want {
			t.Fatalf("%s:\ngot  %s\nwant %s", c.name, s, c.want)
		}
	}

	// The stream ends when the client goes away; the handler returns.
	raw.cancel()
	select {
	case <-e.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch handler still running after the client canceled")
	}
}

func describeWatchResp(r *pb.WatchResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%d", r.WatchId)
	if r.Created {
		b.WriteString(" created")
	}
	if r.Canceled {
		b.WriteString(" canceled")
	}
	if r.CancelReason != "" {
		fmt.Fprintf(&b, " reason=%q", r.CancelReason)
	}
	if r.CompactRevision != 0 {
		fmt.Fprintf(&b, " compact=%d", r.CompactRevision)
	}
	if len(r.Events) > 0 {
		var evs []string
		for _, ev := range r.Events {
			s := fmt.Sprintf("%s %s@%d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision)
			if ev.PrevKv != nil {
				s += " prev=" + string(ev.PrevKv.Value)
			}
			evs = append(evs, s)
		}
		sort.Strings(evs)
		fmt.Fprintf(&b, " events=[%s]", strings.Join(evs, ", "))
	}
	h := r.Header
	fmt.Fprintf(&b, " header=%d/%d/%d@%d", h.GetClusterId(), h.GetMemberId(), h.GetRaftTerm(), h.GetRevision())
	return b.String()
}

func TestWatchPermission(t *testing.T) {
	permit := func(_ context.Context, key, end []byte) error {
		if string(key) == "secret" {
			return rpctypes.ErrGRPCPermissionDenied
		}
		return nil
	}
	e := newWatchEnv(t, watch.Options{}, 1<<20, 0, WithWatchPermission(permit))
	raw := newRawWatch(t, e)
	raw.create(&pb.WatchCreateRequest{Key: []byte("secret")})
	want := fmt.Sprintf("id=-1 created canceled reason=%q header=11/22/33@0", rpctypes.ErrGRPCPermissionDenied.Error())
	if got := describeWatchResp(raw.recv()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	raw.create(&pb.WatchCreateRequest{Key: []byte("public")})
	if got := describeWatchResp(raw.recv()); got != "id=0 created header=11/22/33@0" {
		t.Fatalf("got %s", got)
	}
	wch := e.cli.Watch(e.ctx(), "secret")
	r := recvWatch(t, wch)
	if !r.Canceled || r.Err() == nil || !strings.Contains(r.Err().Error(), "permission denied") {
		t.Fatalf("clientv3 got %+v (err %v), want permission denied", r, r.Err())
	}
}

func TestWatchHubStopEndsStream(t *testing.T) {
	e := newWatchEnv(t, watch.Options{}, 1<<20, 0)
	raw := newRawWatch(t, e)
	raw.create(&pb.WatchCreateRequest{Key: []byte("a")})
	raw.recv()
	e.hub.Close()
	select {
	case <-e.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch handler still running after the hub closed")
	}
	for range raw.resps {
	}
	if s, _ := status.FromError(raw.err); s.Code() != codes.Unavailable || s.Message() != "etcdserver: server stopped" {
		t.Fatalf("stream ended with %v, want etcdserver: server stopped", raw.err)
	}
}

func TestWatchFragments(t *testing.T) {
	var evs []*mvccpb.Event
	for i := range 50 {
		evs = append(evs, &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte(fmt.Sprint("k", i)), Value: make([]byte, i*7), ModRevision: 5}})
	}
	wr := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 5, ClusterId: 1}, WatchId: 3, Events: evs}
	for _, limit := range []int{1, 50, 100, 333, 1000, 1 << 20} {
		fs := watchFragments(wr, limit)
		var got []*mvccpb.Event
		for i, f := range fs {
			if f.Fragment != (i < len(fs)-1) {
				t.Fatalf("limit %d: fragment %d of %d has Fragment=%v", limit, i, len(fs), f.Fragment)
			}
			if size := proto.Size(f); len(f.Events) > 1 && size >= limit {
				t.Fatalf("limit %d: fragment %d is %d bytes with %d events", limit, i, size, len(f.Events))
			}
			if f.WatchId != 3 || f.Header.GetRevision() != 5 {
				t.Fatalf("fragment lost its header or ID: %v", f)
			}
			got = append(got, f.Events...)
		}
		if len(got) != len(evs) {
			t.Fatalf("limit %d: %d events after fragmenting, want %d", limit, len(got), len(evs))
		}
		for i := range got {
			if got[i] != evs[i] {
				t.Fatalf("limit %d: event %d out of place", limit, i)
			}
		}
		if limit == 1<<20 && len(fs) != 1 {
			t.Fatalf("small response fragmented")
		}
	}
}
