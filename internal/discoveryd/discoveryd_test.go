package discoveryd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/bootstrap"
	"github.com/cairn-db/cairn/internal/discoveryd/v2fake"
	"github.com/cairn-db/cairn/internal/membership"
)

// svc is the service in front of a fake backing cluster.
type svc struct {
	fake    *v2fake.Server
	backend *httptest.Server
	srv     *httptest.Server
}

func newSvc(t *testing.T, opts Options) *svc {
	t.Helper()
	s := &svc{fake: v2fake.New()}
	s.backend = httptest.NewServer(s.fake)
	t.Cleanup(s.backend.Close)
	if opts.Etcd == "" {
		opts.Etcd = s.backend.URL
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

func call(t *testing.T, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var tokenURL = regexp.MustCompile(`^(.*)/([0-9a-f]{32})$`)

func (s *svc) newToken(t *testing.T, query string) (prefix, token string) {
	t.Helper()
	resp, body := call(t, http.MethodGet, s.srv.URL+"/new"+query, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/new: %s %q", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	m := tokenURL.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/new answered %q", body)
	}
	return m[1], m[2]
}

func TestNewToken(t *testing.T) {
	s := newSvc(t, Options{Host: "https://discovery.example.com/"})
	for query, want := range map[string]string{"?size=5": "5", "": "3", "?size=1": "1"} {
		prefix, token := s.newToken(t, query)
		if prefix != "https://discovery.example.com" {
			t.Fatalf("prefix %q", prefix)
		}
		if v, ok := s.fake.Get(RegistryPrefix + "/" + token + "/_config/size"); !ok || v != want {
			t.Fatalf("%q: size %q %v", query, v, ok)
		}
	}
}

func TestNewTokenHostFromRequest(t *testing.T) {
	s := newSvc(t, Options{})
	prefix, _ := s.newToken(t, "?size=3")
	if prefix != s.srv.URL {
		t.Fatalf("prefix %q, want %q", prefix, s.srv.URL)
	}
}

func TestNewTokenBadSize(t *testing.T) {
	s := newSvc(t, Options{})
	for _, size := range []string{"x", "0", "-3", "3.5"} {
		resp, body := call(t, http.MethodGet, s.srv.URL+"/new?size="+size, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "size must be a positive integer") {
			t.Fatalf("size %q: %s %q", size, resp.Status, body)
		}
	}
	if s.fake.Index() != 0 {
		t.Fatal("bad size wrote to the backing cluster")
	}
}

func TestNewTokenBackendDown(t *testing.T) {
	s := newSvc(t, Options{})
	s.fake.Down.Store(true)
	resp, body := call(t, http.MethodGet, s.srv.URL+"/new", nil)
	if resp.StatusCode != http.StatusBadGateway || strings.TrimSpace(body) != "unable to generate token" {
		t.Fatalf("%s %q", resp.Status, body)
	}
}

func TestProxyKeys(t *testing.T) {
	s := newSvc(t, Options{})
	_, token := s.newToken(t, "?size=3")
	base := s.srv.URL + "/" + token

	resp, body := call(t, http.MethodPut, base+"/8e9e05c52164694d?prevExist=false", url.Values{"value": {"infra0=http://10.0.1.10:2380"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Etcd-Index") == "" || resp.Header.Get("X-Raft-Term") == "" {
		t.Fatalf("PUT: %s %v %q", resp.Status, resp.Header, body)
	}
	var r v2fake.Response
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Action != "create" || r.Node.Value != "infra0=http://10.0.1.10:2380" {
		t.Fatalf("PUT body %q", body)
	}

	resp, body = call(t, http.MethodPut, base+"/8e9e05c52164694d?prevExist=false", url.Values{"value": {"x"}})
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, `"errorCode":105`) {
		t.Fatalf("duplicate PUT: %s %q", resp.Status, body)
	}

	resp, body = call(t, http.MethodGet, base+"/_config/size", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"value":"3"`) || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET size: %s %q", resp.Status, body)
	}

	resp, body = call(t, http.MethodGet, base, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "8e9e05c52164694d") {
		t.Fatalf("GET dir: %s %q", resp.Status, body)
	}

	resp, body = call(t, http.MethodGet, base+"/nope", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"errorCode":100`) {
		t.Fatalf("GET missing: %s %q", resp.Status, body)
	}

	resp, body = call(t, http.MethodDelete, base+"?recursive=true", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"action":"delete"`) {
		t.Fatalf("DELETE: %s %q", resp.Status, body)
	}
	if _, ok := s.fake.Get(RegistryPrefix + "/" + token + "/_config/size"); ok {
		t.Fatal("token survived DELETE")
	}
}

func TestProxyRejects(t *testing.T) {
	s := newSvc(t, Options{})
	for path, status := range map[string]int{
		"/zzzz":                             http.StatusNotFound,
		"/0123456789abcdef0123456789ABCDEF": http.StatusNotFound,
		"/0123456789abcdef0123456789abcde":  http.StatusNotFound,
	} {
		resp, body := call(t, http.MethodGet, s.srv.URL+path, nil)
		if resp.StatusCode != status || !strings.Contains(body, "invalid discovery token") {
			t.Errorf("%s: %s %q", path, resp.Status, body)
		}
	}
	resp, _ := call(t, http.MethodPost, s.srv.URL+"/0123456789abcdef0123456789abcdef", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
	resp, body := call(t, http.MethodGet, s.srv.URL+"/health", nil)
	if resp.StatusCode != http.StatusOK || body != "OK" {
		t.Errorf("health: %s %q", resp.Status, body)
	}
}

func TestProxyBackendDown(t *testing.T) {
	s := newSvc(t, Options{})
	s.fake.Down.Store(true)
	resp, _ := call(t, http.MethodGet, s.srv.URL+"/0123456789abcdef0123456789abcdef/_config/size", nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("%s", resp.Status)
	}
}

// A follower answers writes with 307 to the leader; the service follows
// it with the body.
func TestProxyFollowsLeaderRedirect(t *testing.T) {
	leader := v2fake.New()
	leaderSrv := httptest.NewServer(leader)
	t.Cleanup(leaderSrv.Close)
	var redirected atomic.Int64
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			redirected.Add(1)
			http.Redirect(w, r, leaderSrv.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		leader.ServeHTTP(w, r)
	}))
	t.Cleanup(follower.Close)
	h, err := New(Options{Etcd: follower.URL, Host: "http://d"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	_, body := call(t, http.MethodGet, srv.URL+"/new?size=2", nil)
	token := strings.TrimPrefix(body, "http://d/")
	if v, ok := leader.Get(RegistryPrefix + "/" + token + "/_config/size"); !ok || v != "2" {
		t.Fatalf("size on leader %q %v (answer %q)", v, ok, body)
	}
	resp, body := call(t, http.MethodPut, srv.URL+"/"+token+"/abc?prevExist=false", url.Values{"value": {"infra0=http://10.0.1.10:2380"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s %q", resp.Status, body)
	}
	if v, _ := leader.Get(RegistryPrefix + "/" + token + "/abc"); v != "infra0=http://10.0.1.10:2380" {
		t.Fatalf("value on leader %q", v)
	}
	if redirected.Load() != 2 {
		t.Fatalf("%d redirects", redirected.Load())
	}
}

func TestProxyLongPoll(t *testing.T) {
	s := newSvc(t, Options{})
	_, token := s.newToken(t, "")
	base := s.srv.URL + "/" + token
	idx := s.fake.Index()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s?wait=true&recursive=true&waitIndex=%d", base, idx+1))
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case b := <-got:
		t.Fatalf("poll ended early: %q", b)
	default:
	}
	call(t, http.MethodPut, base+"/abc?prevExist=false", url.Values{"value": {"infra0=http://10.0.1.10:2380"}})
	select {
	case b := <-got:
		if !strings.Contains(b, `"action":"create"`) || !strings.Contains(b, "/abc") {
			t.Fatalf("poll answered %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll not woken")
	}
}

// Three members bootstrap through the service with a token from /new.
func TestDiscoverThroughService(t *testing.T) {
	s := newSvc(t, Options{})
	prefix, token := s.newToken(t, "?size=3")
	durl := prefix + "/" + token
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]string, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			peer := fmt.Sprintf("http://10.0.1.%d:2380", 10+i)
			out[i], errs[i] = bootstrap.Discover(ctx, bootstrap.DiscoveryOptions{
				URL:       durl,
				Name:      fmt.Sprintf("infra%d", i),
				MemberID:  membership.MemberID([]string{peer}, bootstrap.DiscoveryToken(durl), nil),
				PeerURLs:  []string{peer},
				RetryBase: time.Millisecond,
			})
		})
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || out[i] != out[0] || strings.Count(out[i], "=") != 3 {
			t.Fatalf("member %d: %q %v (member 0: %q)", i, out[i], errs[i], out[0])
		}
	}

	// A fourth member finds the cluster full.
	peer := "http://10.0.1.13:2380"
	_, err := bootstrap.Discover(ctx, bootstrap.DiscoveryOptions{
		URL: durl, Name: "infra3", PeerURLs: []string{peer},
		MemberID: membership.MemberID([]string{peer}, durl, nil),
	})
	if err == nil || err.Error() != "discovery: cluster is full" {
		t.Fatalf("fourth member: %v", err)
	}

	// An unknown token has no size.
	unknown := prefix + "/0123456789abcdef0123456789abcdef"
	_, err = bootstrap.Discover(ctx, bootstrap.DiscoveryOptions{
		URL: unknown, Name: "x", PeerURLs: []string{peer}, MemberID: 1,
	})
	want := "error: the cluster doesn't have a size configuration value in " + unknown + "/_config"
	if err == nil || err.Error() != want {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Etcd: "127.0.0.1:2379"}, {Etcd: "ftp://x"}, {Host: "discovery.example.com"}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"", "3", "0", "-1", "x", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n < 1 {
			t.Fatalf("%q → %d", s, n)
		}
	})
}
