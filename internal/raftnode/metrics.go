package raftnode

import "github.com/prometheus/client_golang/prometheus"

// Metrics under etcd's names. Register them with Collectors.
var (
	walFsyncSec = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "etcd", Subsystem: "disk", Name: "wal_fsync_duration_seconds",
		Help:    "The latency distributions of fsync called by WAL.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	proposalsCommitted = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "etcd", Subsystem: "server", Name: "proposals_committed_total",
		Help: "The total number of consensus proposals committed.",
	})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{walFsyncSec, proposalsCommitted}
}
