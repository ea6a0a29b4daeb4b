package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeRaft records what a Transport hands to raft.
type fakeRaft struct {
	mu          sync.Mutex
	got         map[uint64][]raftpb.Message // by sender
	unreachable map[uint64]int
	removed     map[uint64]bool
	snapReports map[uint64][]bool
}

func newFakeRaft() *fakeRaft {
	return &fakeRaft{got: map[uint64][]raftpb.Message{}, unreachable: map[uint64]int{}, removed: map[uint64]bool{}, snapReports: map[uint64][]bool{}}
}

func (r *fakeRaft) Process(_ context.Context, m raftpb.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[m.From] = append(r.got[m.From], m)
	return nil
}

func (r *fakeRaft) IsRemovedID(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removed[id]
}

func (r *fakeRaft) ReportUnreachable(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unreachable[id]++
}

func (r *fakeRaft) ReportSnapshot(id uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snapReports[id] = append(r.snapReports[id], ok)
}

func (r *fakeRaft) snapshotReports(id uint64) []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.snapReports[id]...)
}

func (r *fakeRaft) received(from uint64) []raftpb.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]raftpb.Message(nil), r.got[from]...)
}

func (r *fakeRaft) unreachableCount(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unreachable[id]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type member struct {
	id   uint64
	raft *fakeRaft
	tr   *Transport
	srv  *httptest.Server
}

type memberOpts struct {
	cluster   uint64
	queueSize int
	logger    *zap.Logger
	listener  net.Listener // nil: any loopback port
	noServer  bool
	snapshots Snapshotter
}

func newMember(t *testing.T, id uint64, o memberOpts) *member {
	t.Helper()
	if o.cluster == 0 {
		o.cluster = 0xc1
	}
	m := &member{id: id, raft: newFakeRaft()}
	tr, err := New(Options{ID: id, ClusterID: func() uint64 { return o.cluster }, Raft: m.raft, QueueSize: o.queueSize, Logger: o.logger, Snapshots: o.snapshots})
	if err != nil {
		t.Fatal(err)
	}
	m.tr = tr
	if !o.noServer {
		mux := http.NewServeMux()
		mux.Handle("/", tr.Handler())
		if o.listener != nil {
			m.srv = httptest.NewUnstartedServer(mux)
			m.srv.Listener = o.listener
			m.srv.Start()
		} else {
			m.srv = httptest.NewServer(mux)
		}
		t.Cleanup(m.srv.Close)
	}
	t.Cleanup(tr.Stop) // runs before the server closes
	return m
}

func connect(ms ...*member) {
	for _, a := range ms {
		for _, b := range ms {
			if a != b {
				a.tr.AddPeer(b.id, []string{b.srv.URL})
			}
		}
	}
}

// checkInOrder asserts that got is exactly indexes 1..n from one sender.
func checkInOrder(t *testing.T, got []raftpb.Message, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if m.Index != uint64(i+1) {
			t.Fatalf("message %d has index %d: out of order", i, m.Index)
		}
	}
}

// sendBatches sends n messages from->to in batches of varying size, some
// carrying entries large enough to cross the write buffer.
func sendBatches(tr *Transport, from, to uint64, n int) {
	var batch []raftpb.Message
	for i := 1; i <= n; i++ {
		m := raftpb.Message{Type: raftpb.MsgApp, From: from, To: to, Index: uint64(i), Term: 1}
		if i%97 == 0 {
			m.Entries = []raftpb.Entry{{Index: uint64(i), Data: []byte(strings.Repeat("e", 70<<10))}}
		}
		batch = append(batch, m)
		if len(batch) == i%13+1 {
			tr.Send(batch)
			batch = nil
		}
	}
	tr.Send(batch)
}

func TestTwoMembersInOrder(t *testing.T) {
	const n = 5000
	a := newMember(t, 1, memberOpts{queueSize: 2 * n})
	b := newMember(t, 2, memberOpts{queueSize: 2 * n})
	connect(a, b)
	var wg sync.WaitGroup
	for _, p := range [][2]*member{{a, b}, {b, a}} {
		wg.Add(1)
		go func() { defer wg.Done(); sendBatches(p[0].tr, p[0].id, p[1].id, n) }()
	}
	wg.Wait()
	waitFor(t, "all messages", func() bool {
		return len(b.raft.received(1)) == n && len(a.raft.received(2)) == n
	})
	checkInOrder(t, b.raft.received(1), n)
	checkInOrder(t, a.raft.received(2), n)
	for _, m := range b.raft.received(1) {
		if m.Index%97 == 0 && (len(m.Entries) != 1 || len(m.Entries[0].Data) != 70<<10) {
			t.Fatalf("message %d lost its entry payload", m.Index)
		}
	}
}

