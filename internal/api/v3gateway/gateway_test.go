package v3gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
	"google.golang.org/grpc/codes"
)

// base64 of the keys and values used below.
const (
	b64foo  = "Zm9v"     // foo
	b64fop  = "Zm9w"     // fop
	b64foo2 = "Zm9vMg==" // foo2
	b64bar  = "YmFy"     // bar
	b64baz  = "YmF6"     // baz
)

// call is one request sent to etcd's gateway and to ours.
type call struct {
	name   string
	method string // POST when empty
	path   string
	body   string
	hdr    []string
	norm   []normalizer
}

// compare sends c to etcd's own gateway, then to the gateway under test,
// and checks that both answer alike.
func compare(t *testing.T, etcdURL, ourURL string, c call) {
	t.Helper()
	m := c.method
	if m == "" {
		m = http.MethodPost
	}
	want := do(t, m, etcdURL+c.path, c.body, c.hdr...)
	got := do(t, m, ourURL+c.path, c.body, c.hdr...)
	sameReply(t, c.name, want, got, c.norm...)
}

func mustOK(t *testing.T, url, body string) string {
	t.Helper()
	r := do(t, http.MethodPost, url, body)
	if r.status != http.StatusOK {
		t.Fatalf("POST %s %s: %d %s", url, body, r.status, r.body)
	}
	return r.body
}

