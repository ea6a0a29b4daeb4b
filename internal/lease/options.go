package lease

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// MaxTTL is the largest TTL, in seconds, a lease may be granted (etcd's
// limit; a larger request fails with ErrLeaseTTLTooLarge).
const MaxTTL = 9000000000

// Defaults of Options. DefaultMinTTL is what etcd computes for its default
// 100 ms heartbeat and 1000 ms election timeout.
const (
	DefaultMinTTL               = 2
	DefaultCheckpointInterval   = 5 * time.Minute
	DefaultExpiredRetryInterval = 3 * time.Second
	DefaultRevokeRate           = 1000
)

// Options configure New. The zero value of every field is its default.
type Options struct {
	// Logger receives the lessor's few logs (recovery, expiry spreading);
	// default zap.NewNop().
	Logger *zap.Logger

	// MinTTL is the shortest TTL granted, in seconds: a Grant asking for less
	// gets MinTTL, and a stored lease with a shorter TTL is raised to it on
	// load. The server computes etcd's rule: (3 × election ticks / 2) ×
	// heartbeat interval, rounded up to whole seconds — about 1.5 election
	// timeouts, so a lease outlives a leader change. Default 2
	// (DefaultMinTTL).
	MinTTL int64

	// Now is the clock; default time.Now. Every timing decision (expiry,
	// renewal, checkpoint due times) reads it; nothing else does.
	Now func() time.Time

	// EnableCheckpoints makes the primary schedule periodic checkpoints of
	// each lease's remaining TTL (DueCheckpoints), so a new leader resumes a
	// lease's countdown instead of restarting it. etcd's
	// --experimental-enable-lease-checkpoint / LeaseCheckpoint feature gate;
	// default false, as in etcd. Applying checkpoints (Checkpoint) works
	// either way.
	EnableCheckpoints bool

	// CheckpointInterval is the time between two checkpoints of one lease;
	// only leases whose TTL exceeds it are checkpointed. etcd's
	// --experimental-lease-checkpoint-interval; default 5 minutes
	// (DefaultCheckpointInterval).
	CheckpointInterval time.Duration

	// ExpiredRetryInterval is how long a lease returned by Expired stays out
	// of later Expired results, giving its revoke proposal time to apply.
	// Default 3 s (DefaultExpiredRetryInterval), etcd's lessor default; the
	// etcd server passes its request timeout (5 s + 2 × election timeout).
	ExpiredRetryInterval time.Duration

	// RevokeRate is the number of lease revocations per second the server
	// aims at (it calls Expired with a matching limit). When at least this
	// many leases exist, Promote spreads their deadlines so that no more than
	// 3/4 of RevokeRate fall due in any one second. Default 1000
	// (DefaultRevokeRate), etcd's rate.
	RevokeRate int
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.MinTTL == 0 {
		o.MinTTL = DefaultMinTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.ExpiredRetryInterval == 0 {
		o.ExpiredRetryInterval = DefaultExpiredRetryInterval
	}
	if o.RevokeRate == 0 {
		o.RevokeRate = DefaultRevokeRate
	}
}

// Validate reports a problem with the options. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	var errs []error
	if o.MinTTL < 1 || o.MinTTL > MaxTTL {
		errs = append(errs, fmt.Errorf("lease: Options.MinTTL %d is outside [1, %d]", o.MinTTL, int64(MaxTTL)))
	}
	if o.CheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("lease: Options.CheckpointInterval %v is negative", o.CheckpointInterval))
	}
	if o.ExpiredRetryInterval < 0 {
		errs = append(errs, fmt.Errorf("lease: Options.ExpiredRetryInterval %v is negative", o.ExpiredRetryInterval))
	}
	if o.RevokeRate < 0 {
		errs = append(errs, fmt.Errorf("lease: Options.RevokeRate %d is negative", o.RevokeRate))
	}
	if o.Logger == nil || o.Now == nil {
		errs = append(errs, errors.New("lease: Options.Logger and Options.Now must be set (call EnsureDefaults)"))
	}
	return errors.Join(errs...)
}
