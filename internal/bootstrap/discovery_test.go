package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cairn-db/cairn/internal/discoveryd/v2fake"
	"github.com/cairn-db/cairn/internal/membership"
)

// keyDir is the token directory in the fake's key space; tokenDir is the
// path of the discovery URL.
const (
	keyDir   = "/discovery/6c007a14875d53d9bf0ef5a6fc0257c8"
	tokenDir = "/v2/keys" + keyDir
)

// env is a fake v2 server with a token directory.
type env struct {
	fake *v2fake.Server
	srv  *httptest.Server
	url  string // the discovery URL
}

func newEnv(t *testing.T, size string, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	f := v2fake.New()
	if size != "" {
		f.Set(keyDir+"/_config/size", size)
	}
	var h http.Handler = f
	if wrap != nil {
		h = wrap(f)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{fake: f, srv: srv, url: srv.URL + tokenDir}
}

// member returns options for member i (infra<i> at 10.0.1.<10+i>).
func (e *env) member(i int) DiscoveryOptions {
	return memberOpts(e.url, fmt.Sprintf("infra%d", i), fmt.Sprintf("http://10.0.1.%d:2380", 10+i))
}

func memberOpts(durl, name, peer string) DiscoveryOptions {
	return DiscoveryOptions{
		URL:            durl,
		Name:           name,
		MemberID:       membership.MemberID([]string{peer}, DiscoveryToken(durl), nil),
		PeerURLs:       []string{peer},
		RetryBase:      time.Millisecond,
		RequestTimeout: 2 * time.Second,
	}
}

// register writes a member entry as another member would.
func (e *env) register(o DiscoveryOptions) {
	e.fake.Set(keyDir+"/"+membership.FormatID(o.MemberID), o.Name+"="+o.PeerURLs[0])
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zap.DebugLevel)
	return zap.New(core), logs
}

func TestDiscoverThreeMembersAgree(t *testing.T) {
	e := newEnv(t, "3", nil)
	ctx := ctxT(t)
	results := make([]string, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { results[i], errs[i] = Discover(ctx, e.member(i)) })
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("member %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("members disagree:\n%s\n%s", results[0], results[i])
		}
	}
	// The order is registration order: createdIndex ascending.
	type reg struct {
		created uint64
		value   string
	}
	var regs []reg
	for i := range 3 {
		o := e.member(i)
		n, ok := e.fake.Lookup(keyDir + "/" + membership.FormatID(o.MemberID))
		if !ok {
			t.Fatalf("member %d not registered", i)
		}
		if n.Value != o.Name+"="+o.PeerURLs[0] {
			t.Fatalf("member %d value %q", i, n.Value)
		}
		regs = append(regs, reg{n.CreatedIndex, n.Value})
	}
	for i := range regs {
		for j := i + 1; j < len(regs); j++ {
			if regs[j].created < regs[i].created {
				regs[i], regs[j] = regs[j], regs[i]
			}
		}
	}
	want := regs[0].value + "," + regs[1].value + "," + regs[2].value
	if results[0] != want {
		t.Fatalf("cluster %q, want %q", results[0], want)
	}
}