func TestUnaryMatchesEtcd(t *testing.T) {
	e := startEtcd(t)
	E, G := e.clientURL, newGateway(t, e)

	for _, kv := range [][2]string{{b64foo, b64bar}, {b64foo2, b64baz}, {b64fop, "eA=="}, {"ZGVsMQ==", "MQ=="}, {"ZGVsMg==", "MQ=="}} {
		mustOK(t, E+"/v3/kv/put", `{"key":"`+kv[0]+`","value":"`+kv[1]+`"}`)
	}
	mustOK(t, E+"/v3/lease/grant", `{"ID":4242,"TTL":600}`)
	mustOK(t, E+"/v3/lease/grant", `{"ID":6001,"TTL":600}`)
	mustOK(t, E+"/v3/lease/grant", `{"ID":6002,"TTL":600}`)

	reads := []call{
		{name: "range one key", path: "/v3/kv/range", body: `{"key":"` + b64foo + `"}`},
		{name: "range prefix", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","range_end":"` + b64fop + `"}`},
		{name: "range sorted limited", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","range_end":"` + b64fop + `","limit":1,"sort_order":"DESCEND","sort_target":"KEY"}`},
		{name: "range all keys only", path: "/v3/kv/range", body: `{"key":"AA==","range_end":"AA==","keys_only":true}`},
		{name: "range camelCase count only", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","rangeEnd":"` + b64fop + `","countOnly":true}`},
		{name: "range int64 as string", path: "/v3/kv/range", body: `{"key":"AA==","range_end":"AA==","limit":"2"}`},
		{name: "range enum as number", path: "/v3/kv/range", body: `{"key":"AA==","range_end":"AA==","sort_order":2,"sort_target":3}`},
		{name: "range unknown field", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","bogus":{"x":1}}`},
		{name: "range serializable", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","serializable":true}`},
		{name: "range missing key", path: "/v3/kv/range", body: `{"key":"bm9uZQ=="}`},
		{name: "range beta prefix", path: "/v3beta/kv/range", body: `{"key":"` + b64foo + `"}`},
		{name: "deleterange nothing", path: "/v3/kv/deleterange", body: `{"key":"bm9uZQ==","prev_kv":true}`},
		{name: "txn failing compare", path: "/v3/kv/txn", body: `{"compare":[{"key":"` + b64foo + `","target":"VALUE","result":"EQUAL","value":"bm9wZQ=="}],` +
			`"success":[{"request_put":{"key":"` + b64foo + `","value":"eA=="}}],"failure":[{"request_range":{"key":"` + b64foo + `"}},{"requestRange":{"key":"` + b64foo2 + `"}}]}`},
		{name: "lease leases", path: "/v3/lease/leases", body: `{}`},
		{name: "lease leases alias", path: "/v3/kv/lease/leases", body: `{}`},
		{name: "lease timetolive", path: "/v3/lease/timetolive", body: `{"ID":4242,"keys":true}`, norm: []normalizer{replaceAll(`"TTL":"\d+"`, `"TTL":"T"`)}},
		{name: "member list", path: "/v3/cluster/member/list", body: `{}`},
		{name: "maintenance status", path: "/v3/maintenance/status", body: `{}`},
		{name: "maintenance alarm", path: "/v3/maintenance/alarm", body: `{}`},
	}
	for _, c := range reads {
		compare(t, E, G, c)
	}

	errs := []call{
		{name: "future revision", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","revision":100000}`},
		{name: "empty body", path: "/v3/kv/range", body: ``},
		{name: "empty key put", path: "/v3/kv/put", body: `{"key":"","value":"` + b64bar + `"}`},
		{name: "lease not found", path: "/v3/lease/revoke", body: `{"ID":99999}`},
		{name: "member not found", path: "/v3/cluster/member/remove", body: `{"ID":"1"}`},
		{name: "member bad URL", path: "/v3/cluster/member/add", body: `{"peerURLs":["xx"]}`},
		{name: "member peer URL exists", path: "/v3/cluster/member/add", body: `{"peerURLs":["` + e.peerURL + `"]}`},
		{name: "body not an object", path: "/v3/kv/range", body: `[]`, norm: []normalizer{anyMessage}},
		{name: "bytes field holds a number", path: "/v3/kv/range", body: `{"key":5}`, norm: []normalizer{anyMessage}},
		{name: "bad base64", path: "/v3/kv/range", body: `{"key":"!!"}`, norm: []normalizer{anyMessage}},
		{name: "unknown path", path: "/v3/kv/nothing", body: `{}`},
		{name: "unknown service", path: "/v3/nothing", body: `{}`},
		{name: "trailing slash", path: "/v3/kv/range/", body: `{}`},
		{name: "GET", method: http.MethodGet, path: "/v3/kv/range"},
		{name: "PUT", method: http.MethodPut, path: "/v3/kv/put", body: `{}`},
	}
	for _, c := range errs {
		compare(t, E, G, c)
	}

	// Writes: etcd's gateway goes first, so revisions differ by one.
	writes := []struct {
		call
		etcdBody string // when the two sides need different requests
	}{
		{call: call{name: "put", path: "/v3/kv/put", body: `{"key":"d3JpdGU=","value":"MQ=="}`, norm: []normalizer{anyRevision}}},
		{call: call{name: "put beta prefix", path: "/v3beta/kv/put", body: `{"key":"d3JpdGU=","value":"Mg=="}`, norm: []normalizer{anyRevision}}},
		{call: call{name: "txn success", path: "/v3/kv/txn", body: `{"compare":[{"key":"` + b64foo + `","target":"VALUE","result":"NOT_EQUAL","value":"bm9wZQ=="}],` +
			`"success":[{"request_put":{"key":"dA==","value":"dg=="}},{"request_range":{"key":"` + b64foo + `"}}]}`, norm: []normalizer{anyRevision}}},
		{call: call{name: "deleterange", path: "/v3/kv/deleterange", body: `{"key":"ZGVsMg=="}`, norm: []normalizer{anyRevision}}, etcdBody: `{"key":"ZGVsMQ=="}`},
		{call: call{name: "lease grant", path: "/v3/lease/grant", body: `{"TTL":60}`, norm: []normalizer{anyLeaseID}}},
		{call: call{name: "lease revoke", path: "/v3/lease/revoke", body: `{"ID":6002}`, norm: []normalizer{anyRevision}}, etcdBody: `{"ID":6001}`},
	}
	for _, w := range writes {
		eb := w.etcdBody
		if eb == "" {
			eb = w.body
		}
		want := do(t, http.MethodPost, E+w.path, eb)
		got := do(t, http.MethodPost, G+w.path, w.body)
		sameReply(t, w.name, want, got, w.norm...)
	}

	// Compaction, then reads below it.
	var st struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(mustOK(t, E+"/v3/kv/range", `{"key":"AA=="}`)), &st); err != nil {
		t.Fatal(err)
	}
	rev, err := strconv.ParseInt(st.Header.Revision, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	want := do(t, http.MethodPost, E+"/v3/kv/compaction", `{"revision":"`+strconv.FormatInt(rev-1, 10)+`"}`)
	got := do(t, http.MethodPost, G+"/v3/kv/compaction", `{"revision":"`+strconv.FormatInt(rev, 10)+`","physical":true}`)
	sameReply(t, "compaction", want, got)
	compare(t, E, G, call{name: "range compacted revision", path: "/v3/kv/range", body: `{"key":"` + b64foo + `","revision":2}`})
	compare(t, E, G, call{name: "compact compacted revision", path: "/v3/kv/compaction", body: `{"revision":2}`})

	// Served by Cairn though etcd 3.4's gateway lacked the route.
	if r := do(t, http.MethodPost, G+"/v3/maintenance/hashkv", `{}`); r.status != http.StatusOK || !strings.Contains(r.body, `"hash":`) {
		t.Errorf("hashkv: %d %s", r.status, r.body)
	}
	r := do(t, http.MethodPost, G+"/v3/kv/range", `{"key":"`+b64foo+`","revision":2}`)
	if r.status != http.StatusBadRequest || r.body != `{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}` {
		t.Errorf("compacted range: %d %s", r.status, r.body)
	}
}

func TestAuthMatchesEtcd(t *testing.T) {
	e := startEtcd(t)
	E, G := e.clientURL, newGateway(t, e)

	for _, c := range []call{
		{name: "user add", path: "/v3/auth/user/add", body: `{"name":"root","password":"pw"}`},
		{name: "user grant", path: "/v3/auth/user/grant", body: `{"user":"root","role":"root"}`},
		{name: "role add", path: "/v3/auth/role/add", body: `{"name":"reader"}`},
		{name: "role grant", path: "/v3/auth/role/grant", body: `{"name":"reader","perm":{"permType":"READ","key":"` + b64foo + `"}}`},
	} {
		mustOK(t, E+c.path, c.body)
	}
	compare(t, E, G, call{name: "user get", path: "/v3/auth/user/get", body: `{"name":"root"}`})
	compare(t, E, G, call{name: "role get", path: "/v3/auth/role/get", body: `{"role":"reader"}`})
	compare(t, E, G, call{name: "user exists", path: "/v3/auth/user/add", body: `{"name":"root","password":"pw"}`})
	mustOK(t, E+"/v3/auth/enable", `{}`)

	token := func(url string) string {
		var a struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal([]byte(mustOK(t, url+"/v3/auth/authenticate", `{"name":"root","password":"pw"}`)), &a); err != nil || a.Token == "" {
			t.Fatalf("authenticate via %s: %v %q", url, err, a.Token)
		}
		return a.Token
	}
	et, gt := token(E), token(G)
	compare(t, E, G, call{name: "bad password", path: "/v3/auth/authenticate", body: `{"name":"root","password":"no"}`})
	compare(t, E, G, call{name: "range without token", path: "/v3/kv/range", body: `{"key":"` + b64foo + `"}`})
	compare(t, E, G, call{name: "range bad token", path: "/v3/kv/range", body: `{"key":"` + b64foo + `"}`, hdr: []string{"Authorization", "bogus"}})
	want := do(t, http.MethodPost, E+"/v3/kv/range", `{"key":"`+b64foo+`"}`, "Authorization", et)
	got := do(t, http.MethodPost, G+"/v3/kv/range", `{"key":"`+b64foo+`"}`, "Authorization", gt)
	sameReply(t, "range with token", want, got)
	if want.status != http.StatusOK {
		t.Errorf("range with token: etcd answered %d %s", want.status, want.body)
	}
}

func TestWatchMatchesEtcd(t *testing.T) {
	e := startEtcd(t)
	E, G := e.clientURL, newGateway(t, e)

	const req = `{"create_request":{"key":"dw==","prev_kv":true}}` // key "w"
	es, gs := openStream(t, E+"/v3/watch", req), openStream(t, G+"/v3/watch", req)
	if es.resp.StatusCode != gs.resp.StatusCode || es.resp.Header.Get("Content-Type") != gs.resp.Header.Get("Content-Type") {
		t.Errorf("watch: status %d %q, etcd %d %q", gs.resp.StatusCode, gs.resp.Header.Get("Content-Type"), es.resp.StatusCode, es.resp.Header.Get("Content-Type"))
	}
	step := func(what string) {
		t.Helper()
		w, g := es.next(t, "etcd "+what), gs.next(t, what)
		if w != g {
			t.Errorf("watch %s:\n got: %s\netcd: %s", what, g, w)
		}
	}
	step("created")
	mustOK(t, E+"/v3/kv/put", `{"key":"dw==","value":"MQ=="}`)
	step("first event")
	mustOK(t, E+"/v3/kv/put", `{"key":"dw==","value":"Mg=="}`)
	step("event with prev_kv")
	mustOK(t, E+"/v3/kv/deleterange", `{"key":"dw=="}`)
	step("delete event")

	// A watch from a compacted revision is created, then cancelled.
	var st struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(mustOK(t, E+"/v3/kv/range", `{"key":"AA=="}`)), &st); err != nil {
		t.Fatal(err)
	}
	mustOK(t, E+"/v3/kv/compaction", `{"revision":"`+st.Header.Revision+`"}`)
	const old = `{"create_request":{"key":"dw==","start_revision":"1"}}`
	es, gs = openStream(t, E+"/v3beta/watch", old), openStream(t, G+"/v3beta/watch", old)
	step("created at compacted revision")
	step("cancelled at compacted revision")

	// Lease keep-alive is a stream as well.
	mustOK(t, E+"/v3/lease/grant", `{"ID":777,"TTL":60}`)
	es, gs = openStream(t, E+"/v3/lease/keepalive", `{"ID":777}`), openStream(t, G+"/v3/lease/keepalive", `{"ID":777}`)
	step("keepalive")
}

func TestWebSocketMatchesEtcd(t *testing.T) {
	e := startEtcd(t)
	E, G := e.clientURL, newGateway(t, e)

	dial := func(base string) *websocket.Conn {
		t.Helper()
		ws, err := websocket.Dial("ws"+strings.TrimPrefix(base, "http")+"/v3/watch", "", base)
		if err != nil {
			t.Fatalf("websocket dial %s: %v", base, err)
		}
		t.Cleanup(func() { ws.Close() })
		if err := websocket.Message.Send(ws, `{"create_request":{"key":"eHc="}}`); err != nil {
			t.Fatal(err)
		}
		return ws
	}
	ew, gw := dial(E), dial(G)
	recv := func(ws *websocket.Conn, what string) string {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m string
		if err := websocket.Message.Receive(ws, &m); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return m
	}
	step := func(what string) {
		t.Helper()
		w, g := recv(ew, "etcd "+what), recv(gw, what)
		if w != g {
			t.Errorf("websocket %s:\n got: %q\netcd: %q", what, g, w)
		}
	}
	step("created")
	mustOK(t, E+"/v3/kv/put", `{"key":"eHc=","value":"MQ=="}`)
	step("first event")
}

func TestStreamErrorMatchesEtcd(t *testing.T) {
	e := startEtcd(t)
	E, G := e.clientURL, newGateway(t, e)

	const req = `{"create_request":{"key":"dw=="}}`
	es, gs := openStream(t, E+"/v3/watch", req), openStream(t, G+"/v3/watch", req)
	w, g := es.next(t, "etcd created"), gs.next(t, "created")
	if w != g {
		t.Fatalf("created:\n got: %s\netcd: %s", g, w)
	}
	e.stop()
	// etcd's own gateway dies with etcd, so its last chunk (if any) tells
	// of its own shutdown, not of a lost backend; only our layout, which
	// is etcd's error-chunk layout, is checked.
	g = gs.next(t, "error chunk")
	var chunk struct {
		Error struct {
			GRPCCode   int    `json:"grpc_code"`
			HTTPCode   int    `json:"http_code"`
			Message    string `json:"message"`
			HTTPStatus string `json:"http_status"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(g), &chunk); err != nil {
		t.Fatalf("error chunk %q: %v", g, err)
	}
	if chunk.Error.GRPCCode != int(codes.Unavailable) || chunk.Error.HTTPCode != 503 || chunk.Error.HTTPStatus != "Service Unavailable" || chunk.Error.Message == "" {
		t.Errorf("error chunk: %s", g)
	}
	if !strings.HasPrefix(g, `{"error":{"grpc_code":14,"http_code":503,"message":`) || !strings.HasSuffix(g, `,"http_status":"Service Unavailable"}}`) {
		t.Errorf("error chunk layout: %s", g)
	}
	// A unary call with the backend down.
	r := do(t, http.MethodPost, G+"/v3/kv/range", `{"key":"`+b64foo+`"}`)
	if r.status != http.StatusServiceUnavailable || !strings.HasSuffix(r.body, `"code":14}`) || !strings.HasPrefix(r.body, `{"error":"`) {
		t.Errorf("backend down: %d %s", r.status, r.body)
	}
}

func TestNewClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h, closeFn, err := New(ctx, "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		t.Fatal("nil handler")
	}
	cancel()
	if err := closeFn(); err != nil {
		t.Errorf("close after cancel: %v", err)
	}
	if err := closeFn(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, _, err := New(context.Background(), "bad\x00target"); err == nil {
		t.Error("New accepted an invalid target")
	}
}
