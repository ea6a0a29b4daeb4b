package v2keys

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-db/cairn/tests/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

type env struct {
	t   *testing.T
	srv *httptest.Server
	cli *clientv3.Client
}

// resp is a decoded /v2/keys answer: an event or an error.
type resp struct {
	status int
	hdr    http.Header
	raw    string
	Action string `json:"action"`
	Node   *node  `json:"node"`
	Prev   *node  `json:"prevNode"`
	Code   int    `json:"errorCode"`
	Msg    string `json:"message"`
	Cause  string `json:"cause"`
	Index  uint64 `json:"index"`
}

func (r *resp) index(t *testing.T) int64 {
	t.Helper()
	n, err := strconv.ParseInt(r.hdr.Get("X-Etcd-Index"), 10, 64)
	if err != nil {
		t.Fatalf("X-Etcd-Index %q: %v", r.hdr.Get("X-Etcd-Index"), err)
	}
	return n
}

// do sends a request as curl would: parameters in the query for GET, HEAD
// and DELETE, as an urlencoded body for PUT and POST.
func (e *env) do(method, key string, form url.Values) *resp {
	e.t.Helper()
	return e.doCtx(context.Background(), method, key, form)
}

func (e *env) doCtx(ctx context.Context, method, key string, form url.Values) *resp {
	e.t.Helper()
	u := e.srv.URL + "/v2/keys" + key
	var body io.Reader
	if method == http.MethodPut || method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		u += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer hr.Body.Close()
	b, _ := io.ReadAll(hr.Body)
	r := &resp{status: hr.StatusCode, hdr: hr.Header, raw: string(b)}
	if len(b) > 0 && method != http.MethodHead && hr.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(b, r); err != nil {
			e.t.Fatalf("%s %s: body %q: %v", method, key, b, err)
		}
	}
	return r
}

func (e *env) want(r *resp, status int, action string) {
	e.t.Helper()
	if r.status != status || r.Action != action {
		e.t.Fatalf("got %d %q, want %d %q: %s", r.status, r.Action, status, action, r.raw)
	}
}

func (e *env) wantErr(r *resp, status, code int, cause string) {
	e.t.Helper()
	if r.status != status || r.Code != code || r.Msg != messages[code] || (cause != "" && r.Cause != cause) {
		e.t.Fatalf("got %d %d %q %q, want %d %d %q: %s", r.status, r.Code, r.Msg, r.Cause, status, code, cause, r.raw)
	}
}

