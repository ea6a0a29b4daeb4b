package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/server"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// startServer runs a one-member cluster with fast timings until cleanup.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	self := membership.NewMember("m0", []string{"http://127.0.0.1:2380"}, "cairn-test")
	s, err := server.New(server.Options{
		Name:                       "m0",
		DataDir:                    t.TempDir(),
		InitialMembers:             []*membership.Member{self},
		Self:                       self,
		ClientURLs:                 []string{"http://127.0.0.1:2379"},
		TickInterval:               10 * time.Millisecond,
		ElectionTimeout:            100 * time.Millisecond,
		InitialElectionTickAdvance: true,
		Logger:                     zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		s.Stop()
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	select {
	case <-s.ReadyNotify():
	case <-s.StopNotify():
		t.Fatal("raft stopped before the member was ready")
	case <-time.After(15 * time.Second):
		t.Fatal("member not ready in time")
	}
	return s
}

// newHandler serves s with its metrics in a registry of the test's own.
func newHandler(t *testing.T, s *server.Server) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg, s); err != nil {
		t.Fatal(err)
	}
	return Handler(s, Options{Gatherer: reg})
}

func do(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestHealth(t *testing.T) {
	s := startServer(t)
	h := newHandler(t, s)
	for _, target := range []string{"/health", "/health?serializable=true"} {
		w := do(t, h, http.MethodGet, target)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d", target, w.Code)
		}
		if got := w.Body.String(); got != `{"health":"true"}` {
			t.Errorf("GET %s: body %q, want %q", target, got, `{"health":"true"}`)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
	}
	// And once over a real connection.
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != `{"health":"true"}` {
		t.Errorf("GET /health over HTTP: %d %q (%v)", resp.StatusCode, body, err)
	}
	if w := do(t, h, http.MethodHead, "/health"); w.Code != http.StatusOK {
		t.Errorf("HEAD /health: status %d", w.Code)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		w := do(t, h, m, "/health")
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s /health: status %d, want 405", m, w.Code)
		}
		if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("%s /health: Allow %q", m, allow)
		}
	}
}

// TestHealthAfterStop: a stopped member reports itself unhealthy.
func TestHealthAfterStop(t *testing.T) {
	s := startServer(t)
	h := newHandler(t, s)
	s.Stop()
	w := do(t, h, http.MethodGet, "/health")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	var body struct{ Health, Reason string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Health != "false" || body.Reason == "" {
		t.Errorf("body %q (%v), want health false with a reason", w.Body, err)
	}
	for _, target := range []string{"/livez", "/readyz"} {
		w := do(t, h, http.MethodGet, target)
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "[-]serializable_read failed") {
			t.Errorf("GET %s after Stop: %d %q, want 503 naming serializable_read", target, w.Code, w.Body)
		}
	}
}

func TestProbes(t *testing.T) {
	s := startServer(t)
	h := newHandler(t, s)
	for _, tc := range []struct {
		target, want string
	}{
		{"/livez", "ok"},
		{"/readyz", "ok"},
		{"/livez?verbose", "[+]serializable_read ok\nlivez check passed\n"},
		{"/readyz?verbose",
			"[+]serializable_read ok\n[+]data_corruption ok\n[+]linearizable_read ok\nreadyz check passed\n"},
		{"/readyz?verbose&exclude=linearizable_read",
			"[+]serializable_read ok\n[+]data_corruption ok\n[+]linearizable_read excluded: ok\nreadyz check passed\n"},
		{"/readyz?verbose&exclude=linearizable_read&exclude=serializable_read",
			"[+]serializable_read excluded: ok\n[+]data_corruption ok\n[+]linearizable_read excluded: ok\nreadyz check passed\n"},
		{"/readyz?exclude=data_corruption", "ok"},
	} {
		w := do(t, h, http.MethodGet, tc.target)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.target, w.Code)
		}
		if got := w.Body.String(); got != tc.want {
			t.Errorf("GET %s: body %q, want %q", tc.target, got, tc.want)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", tc.target, ct)
		}
	}
}

func TestVersion(t *testing.T) {
	s := startServer(t)
	h := newHandler(t, s)
	w := do(t, h, http.MethodGet, "/version")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var v map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	want := map[string]string{"etcdserver": server.Version, "etcdcluster": server.ClusterVersion}
	if len(v) != len(want) || v["etcdserver"] != want["etcdserver"] || v["etcdcluster"] != want["etcdcluster"] {
		t.Errorf("version = %v, want %v", v, want)
	}
}

func TestMetrics(t *testing.T) {
	s := startServer(t)
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg, s); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{
		"client":  Handler(s, Options{Gatherer: reg}),
		"metrics": MetricsHandler(s, reg),
	} {
		w := do(t, h, http.MethodGet, "/metrics")
		if w.Code != http.StatusOK {
			t.Fatalf("%s handler: status %d", name, w.Code)
		}
		body := w.Body.String()
		for _, want := range []string{
			"\netcd_server_has_leader 1\n",
			"\netcd_server_is_leader 1\n",
			"\netcd_mvcc_db_total_size_in_bytes ",
			"\netcd_debugging_mvcc_current_revision ",
			"\netcd_server_quota_backend_bytes ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s handler: /metrics lacks %q", name, strings.TrimSpace(want))
			}
		}
	}
	if w := do(t, MetricsHandler(s, reg), http.MethodGet, "/health"); w.Code != http.StatusOK {
		t.Errorf("metrics handler /health: status %d", w.Code)
	}
	// Registering twice is refused, not silently doubled.
	if err := RegisterMetrics(reg, s); err == nil {
		t.Error("second RegisterMetrics on one registry succeeded")
	}
}

func TestPprof(t *testing.T) {
	s := startServer(t)
	if w := do(t, Handler(s, Options{EnablePprof: true}), http.MethodGet, "/debug/pprof/"); w.Code != http.StatusOK {
		t.Errorf("pprof enabled: status %d", w.Code)
	}
	if w := do(t, Handler(s, Options{}), http.MethodGet, "/debug/pprof/"); w.Code != http.StatusNotFound {
		t.Errorf("pprof disabled: status %d, want 404", w.Code)
	}
}