func TestThreeMembersInOrder(t *testing.T) {
	const n = 2000
	ms := []*member{
		newMember(t, 1, memberOpts{queueSize: 2 * n}),
		newMember(t, 2, memberOpts{queueSize: 2 * n}),
		newMember(t, 3, memberOpts{queueSize: 2 * n}),
	}
	connect(ms...)
	var wg sync.WaitGroup
	for _, from := range ms {
		for _, to := range ms {
			if from != to {
				wg.Add(1)
				go func() { defer wg.Done(); sendBatches(from.tr, from.id, to.id, n) }()
			}
		}
	}
	wg.Wait()
	for _, to := range ms {
		for _, from := range ms {
			if from != to {
				waitFor(t, fmt.Sprintf("%d->%d", from.id, to.id), func() bool { return len(to.raft.received(from.id)) == n })
				checkInOrder(t, to.raft.received(from.id), n)
			}
		}
	}
}

// reservePort returns a loopback address nobody listens on right now.
func reservePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestPeerDownThenUp(t *testing.T) {
	addr := reservePort(t)
	a := newMember(t, 1, memberOpts{})
	a.tr.AddPeer(2, []string{"http://" + addr})
	a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Index: 1}})
	waitFor(t, "ReportUnreachable while down", func() bool { return a.raft.unreachableCount(2) > 0 })

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	b := newMember(t, 2, memberOpts{listener: l})
	idx := uint64(100)
	waitFor(t, "a message after the peer came up", func() bool {
		idx++
		a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Index: idx}})
		return len(b.raft.received(1)) > 0
	})
	// Later messages keep flowing, in order.
	for i := uint64(1); i <= 100; i++ {
		a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Index: idx + i}})
	}
	waitFor(t, "later messages", func() bool {
		got := b.raft.received(1)
		return got[len(got)-1].Index == idx+100
	})
	got := b.raft.received(1)
	for i := 1; i < len(got); i++ {
		if got[i].Index <= got[i-1].Index {
			t.Fatalf("reordered: %d after %d", got[i].Index, got[i-1].Index)
		}
	}
}

func TestSendNeverBlocks(t *testing.T) {
	a := newMember(t, 1, memberOpts{queueSize: 16, noServer: true})
	a.tr.AddPeer(2, []string{"http://" + reservePort(t)})
	const n = 20000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			a.tr.Send([]raftpb.Message{{Type: raftpb.MsgApp, From: 1, To: 2, Index: uint64(i)}})
		}
		a.tr.Send([]raftpb.Message{{Type: raftpb.MsgApp, From: 1, To: 99}}) // unknown peer: dropped
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Send blocked on a down peer")
	}
	if got := a.raft.unreachableCount(2); got < n-16 {
		t.Fatalf("ReportUnreachable called %d times, want at least %d", got, n-16)
	}
}

func TestUpdatePeerAndURLRotation(t *testing.T) {
	a := newMember(t, 1, memberOpts{})
	b := newMember(t, 2, memberOpts{})
	c := newMember(t, 3, memberOpts{})
	dead := "http://" + reservePort(t)
	a.tr.AddPeer(2, []string{dead, b.srv.URL}) // tries URLs in turn
	a.tr.AddPeer(3, []string{dead})
	a.tr.UpdatePeer(3, []string{c.srv.URL})
	for _, to := range []uint64{2, 3} {
		waitFor(t, fmt.Sprintf("delivery to %d", to), func() bool {
			a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: to}})
			return len(map[uint64]*member{2: b, 3: c}[to].raft.received(1)) > 0
		})
	}
	a.tr.RemovePeer(2)
	a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2}}) // dropped, no panic
}

func post(t *testing.T, url string, hdr map[string]string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+StreamPath, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandlerRefusals(t *testing.T) {
	b := newMember(t, 2, memberOpts{cluster: 0xc1})
	b.raft.removed[7] = true
	hdr := func(cid, from, to string) map[string]string {
		return map[string]string{HeaderClusterID: cid, HeaderFrom: from, HeaderTo: to}
	}
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		code     int
		wantBody string // "" means not checked
	}{
		{"cluster mismatch", hdr("c2", "1", "2"), http.StatusPreconditionFailed, "cluster ID mismatch"},
		{"removed sender", hdr("c1", "7", "2"), http.StatusGone, "the member has been permanently removed from the cluster"},
		{"wrong recipient", hdr("c1", "1", "3"), http.StatusBadRequest, ""},
		{"bad cluster id", hdr("zz", "1", "2"), http.StatusBadRequest, ""},
		{"bad sender", hdr("c1", "x", "2"), http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, b.srv.URL, tc.hdr, strings.NewReader(""))
			if code != tc.code {
				t.Fatalf("status %d, want %d (%q)", code, tc.code, body)
			}
			if tc.wantBody != "" && body != tc.wantBody {
				t.Fatalf("body %q, want %q", body, tc.wantBody)
			}
		})
	}
	resp, err := http.Get(b.srv.URL + StreamPath)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d", resp.StatusCode)
	}
	if n := len(b.raft.received(1)) + len(b.raft.received(7)); n != 0 {
		t.Fatalf("refused streams delivered %d messages", n)
	}
}

func TestSenderSeesRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		setup     func(b *member) uint64 // returns the sender's cluster ID
	}{
		{"412", "cluster ID mismatch", func(*member) uint64 { return 0xdead }},
		{"410", "permanently removed", func(b *member) uint64 { b.raft.removed[1] = true; return 0xc1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			b := newMember(t, 2, memberOpts{cluster: 0xc1})
			a := newMember(t, 1, memberOpts{cluster: tc.setup(b), logger: zap.New(core), noServer: true})
			a.tr.AddPeer(2, []string{b.srv.URL})
			a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2}})
			waitFor(t, "warning", func() bool {
				for _, e := range logs.All() {
					if strings.Contains(e.Message, tc.log) {
						return true
					}
				}
				return false
			})
			waitFor(t, "ReportUnreachable", func() bool { return a.raft.unreachableCount(2) > 0 })
			if n := len(b.raft.received(1)); n != 0 {
				t.Fatalf("refused sender delivered %d messages", n)
			}
		})
	}
}

func TestMalformedStreamIsClosed(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	b := newMember(t, 2, memberOpts{logger: zap.New(core)})
	hdr := map[string]string{HeaderClusterID: "c1", HeaderFrom: "1", HeaderTo: "2"}
	good := encodeFrames(t, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Index: 1})
	for _, bad := range [][]byte{
		append(append([]byte(nil), good...), 0x03, 0xff, 0xff, 0xff),       // undecodable
		append(append([]byte(nil), good...), 0xff, 0xff, 0xff, 0xff, 0x7f), // > 64 MiB
		append(append([]byte(nil), good...), good[:len(good)-1]...),        // truncated
		append(append([]byte(nil), good...), bytesOf(0xff, 11)...),         // bad varint
	} {
		conn := upgradeStream(t, b.srv.URL, hdr)
		if _, err := conn.Write(bad); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	// A stream that does not upgrade is refused after the admission checks.
	if code, body := post(t, b.srv.URL, hdr, strings.NewReader(string(good))); code != http.StatusUpgradeRequired {
		t.Fatalf("plain POST: status %d (%q), want 426", code, body)
	}
	waitFor(t, "frames before the bad one", func() bool { return len(b.raft.received(1)) == 4 })
	waitFor(t, "logged errors", func() bool { return logs.FilterMessage("closing stream from peer").Len() == 4 })
}

func bytesOf(b byte, n int) []byte { return []byte(strings.Repeat(string([]byte{b}), n)) }

func TestStopIsPromptAndIdempotent(t *testing.T) {
	a := newMember(t, 1, memberOpts{})
	b := newMember(t, 2, memberOpts{})
	connect(a, b)
	waitFor(t, "stream up", func() bool {
		a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2}})
		return len(b.raft.received(1)) > 0
	})
	start := time.Now()
	b.tr.Stop() // receiver first: its handler must not wait on the sender
	a.tr.Stop()
	a.tr.Stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	a.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2}}) // after Stop: dropped
	a.tr.AddPeer(3, []string{"http://127.0.0.1:1"})                          // after Stop: ignored
	code, _ := post(t, b.srv.URL, map[string]string{HeaderClusterID: "c1", HeaderFrom: "1", HeaderTo: "2"}, strings.NewReader(""))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("handler after Stop: status %d", code)
	}
}

func TestOptions(t *testing.T) {
	r := newFakeRaft()
	cid := func() uint64 { return 1 }
	for _, o := range []Options{
		{ClusterID: cid, Raft: r},
		{ID: 1, Raft: r},
		{ID: 1, ClusterID: cid},
		{ID: 1, ClusterID: cid, Raft: r, HTTPClient: &http.Client{Timeout: time.Second}},
	} {
		if _, err := New(o); err == nil {
			t.Fatalf("New(%+v) accepted invalid options", o)
		}
	}
	o := Options{ID: 1, ClusterID: cid, Raft: r}
	o.EnsureDefaults()
	if o.DialTimeout != time.Second || o.QueueSize != 4096 || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
}

// upgradeStream opens a stream to the handler at base as a sender does,
// with headers hdr, and returns the connection once the receiver answered
// 101.
func upgradeStream(t *testing.T, base string, hdr map[string]string) net.Conn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\nContent-Length: 0\r\n", StreamPath, u.Host, StreamProtocol)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("stream answered %s, want 101", resp.Status)
	}
	return conn
}
