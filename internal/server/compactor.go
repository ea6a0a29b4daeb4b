package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairn-db/cairn/internal/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

// AutoCompaction is --auto-compaction-mode and --auto-compaction-retention
// after parsing.
type AutoCompaction struct {
	// Mode is "periodic" or "revision"; "" disables.
	Mode string
	// Period, for periodic mode: keep this much history.
	Period time.Duration
	// Revisions, for revision mode: keep this many revisions.
	Revisions int64
	// CheckInterval, for revision mode; default
	// DefaultRevisionCheckInterval.
	CheckInterval time.Duration
}

// ParseAutoCompaction reads the two flags as etcd does: in periodic mode a
// bare number means hours, otherwise a Go duration; in revision mode a
// count. A zero retention disables auto compaction.
func ParseAutoCompaction(mode, retention string) (AutoCompaction, error) {
	if retention == "" || retention == "0" {
		return AutoCompaction{}, nil
	}
	switch mode {
	case "periodic", "":
		if h, err := strconv.ParseInt(retention, 10, 64); err == nil {
			return AutoCompaction{Mode: "periodic", Period: time.Duration(h) * time.Hour}, nil
		}
		d, err := time.ParseDuration(retention)
		if err != nil || d < 0 {
			return AutoCompaction{}, fmt.Errorf("invalid auto compaction retention %q: use hours or a duration like 30m", retention)
		}
		if d == 0 {
			return AutoCompaction{}, nil
		}
		return AutoCompaction{Mode: "periodic", Period: d}, nil
	case "revision":
		n, err := strconv.ParseInt(retention, 10, 64)
		if err != nil || n < 0 {
			return AutoCompaction{}, fmt.Errorf("invalid auto compaction retention %q: revision mode takes a number of revisions", retention)
		}
		return AutoCompaction{Mode: "revision", Revisions: n}, nil
	}
	return AutoCompaction{}, fmt.Errorf("unknown auto-compaction-mode %q", mode)
}

// DefaultRevisionCheckInterval is how often revision mode looks at the
// store, as etcd does.
const DefaultRevisionCheckInterval = 5 * time.Minute

// autoCompact runs on the leader only (proposals from followers would be
// redundant) and proposes compactions by the configured rule.
func (s *Server) autoCompact() {
	ac := s.opts.AutoCompaction
	if ac.Mode == "" {
		return
	}
	interval := ac.CheckInterval
	if interval <= 0 {
		interval = DefaultRevisionCheckInterval
	}
	if ac.Mode == "periodic" {
		// Sample ten times per retention period, as etcd does, so the
		// history kept is within a tenth of the retention.
		interval = ac.Period / 10
		if interval < time.Second {
			interval = time.Second
		}
	}
	type sample struct {
		at  time.Time
		rev int64
	}
	var samples []sample
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stopc:
			return
		}
		now, rev := time.Now(), s.kv.Rev()
		samples = append(samples, sample{now, rev})
		if s.Leader() != s.id {
			continue
		}
		var target int64
		switch ac.Mode {
		case "periodic":
			// The newest sample at least a retention period old.
			i := -1
			for j, sm := range samples {
				if now.Sub(sm.at) >= ac.Period {
					i = j
				}
			}
			if i < 0 {
				continue
			}
			target = samples[i].rev
			samples = samples[i+1:]
		case "revision":
			samples = samples[:0]
			target = rev - ac.Revisions
		}
		if target <= s.kv.CompactRev() || target <= 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
		_, err := s.Compact(ctx, &pb.CompactionRequest{Revision: target})
		cancel()
		switch {
		case err == nil:
			s.lg.Info("auto compaction done", zap.String("mode", ac.Mode), zap.Int64("revision", target))
		case errors.Is(err, mvcc.ErrCompacted):
		default:
			s.lg.Warn("auto compaction failed", zap.Int64("revision", target), zap.Error(err))
		}
	}
}
