package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/server"
)

// healthTimeout bounds the linearizable check behind /health and /readyz.
const healthTimeout = 5 * time.Second

type check struct {
	name string
	run  func(ctx context.Context) error
}

func (h *handler) checks(ready bool) []check {
	cs := []check{{"serializable_read", func(context.Context) error {
		_, err := h.s.KV().Range(nil, nil, mvccRangeOne)
		return err
	}}}
	if ready {
		cs = append(cs, check{"data_corruption", func(context.Context) error { return nil }},
			check{"linearizable_read", h.s.Linearize})
	}
	return cs
}

// health answers etcd's /health: {"health":"true"} or 503 with "false".
func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	ok, reason := true, ""
	if h.s.Leader() == 0 {
		ok, reason = false, "RAFT NO LEADER"
	} else if r.URL.Query().Get("serializable") != "true" {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		err := h.s.Linearize(ctx)
		cancel()
		if err != nil {
			ok, reason = false, "QGET ERROR:"+err.Error()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	body, _ := json.Marshal(struct {
		Health string `json:"health"`
		Reason string `json:"reason,omitempty"`
	}{fmt.Sprint(ok), reason})
	w.Write(body)
}

// probe answers /livez and /readyz in the style of etcd 3.6 (and
// Kubernetes): "ok", or a per-check listing with ?verbose; ?exclude=name
// skips a check.
func (h *handler) probe(ready bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		excluded := map[string]bool{}
		for _, e := range q["exclude"] {
			excluded[e] = true
		}
		_, verbose := q["verbose"]
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		var out strings.Builder
		failed := false
		for _, c := range h.checks(ready) {
			if excluded[c.name] {
				fmt.Fprintf(&out, "[+]%s excluded: ok\n", c.name)
				continue
			}
			if err := c.run(ctx); err != nil {
				failed = true
				fmt.Fprintf(&out, "[-]%s failed: %v\n", c.name, err)
				continue
			}
			fmt.Fprintf(&out, "[+]%s ok\n", c.name)
		}
		name := "livez"
		if ready {
			name = "readyz"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if failed {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "%s%s check failed\n", out.String(), name)
			return
		}
		if verbose {
			fmt.Fprintf(w, "%s%s check passed\n", out.String(), name)
			return
		}
		fmt.Fprint(w, "ok")
	}
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	cv := h.s.Cluster().Version()
	if cv == "" {
		cv = "not_decided"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Server  string `json:"etcdserver"`
		Cluster string `json:"etcdcluster"`
	}{server.Version, cv})
}