func TestDiscoverMultiplePeerURLs(t *testing.T) {
	e := newEnv(t, "1", nil)
	o := e.member(0)
	o.PeerURLs = []string{"https://10.0.1.10:2380", "http://10.0.1.10:2380"}
	got, err := Discover(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := "infra0=http://10.0.1.10:2380,infra0=https://10.0.1.10:2380"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDiscoverSizeNotFound(t *testing.T) {
	e := newEnv(t, "", nil)
	_, err := Discover(ctxT(t), e.member(0))
	want := "error: the cluster doesn't have a size configuration value in " + e.url + "/_config"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v, want %q", err, want)
	}
	if !errors.Is(err, ErrSizeNotFound) {
		t.Fatal("not ErrSizeNotFound")
	}
}

func TestDiscoverBadSize(t *testing.T) {
	for _, size := range []string{"three", "-1", "0", ""} {
		e := newEnv(t, "x", nil)
		e.fake.Set(keyDir+"/_config/size", size)
		_, err := Discover(ctxT(t), e.member(0))
		if err == nil || err.Error() != "discovery: size key is bad" {
			t.Fatalf("size %q: err %v", size, err)
		}
	}
}

func TestDiscoverFullCluster(t *testing.T) {
	e := newEnv(t, "3", nil)
	for i := range 3 {
		e.register(e.member(i))
	}
	before := e.fake.Index()
	_, err := Discover(ctxT(t), e.member(3))
	if err == nil || err.Error() != "discovery: cluster is full" {
		t.Fatalf("err %v", err)
	}
	if e.fake.Index() != before {
		t.Fatal("a full cluster was written to")
	}
}

// A member that passed the first check but lost the race for the last
// place is told the cluster is full by the second check.
func TestDiscoverLosesRace(t *testing.T) {
	var e *env
	rival := memberOpts("", "rival", "http://10.0.9.9:2380")
	e = newEnv(t, "1", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				e.register(rival)
			}
			h.ServeHTTP(w, r)
		})
	})
	_, err := Discover(ctxT(t), e.member(0))
	if !errors.Is(err, ErrFullCluster) {
		t.Fatalf("err %v", err)
	}
}

func TestDiscoverDuplicateID(t *testing.T) {
	e := newEnv(t, "3", nil)
	o := e.member(0)
	e.register(o) // a previous run of this member registered
	_, err := Discover(ctxT(t), o)
	if err == nil || err.Error() != "discovery: found duplicate id" {
		t.Fatalf("err %v", err)
	}
}

func TestDiscoverDuplicateName(t *testing.T) {
	e := newEnv(t, "2", nil)
	e.register(memberOpts(e.url, "infra0", "http://10.0.1.99:2380"))
	_, err := Discover(ctxT(t), e.member(0))
	if err == nil || err.Error() != "discovery: found duplicate name" {
		t.Fatalf("err %v", err)
	}
}

func TestDiscoverRetriesUntilServerUp(t *testing.T) {
	e := newEnv(t, "3", nil)
	e.register(e.member(1))
	e.register(e.member(2))
	e.fake.Down.Store(true)
	lg, logs := observed()
	o := e.member(0)
	o.Logger = lg
	done := make(chan error, 1)
	var got string
	go func() {
		var err error
		got, err = Discover(ctxT(t), o)
		done <- err
	}()
	retries := func() []observer.LoggedEntry {
		return logs.FilterMessage("failed to reach discovery service; retrying").All()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(retries()) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no retries logged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.fake.Down.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, "=") != 3 {
		t.Fatalf("cluster %q", got)
	}
	for i, r := range retries() {
		f := r.ContextMap()
		if r.Level != zap.WarnLevel || f["discovery-url"] != e.url || f["error"] == "" || f["error"] == nil {
			t.Fatalf("retry log %d: %v %v", i, r.Level, f)
		}
		if i < 3 && f["backoff"] != time.Duration(2<<i)*time.Millisecond {
			t.Fatalf("retry %d backoff %v", i, f["backoff"])
		}
	}
}

