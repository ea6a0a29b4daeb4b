package watch

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Options configure a Hub. The zero value of every field is its default.
type Options struct {
	// Logger receives the hub's logs; default zap.NewNop().
	Logger *zap.Logger
	// ResyncInterval is how often unsynced watchers are caught up from
	// History when nothing else wakes the loop; default 100ms.
	ResyncInterval time.Duration
	// VictimRetryInterval is how often a response refused by a full channel
	// is offered again; default 10ms.
	VictimRetryInterval time.Duration
	// ChanBuffer is the capacity of each stream's response channel;
	// default 128.
	ChanBuffer int
	// ProgressNotifyInterval is the period of the progress responses sent to
	// watchers created with ProgressNotify; default 10m, as etcd's
	// --experimental-watch-progress-notify-interval.
	ProgressNotifyInterval time.Duration
	// SyncWatchers caps the unsynced watchers caught up in one round;
	// default 512.
	SyncWatchers int
	// SyncEvents is the soft cap on the events read from History in one
	// round (a revision is never split); default 1000.
	SyncEvents int
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.ResyncInterval == 0 {
		o.ResyncInterval = 100 * time.Millisecond
	}
	if o.VictimRetryInterval == 0 {
		o.VictimRetryInterval = 10 * time.Millisecond
	}
	if o.ChanBuffer == 0 {
		o.ChanBuffer = 128
	}
	if o.ProgressNotifyInterval == 0 {
		o.ProgressNotifyInterval = 10 * time.Minute
	}
	if o.SyncWatchers == 0 {
		o.SyncWatchers = 512
	}
	if o.SyncEvents == 0 {
		o.SyncEvents = 1000
	}
}

// Validate reports a problem with the options (after EnsureDefaults).
func (o *Options) Validate() error {
	switch {
	case o.ResyncInterval < 0:
		return fmt.Errorf("watch: Options.ResyncInterval %v is negative", o.ResyncInterval)
	case o.VictimRetryInterval < 0:
		return fmt.Errorf("watch: Options.VictimRetryInterval %v is negative", o.VictimRetryInterval)
	case o.ChanBuffer < 0:
		return fmt.Errorf("watch: Options.ChanBuffer %d is negative", o.ChanBuffer)
	case o.ProgressNotifyInterval < 0:
		return fmt.Errorf("watch: Options.ProgressNotifyInterval %v is negative", o.ProgressNotifyInterval)
	case o.SyncWatchers < 0:
		return fmt.Errorf("watch: Options.SyncWatchers %d is negative", o.SyncWatchers)
	case o.SyncEvents < 0:
		return fmt.Errorf("watch: Options.SyncEvents %d is negative", o.SyncEvents)
	}
	return nil
}
