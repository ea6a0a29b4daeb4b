package server

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"go.uber.org/zap"
)

// Options configure a Server. The config layer fills them from flags once.
type Options struct {
	// Name is --name.
	Name string
	// DataDir is --data-dir; the DB lives at <DataDir>/member/db.
	DataDir string
	// WALDir is --wal-dir (optional).
	WALDir string
	// InitialMembers are the founding members of a new cluster (static
	// bootstrap); Self is this member among them. Ignored when the data dir
	// already holds a member.
	InitialMembers []*membership.Member
	Self           *membership.Member
	// JoinClusterID, when set, makes a new member join that running
	// cluster (--initial-cluster-state existing) instead of founding one:
	// InitialMembers are then the cluster's current members, used only to
	// reach them; the member list itself arrives through the raft log.
	JoinClusterID uint64
	// ClientURLs are --advertise-client-urls, published to the cluster.
	ClientURLs []string
	// TickInterval is --heartbeat-interval; default 100ms.
	TickInterval time.Duration
	// ElectionTimeout is --election-timeout; default 1s.
	ElectionTimeout time.Duration
	// InitialElectionTickAdvance is --initial-election-tick-advance.
	InitialElectionTickAdvance bool
	// PreVote is --pre-vote.
	PreVote bool
	// SnapshotCount is --snapshot-count; default 10000.
	SnapshotCount uint64
	// MaxTxnOps is --max-txn-ops; default 128.
	MaxTxnOps int
	// MaxRequestBytes is --max-request-bytes; default 1.5 MiB.
	MaxRequestBytes int
	// QuotaBackendBytes is --quota-backend-bytes; 0 means the default.
	QuotaBackendBytes int64
	// WatchProgressNotifyInterval is --watch-progress-notify-interval.
	WatchProgressNotifyInterval time.Duration
	// CatchUpEntries is --snapshot-catchup-entries.
	CatchUpEntries uint64
	// UnsafeNoFsync is --unsafe-no-fsync: raft writes are not synced.
	UnsafeNoFsync bool
	// AutoCompaction is the parsed --auto-compaction-* pair.
	AutoCompaction AutoCompaction
	// CompactionBatchLimit is --compaction-batch-limit.
	CompactionBatchLimit int
	// WarningApplyDuration is --warning-apply-duration: an apply round
	// slower than this is logged.
	WarningApplyDuration time.Duration
	// PeerTLS, when set, secures this member's connections to its peers
	// (https peer URLs): raft streams, snapshots and forwarded calls.
	PeerTLS *tls.Config
	// StrictReconfigCheck is --strict-reconfig-check: refuse membership
	// changes that would put quorum at risk.
	StrictReconfigCheck bool
	// MaxLearners is --max-learners; default 1.
	MaxLearners int
	// RequestTimeout bounds how long a proposal waits to be applied.
	RequestTimeout time.Duration
	// Logger; default no-op.
	Logger *zap.Logger
}

// DefaultQuotaBytes is Cairn's backend quota when --quota-backend-bytes is 0.
// etcd stops at 2 GiB because bbolt maps the whole file; pebble does not,
// so Cairn's default is 8 GiB.
const DefaultQuotaBytes = 8 << 30

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.TickInterval == 0 {
		o.TickInterval = 100 * time.Millisecond
	}
	if o.ElectionTimeout == 0 {
		o.ElectionTimeout = time.Second
	}
	if o.SnapshotCount == 0 {
		o.SnapshotCount = 10000
	}
	if o.MaxTxnOps == 0 {
		o.MaxTxnOps = 128
	}
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = 1572864
	}
	if o.QuotaBackendBytes <= 0 {
		o.QuotaBackendBytes = DefaultQuotaBytes
	}
	if o.MaxLearners == 0 {
		o.MaxLearners = 1
	}
	if o.RequestTimeout == 0 {
		// etcd: 5s plus twice the election timeout.
		o.RequestTimeout = 5*time.Second + 2*o.ElectionTimeout
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.DataDir == "":
		return errors.New("server: data dir is required")
	case o.Self == nil:
		return errors.New("server: local member is required")
	case o.ElectionTimeout < 5*o.TickInterval:
		return errors.New("server: election timeout must be at least 5 heartbeats")
	}
	return nil
}

func (o *Options) electionTicks() int {
	return int(o.ElectionTimeout / o.TickInterval)
}

// minLeaseTTL is etcd's rule: one and a half election timeouts, rounded up
// to whole seconds, so a lease cannot expire during a leader election.
func (o *Options) minLeaseTTL() int64 {
	ticks := (3 * o.electionTicks()) / 2
	d := time.Duration(ticks) * o.TickInterval
	secs := int64(d / time.Second)
	if d%time.Second != 0 {
		secs++
	}
	return secs
}
