package httpapi

import (
	"net/http"
	"net/http/pprof"

	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var mvccRangeOne = mvcc.RangeOptions{Limit: 1}

type handler struct{ s *server.Server }

// Options configure Handler.
type Options struct {
	EnablePprof bool
	// Gatherer serves /metrics; default prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
}

// Handler returns the client port's HTTP handler.
func Handler(s *server.Server, opts Options) http.Handler {
	h := &handler{s: s}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", h.health)
	mux.HandleFunc("/livez", h.probe(false))
	mux.HandleFunc("/readyz", h.probe(true))
	mux.HandleFunc("/version", h.version)
	g := opts.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	if opts.EnablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// MetricsHandler serves only /metrics and /health, for --listen-metrics-urls.
func MetricsHandler(s *server.Server, g prometheus.Gatherer) http.Handler {
	h := &handler{s: s}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", h.health)
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}