func v(kv ...string) url.Values {
	out := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

func val(n *node) string {
	if n == nil || n.Value == nil {
		return "<nil>"
	}
	return *n.Value
}

func startEnv(t *testing.T) *env {
	m := framework.StartMember(t, framework.MemberConfig{})
	cli := m.Client(t)
	srv := httptest.NewServer(New(cli, Options{ClusterID: func() uint64 { return 0xabc }}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, cli: cli}
}

func TestV2Keys(t *testing.T) {
	base := startEnv(t)
	sub := func(name string, f func(e *env)) {
		t.Run(name, func(t *testing.T) { f(&env{t: t, srv: base.srv, cli: base.cli}) })
	}

	sub("SetGetHeaders", func(e *env) {
		r := e.do("PUT", "/s/foo", v("value", "bar"))
		e.want(r, 201, "set")
		if r.Node.Key != "/s/foo" || val(r.Node) != "bar" || r.Node.CreatedIndex != r.Node.ModifiedIndex || r.Node.ModifiedIndex != r.index(e.t) {
			e.t.Fatalf("node %+v idx %s", r.Node, r.hdr.Get("X-Etcd-Index"))
		}
		if r.hdr.Get("X-Etcd-Cluster-Id") != "abc" || r.hdr.Get("X-Raft-Term") == "" || r.hdr.Get("X-Raft-Index") != r.hdr.Get("X-Etcd-Index") {
			e.t.Fatalf("headers %v", r.hdr)
		}
		r2 := e.do("PUT", "/s/foo", v("value", "baz"))
		e.want(r2, 200, "set")
		if val(r2.Prev) != "bar" || r2.Node.CreatedIndex != r.Node.CreatedIndex || r2.Node.ModifiedIndex <= r.Node.ModifiedIndex {
			e.t.Fatalf("second set %s", r2.raw)
		}
		g := e.do("GET", "/s/foo", nil)
		e.want(g, 200, "get")
		if val(g.Node) != "baz" || g.Node.ModifiedIndex != r2.Node.ModifiedIndex {
			e.t.Fatalf("get %s", g.raw)
		}
		g = e.do("GET", "/s/foo", v("quorum", "true"))
		e.want(g, 200, "get")
		h := e.do("HEAD", "/s/foo", nil)
		if h.status != 200 || h.raw != "" || h.hdr.Get("X-Etcd-Index") == "" {
			e.t.Fatalf("HEAD %d %q", h.status, h.raw)
		}
		// The empty value is a value, not an absent one.
		e.want(e.do("PUT", "/s/empty", v("value", "")), 201, "set")
		if g := e.do("GET", "/s/empty", nil); !strings.Contains(g.raw, `"value":""`) {
			e.t.Fatalf("empty value: %s", g.raw)
		}
		e.wantErr(e.do("GET", "/s/nope", nil), 404, CodeKeyNotFound, "/s/nope")
		nf := e.do("GET", "/s/nope", nil)
		if nf.Index == 0 || strconv.FormatUint(nf.Index, 10) != nf.hdr.Get("X-Etcd-Index") {
			e.t.Fatalf("error index: %s %v", nf.raw, nf.hdr)
		}
		e.wantErr(e.do("HEAD", "/s/nope", nil), 404, 0, "")
	})

	sub("CreateUpdateCAS", func(e *env) {
		e.want(e.do("PUT", "/c/k", v("value", "1", "prevExist", "false")), 201, "create")
		e.wantErr(e.do("PUT", "/c/k", v("value", "1", "prevExist", "false")), 412, CodeNodeExist, "/c/k")
		e.wantErr(e.do("PUT", "/c/missing", v("value", "1", "prevExist", "true")), 404, CodeKeyNotFound, "/c/missing")
		u := e.do("PUT", "/c/k", v("value", "2", "prevExist", "true"))
		e.want(u, 200, "update")
		if val(u.Prev) != "1" {
			e.t.Fatal(u.raw)
		}
		e.wantErr(e.do("PUT", "/c/k", v("value", "3", "prevValue", "x")), 412, CodeTestFailed, "[x != 2]")
		e.wantErr(e.do("PUT", "/c/k", v("value", "3", "prevIndex", "1")), 412, CodeTestFailed, "[1 != "+strconv.FormatInt(u.Node.ModifiedIndex, 10)+"]")
		e.wantErr(e.do("PUT", "/c/k", v("value", "3", "prevIndex", "1", "prevValue", "x")), 412, CodeTestFailed, "")
		c := e.do("PUT", "/c/k", v("value", "3", "prevValue", "2", "prevIndex", strconv.FormatInt(u.Node.ModifiedIndex, 10)))
		e.want(c, 200, "compareAndSwap")
		e.want(e.do("PUT", "/c/k", v("value", "4", "prevExist", "true", "prevValue", "3")), 200, "compareAndSwap")
		e.wantErr(e.do("PUT", "/c/nokey", v("value", "4", "prevValue", "3")), 404, CodeKeyNotFound, "/c/nokey")
		e.want(e.do("PUT", "/c/nv", v("value", "secret", "noValueOnSuccess", "true")), 201, "set")
		if r := e.do("GET", "/c/nv", nil); val(r.Node) != "secret" {
			e.t.Fatal(r.raw)
		}
		// As etcd 3.4 answers: the action alone (TestV2Differential).
		if r := e.do("PUT", "/c/nv", v("value", "x", "noValueOnSuccess", "true")); r.Node != nil || r.Action != "set" {
			e.t.Fatal(r.raw)
		}
	})

	sub("DirsAndListing", func(e *env) {
		r := e.do("PUT", "/d/a/b/c", v("value", "deep"))
		e.want(r, 201, "set")
		e.want(e.do("PUT", "/d/a/x", v("value", "1")), 201, "set")
		e.want(e.do("PUT", "/d/a/_hidden", v("value", "h")), 201, "set")
		e.want(e.do("PUT", "/d/a/empty", v("dir", "true")), 201, "set")
		e.want(e.do("PUT", "/d/a-sibling", v("value", "s")), 201, "set")
		g := e.do("GET", "/d/a", nil)
		e.want(g, 200, "get")
		if !g.Node.Dir || len(g.Node.Nodes) != 3 {
			e.t.Fatalf("listing: %s", g.raw)
		}
		keys := []string{}
		for _, n := range g.Node.Nodes {
			keys = append(keys, n.Key)
			if n.Key == "/d/a/b" && (!n.Dir || len(n.Nodes) != 0) {
				e.t.Fatalf("one level: %s", g.raw)
			}
		}
		if strings.Join(keys, ",") != "/d/a/b,/d/a/empty,/d/a/x" {
			e.t.Fatalf("keys %v", keys)
		}
		g = e.do("GET", "/d/a", v("recursive", "true", "sorted", "true"))
		if len(g.Node.Nodes[0].Nodes) != 1 || val(g.Node.Nodes[0].Nodes[0]) != "deep" {
			e.t.Fatalf("recursive: %s", g.raw)
		}
		if h := e.do("GET", "/d/a/_hidden", nil); val(h.Node) != "h" {
			e.t.Fatalf("hidden get %s", h.raw)
		}
		if root := e.do("GET", "/", nil); !root.Node.Dir || root.Node.Key != "" || len(root.Node.Nodes) == 0 { // etcd 3.4 omits the root's key
			e.t.Fatalf("root %s", root.raw)
		}
		e.wantErr(e.do("PUT", "/d/a", v("value", "v")), 403, CodeNotFile, "/d/a")
		e.wantErr(e.do("PUT", "/d/a", v("dir", "true")), 403, CodeNotFile, "/d/a")
		e.wantErr(e.do("PUT", "/d/a/x/y", v("value", "v")), 400, CodeNotDir, "/d/a/x")
		e.wantErr(e.do("PUT", "/d/a", v("value", "v", "prevValue", "z")), 403, CodeNotFile, "/d/a")
		e.wantErr(e.do("PUT", "/", v("value", "v")), 400, CodeRootROnly, "/")
		e.wantErr(e.do("DELETE", "/", nil), 400, CodeRootROnly, "/")
		e.wantErr(e.do("DELETE", "/d/a", nil), 403, CodeNotFile, "/d/a")
		e.wantErr(e.do("DELETE", "/d/a", v("dir", "true")), 403, CodeDirNotEmpty, "/d/a")
		e.want(e.do("DELETE", "/d/a/empty", v("dir", "true")), 200, "delete")
		d := e.do("DELETE", "/d/a", v("recursive", "true"))
		e.want(d, 200, "delete")
		if !d.Node.Dir || d.Prev == nil || !d.Prev.Dir {
			e.t.Fatalf("delete dir %s", d.raw)
		}
		e.wantErr(e.do("GET", "/d/a/b/c", nil), 404, CodeKeyNotFound, "")
		if s := e.do("GET", "/d/a-sibling", nil); val(s.Node) != "s" {
			e.t.Fatalf("sibling deleted: %s", s.raw)
		}
		e.wantErr(e.do("DELETE", "/d/a", nil), 404, CodeKeyNotFound, "/d/a")
	})

	sub("DeleteCAD", func(e *env) {
		r := e.do("PUT", "/x/k", v("value", "1"))
		e.wantErr(e.do("DELETE", "/x/k", v("prevValue", "2")), 412, CodeTestFailed, "[2 != 1]")
		e.wantErr(e.do("DELETE", "/x/k", v("prevIndex", "1")), 412, CodeTestFailed, "")
		d := e.do("DELETE", "/x/k", v("prevIndex", strconv.FormatInt(r.Node.ModifiedIndex, 10)))
		e.want(d, 200, "compareAndDelete")
		if val(d.Prev) != "1" || d.Node.CreatedIndex != r.Node.CreatedIndex {
			e.t.Fatal(d.raw)
		}
		e.wantErr(e.do("DELETE", "/x/k", v("prevValue", "1")), 404, CodeKeyNotFound, "/x/k")
		e.do("PUT", "/x/k2", v("value", "1"))
		e.want(e.do("DELETE", "/x/k2", nil), 200, "delete")
		e.do("PUT", "/x/dir", v("dir", "true"))
		e.wantErr(e.do("DELETE", "/x/dir", v("prevValue", "a")), 403, CodeNotFile, "/x/dir")
	})

	sub("InOrder", func(e *env) {
		a := e.do("POST", "/q", v("value", "job1"))
		e.want(a, 201, "create")
		b := e.do("POST", "/q", v("value", "job2"))
		e.want(b, 201, "create")
		name := a.Node.Key[len("/q/"):]
		if len(name) != 20 || name != strings.Repeat("0", 20-len(strconv.FormatInt(a.Node.CreatedIndex, 10)))+strconv.FormatInt(a.Node.CreatedIndex, 10) {
			e.t.Fatalf("in-order key %q, createdIndex %d", a.Node.Key, a.Node.CreatedIndex)
		}
		if !(a.Node.Key < b.Node.Key) {
			e.t.Fatalf("order %s %s", a.Node.Key, b.Node.Key)
		}
		g := e.do("GET", "/q", v("sorted", "true"))
		if len(g.Node.Nodes) != 2 || val(g.Node.Nodes[0]) != "job1" {
			e.t.Fatal(g.raw)
		}
		e.do("PUT", "/qfile", v("value", "f"))
		e.wantErr(e.do("POST", "/qfile", v("value", "x")), 400, CodeNotDir, "/qfile")
	})

	sub("FormErrorsAndMethods", func(e *env) {
		e.wantErr(e.do("PUT", "/f/k", v("value", "1", "ttl", "abc")), 400, CodeTTLNaN, "")
		e.wantErr(e.do("PUT", "/f/k", v("value", "1", "prevIndex", "x")), 400, CodeIndexNaN, "")
		e.wantErr(e.do("GET", "/f/k", v("wait", "true", "waitIndex", "x")), 400, CodeIndexNaN, "")
		e.wantErr(e.do("GET", "/f/k", v("recursive", "yes!")), 400, CodeInvalidField, "")
		e.wantErr(e.do("PUT", "/f/k", v("value", "1", "prevValue", "")), 400, CodePrevValueRequired, "")
		r := e.do("PATCH", "/f/k", nil)
		if r.status != 405 || r.hdr.Get("Allow") == "" {
			e.t.Fatalf("PATCH: %d %v", r.status, r.hdr)
		}
	})

	sub("TTL", func(e *env) {
		r := e.do("PUT", "/t/k", v("value", "1", "ttl", "2"))
		e.want(r, 201, "set")
		if r.Node.TTL != 2 || r.Node.Expiration == nil {
			e.t.Fatalf("ttl %s", r.raw)
		}
		if g := e.do("GET", "/t/k", nil); g.Node.TTL <= 0 || g.Node.TTL > 2 || g.Node.Expiration == nil {
			e.t.Fatalf("get ttl %s", g.raw)
		}
		// Refresh keeps value and index.
		f := e.do("PUT", "/t/k", v("ttl", "2", "refresh", "true", "prevExist", "true"))
		e.want(f, 200, "update")
		if val(f.Node) != "1" || f.Node.ModifiedIndex != r.Node.ModifiedIndex {
			e.t.Fatalf("refresh %s", f.raw)
		}
		// A TTL cleared by a write without ttl.
		e.want(e.do("PUT", "/t/perm", v("value", "1", "ttl", "100")), 201, "set")
		p := e.do("PUT", "/t/perm", v("value", "2", "ttl", "", "prevExist", "true"))
		e.want(p, 200, "update")
		if p.Node.TTL != 0 || p.Node.Expiration != nil {
			e.t.Fatalf("cleared ttl %s", p.raw)
		}
		w := e.do("GET", "/t/k", v("wait", "true", "waitIndex", strconv.FormatInt(r.Node.ModifiedIndex+1, 10)))
		e.want(w, 200, "expire")
		if w.Prev == nil || val(w.Prev) != "1" {
			e.t.Fatalf("expire event %s", w.raw)
		}
		e.wantErr(e.do("GET", "/t/k", nil), 404, CodeKeyNotFound, "/t/k")
		if g := e.do("GET", "/t/perm", nil); val(g.Node) != "2" {
			e.t.Fatalf("perm %s", g.raw)
		}
	})

	sub("Wait", func(e *env) {
		first := e.do("PUT", "/w/k", v("value", "0"))
		ch := make(chan *resp, 1)
		go func() { ch <- e.do("GET", "/w/k", v("wait", "true")) }()
		time.Sleep(300 * time.Millisecond)
		e.do("PUT", "/w/other", v("value", "noise"))
		u := e.do("PUT", "/w/k", v("value", "1", "prevExist", "true"))
		select {
		case r := <-ch:
			e.want(r, 200, "update")
			if val(r.Node) != "1" || r.Node.ModifiedIndex != u.Node.ModifiedIndex || val(r.Prev) != "0" {
				e.t.Fatalf("wait %s", r.raw)
			}
		case <-time.After(10 * time.Second):
			e.t.Fatal("wait did not return")
		}
		// A past index replays history.
		r := e.do("GET", "/w/k", v("wait", "true", "waitIndex", strconv.FormatInt(first.Node.ModifiedIndex, 10)))
		e.want(r, 200, "set")
		// Recursive waits skip hidden keys and report creates and deletes.
		ch2 := make(chan *resp, 1)
		go func() { ch2 <- e.do("GET", "/w", v("wait", "true", "recursive", "true")) }()
		time.Sleep(300 * time.Millisecond)
		e.do("PUT", "/w/_hidden", v("value", "h"))
		e.do("PUT", "/w-sibling", v("value", "s"))
		e.do("PUT", "/w/sub/new", v("value", "n", "prevExist", "false"))
		select {
		case r := <-ch2:
			e.want(r, 200, "create")
			if r.Node.Key != "/w/sub/new" {
				e.t.Fatalf("recursive wait %s", r.raw)
			}
		case <-time.After(10 * time.Second):
			e.t.Fatal("recursive wait did not return")
		}
		d := e.do("DELETE", "/w/k", nil)
		r = e.do("GET", "/w/k", v("wait", "true", "waitIndex", strconv.FormatInt(d.Node.ModifiedIndex, 10)))
		e.want(r, 200, "delete")
		// A client hanging up ends the wait.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		u2 := e.srv.URL + "/v2/keys/w/never?wait=true"
		req, _ := http.NewRequestWithContext(ctx, "GET", u2, nil)
		if hr, err := http.DefaultClient.Do(req); err == nil {
			_, err = io.ReadAll(hr.Body)
			hr.Body.Close()
			if err == nil {
				e.t.Fatal("wait on an unchanged key returned")
			}
		}
	})

	sub("DiscoveryProtocol", func(e *env) {
		const K = "/discovery/tok123"
		e.want(e.do("PUT", K+"/_config/size", v("value", "3")), 201, "set")
		s := e.do("GET", K+"/_config/size", nil)
		if val(s.Node) != "3" {
			e.t.Fatal(s.raw)
		}
		g := e.do("GET", K, nil)
		e.want(g, 200, "get")
		if len(g.Node.Nodes) != 0 {
			e.t.Fatalf("members before any: %s", g.raw)
		}
		idx := g.index(e.t)
		reg := e.do("PUT", K+"/8e9e05c52164694d", v("value", "m1=http://127.0.0.1:2380", "prevExist", "false"))
		e.want(reg, 201, "create")
		e.wantErr(e.do("PUT", K+"/8e9e05c52164694d", v("value", "m1=http://127.0.0.1:2380", "prevExist", "false")), 412, CodeNodeExist, K+"/8e9e05c52164694d")
		g = e.do("GET", K, nil)
		if len(g.Node.Nodes) != 1 || g.Node.Nodes[0].CreatedIndex != reg.Node.CreatedIndex {
			e.t.Fatalf("members: %s", g.raw)
		}
		// Waiting from the index of the first check replays our own
		// registration, then the next one arrives.
		w := e.do("GET", K, v("wait", "true", "recursive", "true", "waitIndex", strconv.FormatInt(idx+1, 10)))
		e.want(w, 200, "create")
		if w.Node.Key != K+"/8e9e05c52164694d" {
			e.t.Fatalf("wait 1 %s", w.raw)
		}
		ch := make(chan *resp, 1)
		go func() {
			ch <- e.do("GET", K, v("wait", "true", "recursive", "true", "waitIndex", strconv.FormatInt(w.Node.ModifiedIndex+1, 10)))
		}()
		time.Sleep(200 * time.Millisecond)
		e.do("PUT", K+"/_config/other", v("value", "x"))
		e.want(e.do("PUT", K+"/91bc3c398fb3c146", v("value", "m2=http://127.0.0.1:2381", "prevExist", "false")), 201, "create")
		select {
		case r := <-ch:
			if r.Node == nil || r.Node.Key != K+"/91bc3c398fb3c146" || val(r.Node) != "m2=http://127.0.0.1:2381" {
				e.t.Fatalf("wait 2 %s", r.raw)
			}
		case <-time.After(10 * time.Second):
			e.t.Fatal("wait 2 did not return")
		}
	})

	sub("MembersMachines", func(e *env) {
		hr, err := http.Get(e.srv.URL + "/v2/members")
		if err != nil {
			e.t.Fatal(err)
		}
		var out struct {
			Members []struct {
				ID         string   `json:"id"`
				Name       string   `json:"name"`
				PeerURLs   []string `json:"peerURLs"`
				ClientURLs []string `json:"clientURLs"`
			} `json:"members"`
		}
		err = json.NewDecoder(hr.Body).Decode(&out)
		hr.Body.Close()
		if err != nil || len(out.Members) != 1 || out.Members[0].Name != framework.DefaultName || len(out.Members[0].ClientURLs) == 0 {
			e.t.Fatalf("members %+v %v", out, err)
		}
		hr, err = http.Get(e.srv.URL + "/v2/machines")
		if err != nil {
			e.t.Fatal(err)
		}
		b, _ := io.ReadAll(hr.Body)
		hr.Body.Close()
		if string(b) != strings.Join(out.Members[0].ClientURLs, ", ") {
			e.t.Fatalf("machines %q", b)
		}
	})

	// Last: compaction makes old indexes unwatchable.
	sub("CompactedIndex", func(e *env) {
		r := e.do("PUT", "/cmp/k", v("value", "1"))
		e.do("PUT", "/cmp/k", v("value", "2"))
		last := e.do("PUT", "/cmp/k", v("value", "3"))
		if _, err := e.cli.Compact(context.Background(), last.Node.ModifiedIndex); err != nil {
			e.t.Fatal(err)
		}
		w := e.do("GET", "/cmp/k", v("wait", "true", "waitIndex", strconv.FormatInt(r.Node.ModifiedIndex, 10)))
		e.wantErr(w, 400, CodeEventIndexCleared, "")
	})
}
