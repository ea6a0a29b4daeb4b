package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProbePath answers every GET with 200; peers time it to measure the round
// trip, as etcd's prober does.
const ProbePath = "/raft/probing"

// probeInterval is how often each peer is probed.
const probeInterval = 5 * time.Second

var peerRTT = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Namespace: "etcd", Subsystem: "network", Name: "peer_round_trip_time_seconds",
	Help:    "Round-Trip-Time histogram between peers",
	Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
}, []string{"To"})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{peerRTT} }

func serveProbe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "OK")
}

// probe times one GET of the peer's ProbePath every probeInterval until
// the peer stops. A failed probe records nothing: the stream's own errors
// already say the peer is unreachable.
func (p *peer) probe() {
	defer close(p.probeDone)
	label := idString(p.id)
	defer peerRTT.DeleteLabelValues(label)
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		if base := p.currentURL(); base != "" {
			ctx, cancel := context.WithTimeout(p.ctx, p.t.opts.DialTimeout)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+ProbePath, nil)
			if err == nil {
				start := time.Now()
				if resp, err := p.t.client.Do(req); err == nil {
					io.Copy(io.Discard, io.LimitReader(resp.Body, 64))
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						peerRTT.WithLabelValues(label).Observe(time.Since(start).Seconds())
					}
				}
			}
			cancel()
		}
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}
