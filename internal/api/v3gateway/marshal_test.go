package v3gateway

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

func TestCanonicalJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": 1, "b" : [ 1 ,2 ]}`, `{"a":1,"b":[1,2]}`},
		{"{\n\t\"a\":\r\n\"x y\"}", `{"a":"x y"}`},
		{`{"a":"<b>&amp;</b>"}`, `{"a":"\u003cb\u003e\u0026amp;\u003c/b\u003e"}`},
		{`{"a":"q\" <","b":"\\"}`, `{"a":"q\" \u003c","b":"\\"}`},
		{"{\"a\":\"\u2028\u2029\u2027\"}", "{\"a\":\"\\u2028\\u2029\u2027\"}"},
		{`{"a":"plain"}`, `{"a":"plain"}`},
	} {
		if got := string(canonicalJSON([]byte(c.in))); got != c.want {
			t.Errorf("canonicalJSON(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarshalMessages(t *testing.T) {
	m := newJSONMarshaler()
	resp := &pb.RangeResponse{
		Header: &pb.ResponseHeader{ClusterId: 14841639068965178418, MemberId: 10276657743932975437, Revision: 2, RaftTerm: 3},
		Kvs:    []*mvccpb.KeyValue{{Key: []byte("foo"), Value: []byte("bar"), CreateRevision: 2, ModRevision: 2, Version: 1}},
		Count:  1,
	}
	const want = `{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"2","raft_term":"3"},` +
		`"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`
	b, err := m.Marshal(resp)
	if err != nil || string(b) != want {
		t.Errorf("range response: %s %v\nwant %s", b, err, want)
	}
	b, err = m.Marshal(map[string]any{"result": &pb.WatchResponse{Events: []*mvccpb.Event{{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte("foo"), ModRevision: 7}}}}})
	if err != nil || string(b) != `{"result":{"events":[{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"7"}}]}}` {
		t.Errorf("stream chunk: %s %v", b, err)
	}
	b, err = m.Marshal(map[string]any{"error": &spb.Status{Code: int32(codes.Unavailable), Message: "transport is closing"}})
	if err != nil || string(b) != `{"error":{"code":14,"message":"transport is closing"}}` {
		t.Errorf("other map: %s %v", b, err)
	}

	var req pb.PutRequest
	if err := m.Unmarshal([]byte(`{"key":"Zm9v","value":"YmFy","prevKv":true,"lease":"5","bogus":1}`), &req); err != nil {
		t.Fatal(err)
	}
	if string(req.Key) != "foo" || string(req.Value) != "bar" || !req.PrevKv || req.Lease != 5 {
		t.Errorf("decoded %v", &req)
	}
}

func TestErrorBodies(t *testing.T) {
	if got := string(errorJSON(codes.OutOfRange, "etcdserver: mvcc: required revision has been compacted")); got !=
		`{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}` {
		t.Errorf("errorJSON: %s", got)
	}
	b, err := streamErrorJSON(codes.Unavailable, "transport is closing")
	if err != nil || string(b) != `{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}` {
		t.Errorf("streamErrorJSON: %s %v", b, err)
	}
	for c, want := range map[codes.Code]int{
		codes.OutOfRange: 400, codes.NotFound: 404, codes.FailedPrecondition: 412, codes.Canceled: 408,
		codes.InvalidArgument: 400, codes.Unavailable: 503, codes.Unauthenticated: 401, codes.PermissionDenied: 403,
		codes.ResourceExhausted: 429, codes.Unknown: 500, codes.DeadlineExceeded: 504, codes.Unimplemented: 501,
	} {
		if got := httpStatus(c); got != want {
			t.Errorf("httpStatus(%v) = %d, want %d", c, got, want)
		}
	}
}

func TestPathsAndRoute(t *testing.T) {
	if got := Paths(); !reflect.DeepEqual(got, []string{"/v3/", "/v3beta/"}) {
		t.Errorf("Paths() = %q", got)
	}
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("gw " + r.URL.Path)) })
	fb := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("fb " + r.URL.Path)) })
	h := Route(gw, fb)
	for path, want := range map[string]string{
		"/v3/kv/range":     "gw /v3/kv/range",
		"/v3beta/kv/range": "gw /v3beta/kv/range",
		"/v3alpha/kv/put":  "fb /v3alpha/kv/put",
		"/health":          "fb /health",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		if rec.Body.String() != want {
			t.Errorf("%s → %q, want %q", path, rec.Body.String(), want)
		}
	}
	r := canonicalPath(httptest.NewRequest(http.MethodPost, "/v3beta/kv/range", nil))
	if r.URL.Path != "/v3/kv/range" {
		t.Errorf("canonicalPath: %s", r.URL.Path)
	}
}
