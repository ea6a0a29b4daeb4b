package robustness

import (
	"fmt"
	"time"
)

// Profile is how hard a robustness test pushes: its traffic, its faults
// and its bounds. The zero value is not valid; start from ShortProfile or
// LongProfile.
type Profile struct {
	Name string
	// Runs is the number of fault runs: each starts a fresh cluster, runs
	// traffic and faults for Duration, then checks everything.
	Runs int
	// Duration is how long the clients send traffic in one run.
	Duration time.Duration
	// Members is the cluster size.
	Members int
	// Clients is the number of concurrent clients, each with its own
	// clientv3 client of every member.
	Clients int
	// Keys is the size of the key set (at most MaxKeys).
	Keys int
	// Watchers is the number of watchers that watch the whole run.
	Watchers int
	// OpTimeout bounds one call; a call that times out has an unknown
	// outcome.
	OpTimeout time.Duration
	// OpGap is the mean pause between two calls of one client.
	OpGap time.Duration
	// FaultGap is the range of the pause between two faults.
	FaultGap [2]time.Duration
	// Faults are the faults drawn from, uniformly.
	Faults []FaultKind
	// RecoverTimeout bounds the wait for a healthy cluster after a fault.
	RecoverTimeout time.Duration
	// HeartbeatMs and ElectionMs are the members' --heartbeat-interval and
	// --election-timeout.
	HeartbeatMs, ElectionMs int
	// ProgressNotify is the members' --watch-progress-notify-interval.
	ProgressNotify time.Duration
	// ProgressEvery is how often a watcher asks for a bookmark.
	ProgressEvery time.Duration
	// WatchRestart is the range of the time after which a watcher restarts
	// its Watch call on purpose.
	WatchRestart [2]time.Duration
	// CheckTimeout bounds the linearizability check; past it the run
	// fails (the history was not checked).
	CheckTimeout time.Duration
}

// DefaultFaults are the faults of both profiles.
var DefaultFaults = []FaultKind{
	FaultKillLeader, FaultKillFollower,
	FaultPeerCutLeader, FaultPeerCutFollower,
	FaultMoveLeader, FaultReplaceMember,
}

// ShortProfile is the CI profile: one run of 25 s of traffic from 8
// clients with a fault every 1–2.5 s (6 to 9 faults), about 35 s in all
// with the build of the binary.
func ShortProfile() Profile {
	return Profile{
		Name:           "short",
		Runs:           1,
		Duration:       25 * time.Second,
		Members:        3,
		Clients:        8,
		Keys:           10,
		Watchers:       3,
		OpTimeout:      2 * time.Second,
		OpGap:          10 * time.Millisecond,
		FaultGap:       [2]time.Duration{time.Second, 2500 * time.Millisecond},
		Faults:         append([]FaultKind(nil), DefaultFaults...),
		RecoverTimeout: 60 * time.Second,
		HeartbeatMs:    50,
		ElectionMs:     500,
		ProgressNotify: 500 * time.Millisecond,
		ProgressEvery:  300 * time.Millisecond,
		WatchRestart:   [2]time.Duration{2 * time.Second, 6 * time.Second},
		CheckTimeout:   2 * time.Minute,
	}
}

// LongProfile is the profile behind CAIRN_ROBUST_LONG=1 (or -robust.long):
// five runs of three minutes each, faults every 0.5–4 s.
func LongProfile() Profile {
	p := ShortProfile()
	p.Name = "long"
	p.Runs = 5
	p.Duration = 3 * time.Minute
	p.FaultGap = [2]time.Duration{500 * time.Millisecond, 4 * time.Second}
	p.CheckTimeout = 10 * time.Minute
	return p
}

// Validate reports a profile that cannot run.
func (p *Profile) Validate() error {
	switch {
	case p.Runs < 1 || p.Duration <= 0:
		return fmt.Errorf("robustness: profile %s: %d runs of %v", p.Name, p.Runs, p.Duration)
	case p.Members < 3:
		return fmt.Errorf("robustness: profile %s: %d members; faults need at least 3", p.Name, p.Members)
	case p.Clients < 1 || p.Keys < 2 || p.Keys > MaxKeys:
		return fmt.Errorf("robustness: profile %s: %d clients on %d keys (2 to %d keys)", p.Name, p.Clients, p.Keys, MaxKeys)
	case p.Watchers < 1:
		return fmt.Errorf("robustness: profile %s: no watcher", p.Name)
	case p.OpTimeout <= 0 || p.RecoverTimeout <= 0 || p.ElectionMs <= 0 || p.HeartbeatMs <= 0:
		return fmt.Errorf("robustness: profile %s: a timeout is not positive", p.Name)
	case p.ProgressEvery <= 0 || p.WatchRestart[0] <= 0:
		return fmt.Errorf("robustness: profile %s: watch intervals must be positive", p.Name)
	}
	return nil
}