func TestDiscoverRetries5xx(t *testing.T) {
	var fails atomic.Int32
	fails.Store(3)
	e := newEnv(t, "1", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if fails.Add(-1) >= 0 {
				http.Error(w, "no leader", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	lg, logs := observed()
	o := e.member(0)
	o.Logger = lg
	if _, err := Discover(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterLevelExact(zap.WarnLevel).Len(); n != 3 {
		t.Fatalf("%d retries logged, want 3", n)
	}
}

// The answer to the registering PUT is lost: the retry meets the key
// this member wrote, which is not a duplicate ID.
func TestDiscoverRegisterAnswerLost(t *testing.T) {
	var dropped atomic.Bool
	e := newEnv(t, "1", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && !dropped.Swap(true) {
				h.ServeHTTP(httptest.NewRecorder(), r)
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close()
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	got, err := Discover(ctxT(t), e.member(0))
	if err != nil || got != "infra0=http://10.0.1.10:2380" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDiscoverLongPollTimeoutReads(t *testing.T) {
	e := newEnv(t, "2", nil)
	o := e.member(0)
	o.WaitTimeout = 20 * time.Millisecond
	go func() {
		time.Sleep(150 * time.Millisecond)
		e.register(e.member(1))
	}()
	got, err := Discover(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "infra1=") {
		t.Fatalf("cluster %q", got)
	}
}

func TestDiscoverCancel(t *testing.T) {
	e := newEnv(t, "3", nil)
	lg, logs := observed()
	o := e.member(0)
	o.Logger = lg
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := Discover(ctx, o); done <- err }()
	for logs.FilterMessage("found peers from discovery server; waiting for more").Len() == 0 {
		select {
		case err := <-done:
			t.Fatalf("Discover returned before waiting: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Discover did not return after cancel")
	}
}

func TestDiscoverCancelDuringBackoff(t *testing.T) {
	e := newEnv(t, "3", nil)
	e.fake.Down.Store(true)
	o := e.member(0)
	o.RetryBase = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Discover(ctx, o)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), e.url) {
		t.Fatalf("err %v", err)
	}
}

func TestDiscoverThroughProxy(t *testing.T) {
	e := newEnv(t, "1", nil)
	target, _ := url.Parse(e.srv.URL)
	var proxied atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			proxied.Add(1)
			if pr.In.URL.Host != "discovery.invalid" {
				panic("proxy asked for " + pr.In.URL.String())
			}
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath
		},
	})
	t.Cleanup(proxy.Close)

	// The discovery host does not resolve: only the proxy can reach it.
	durl := "http://discovery.invalid" + tokenDir
	o := memberOpts(durl, "infra0", "http://10.0.1.10:2380")
	o.Proxy = strings.TrimPrefix(proxy.URL, "http://") // "http://" assumed
	got, err := Discover(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if got != "infra0=http://10.0.1.10:2380" {
		t.Fatalf("cluster %q", got)
	}
	if proxied.Load() < 4 || proxied.Load() != e.fake.Requests.Load() {
		t.Fatalf("proxied %d, served %d", proxied.Load(), e.fake.Requests.Load())
	}
}

func TestDiscoverNotV2Endpoint(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"html 404": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<html><body>Not Found</body></html>")
		},
		"plain 200": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
		"json 200":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) },
		"empty 200": func(w http.ResponseWriter, r *http.Request) {},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			_, err := Discover(ctxT(t), memberOpts(srv.URL+"/tok", "infra0", "http://10.0.1.10:2380"))
			if err == nil || !strings.Contains(err.Error(), srv.URL+"/tok/_config/size") {
				t.Fatalf("err %v", err)
			}
			if !errors.Is(err, ErrBadDiscoveryEndpoint) && !errors.Is(err, errEmptyBody) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestDiscoverInvalidOptions(t *testing.T) {
	good := memberOpts("http://h:1/tok", "infra0", "http://10.0.1.10:2380")
	for name, mod := range map[string]func(*DiscoveryOptions){
		"no url":    func(o *DiscoveryOptions) { o.URL = "" },
		"no scheme": func(o *DiscoveryOptions) { o.URL = "h:1/tok" },
		"no token":  func(o *DiscoveryOptions) { o.URL = "http://h:1/" },
		"no name":   func(o *DiscoveryOptions) { o.Name = "" },
		"no id":     func(o *DiscoveryOptions) { o.MemberID = 0 },
		"no peers":  func(o *DiscoveryOptions) { o.PeerURLs = nil },
		"bad proxy": func(o *DiscoveryOptions) { o.Proxy = "%zz" },
		"proxy+rt":  func(o *DiscoveryOptions) { o.Proxy = "p:1"; o.Client = &http.Client{Transport: roundTripFunc(nil)} },
	} {
		o := good
		mod(&o)
		if _, err := Discover(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestProxyFunc(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://x/", nil)
	for in, want := range map[string]string{
		"10.0.0.1:3128":          "http://10.0.0.1:3128",
		"proxy.local:8080":       "http://proxy.local:8080",
		"http://proxy.local:80":  "http://proxy.local:80",
		"https://proxy.local:80": "https://proxy.local:80",
	} {
		f, err := proxyFunc(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		u, _ := f(req)
		if u.String() != want {
			t.Errorf("%s → %s, want %s", in, u, want)
		}
	}
	if f, err := proxyFunc(""); f != nil || err != nil {
		t.Fatal("empty proxy")
	}
}

func TestNodesToCluster(t *testing.T) {
	n := func(v string) *v2Node { return &v2Node{Value: v} }
	for _, tc := range []struct {
		nodes []*v2Node
		size  uint64
		err   error
	}{
		{[]*v2Node{n("a=http://1.1.1.1:1"), n("b=http://1.1.1.2:1")}, 2, nil},
		{[]*v2Node{n("a=http://1.1.1.1:1,a=http://1.1.1.1:2"), n("b=http://1.1.1.2:1")}, 2, nil},
		{[]*v2Node{n("a=http://1.1.1.1:1"), n("a=http://1.1.1.2:1")}, 2, ErrDuplicateName},
		{[]*v2Node{n("a=http://1.1.1.1:1,b=http://1.1.1.2:1")}, 1, ErrDuplicateName},
		{[]*v2Node{n("a=1.1.1.1:1")}, 1, ErrInvalidURL},
		{[]*v2Node{n("a=http://1.1.1.1")}, 1, ErrInvalidURL},
		{[]*v2Node{n("http://1.1.1.1:1")}, 1, ErrInvalidURL},
	} {
		if _, err := nodesToCluster(tc.nodes, tc.size); err != tc.err {
			t.Errorf("%v: err %v, want %v", tc.nodes[0].Value, err, tc.err)
		}
	}
}

func TestDecodeV2(t *testing.T) {
	h := http.Header{"X-Etcd-Index": {"7"}}
	r, err := decodeV2("GET", "u", 200, h, []byte(`{"action":"get","node":{"key":"/k","value":"v","createdIndex":3,"modifiedIndex":4}}`))
	if err != nil || r.Index != 7 || r.Node.Value != "v" || r.Node.CreatedIndex != 3 {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = decodeV2("GET", "u", 404, h, []byte(`{"errorCode":100,"message":"Key not found","cause":"/k","index":7}`))
	var ve *v2Error
	if !errors.As(err, &ve) || ve.Code != 100 || ve.Index != 7 {
		t.Fatalf("%v", err)
	}
	var re *retryableError
	if _, err := decodeV2("GET", "u", 502, h, nil); !errors.As(err, &re) {
		t.Fatalf("502 not retryable: %v", err)
	}
}

func FuzzParseMemberEntry(f *testing.F) {
	for _, s := range []string{"a=http://1.1.1.1:2380", "a=http://h:1,a=https://h:2", "=", "a=", ",", "a=http://[::1]:1", "a=unix://x:1/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMemberEntry(s)
		if err != nil {
			return
		}
		n := 0
		for name, urls := range m {
			if name == "" || len(urls) == 0 {
				t.Fatalf("%q: empty name or URLs", s)
			}
			n += len(urls)
		}
		if n != strings.Count(s, ",")+1 {
			t.Fatalf("%q: %d URLs from %d pairs", s, n, strings.Count(s, ",")+1)
		}
	})
}

func FuzzDecodeV2(f *testing.F) {
	f.Add(200, []byte(`{"action":"get","node":{"key":"/k","nodes":[{"key":"/k/a","value":"x"}]}}`))
	f.Add(404, []byte(`{"errorCode":100,"message":"Key not found","cause":"/k","index":1}`))
	f.Add(404, []byte(`<html></html>`))
	f.Add(200, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := decodeV2("GET", "u", status, http.Header{}, body)
		if err == nil && (r == nil || r.Node == nil) {
			t.Fatal("success without a node")
		}
		if err != nil && r != nil {
			t.Fatal("error with a response")
		}
	})
}
