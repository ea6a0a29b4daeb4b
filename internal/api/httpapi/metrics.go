package httpapi

import (
	"github.com/cairn-db/cairn/internal/server"
	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics registers the server's gauges and counters under etcd's
// metric names, read from the server when scraped.
func RegisterMetrics(reg prometheus.Registerer, s *server.Server) error {
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "has_leader",
			Help: "Whether or not a leader exists. 1 is existence, 0 is not."},
			func() float64 { return b2f(s.Leader() != 0) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "is_leader",
			Help: "Whether or not this member is a leader. 1 if is, 0 otherwise."},
			func() float64 { return b2f(s.Leader() == s.ID()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "server", Name: "leader_changes_seen_total",
			Help: "The number of leader changes seen."},
			func() float64 { return float64(s.LeaderChanges()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "proposals_applied_total",
			Help: "The total number of consensus proposals applied."},
			func() float64 { return float64(s.AppliedIndex()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "proposals_pending",
			Help: "The current number of pending proposals to commit."},
			func() float64 { return float64(s.PendingProposals()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "server", Name: "proposals_failed_total",
			Help: "The total number of failed proposals seen."},
			func() float64 { return float64(s.FailedProposals()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "mvcc", Name: "db_total_size_in_bytes",
			Help: "Total size of the underlying database physically allocated in bytes."},
			func() float64 { return float64(s.DB().SizeBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "debugging", Name: "mvcc_current_revision",
			Help: "The current revision of store."},
			func() float64 { return float64(s.KV().Rev()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "debugging", Name: "mvcc_compact_revision",
			Help: "The revision of the last compaction in store."},
			func() float64 { return float64(s.KV().CompactRev()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "quota_backend_bytes",
			Help: "Current backend storage quota size in bytes."},
			func() float64 { return float64(s.Options().QuotaBackendBytes) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
