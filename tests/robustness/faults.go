package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
)

// FaultKind names a fault.
type FaultKind string

// The faults.
const (
	// FaultKillLeader kills the leader with SIGKILL, waits up to two
	// election timeouts and restarts it on the same data dir.
	FaultKillLeader FaultKind = "kill-leader"
	// FaultKillFollower does the same to a follower.
	FaultKillFollower FaultKind = "kill-follower"
	// FaultPeerCutLeader cuts every peer connection into the leader (its
	// proxy refuses, or stalls, them) for 3 to 6 election timeouts, then
	// heals. The members cannot reach it; with raft's CheckQuorum it steps
	// down, and the others elect a new leader (unless the cut heals first).
	FaultPeerCutLeader FaultKind = "peer-cut-leader"
	// FaultPeerCutFollower does the same to a follower.
	FaultPeerCutFollower FaultKind = "peer-cut-follower"
	// FaultMoveLeader transfers leadership to a random follower with
	// Maintenance.MoveLeader, sent to the leader.
	FaultMoveLeader FaultKind = "move-leader"
	// FaultReplaceMember removes a follower with Cluster.MemberRemove, adds
	// a fresh member (new name, ports and empty data dir) with
	// Cluster.MemberAdd, and starts it with --initial-cluster-state
	// existing. CAIRN_ROBUST_NO_REPLACE=1 leaves it out (a server without
	// runtime reconfiguration, such as a build of an older Cairn).
	FaultReplaceMember FaultKind = "replace-member"
)

// FaultRecord is one injected fault.
type FaultRecord struct {
	Kind   FaultKind
	Target string // the member it hit
	Detail string
	// LeaderBefore and LeaderAfter name the leader before the fault and
	// once the cluster was healthy again.
	LeaderBefore, LeaderAfter string
	Start                     time.Duration // since the run started
	Took                      time.Duration // from injection until the cluster was healthy again
	// Err is an error of the fault's own steps that does not fail the
	// run (e.g. a MoveLeader refused because leadership moved meanwhile).
	Err error
}

func (f FaultRecord) String() string {
	s := fmt.Sprintf("%s %s at %v (%s), healthy after %v, leader %s -> %s", f.Kind, f.Target,
		f.Start.Round(time.Millisecond), f.Detail, f.Took.Round(time.Millisecond), f.LeaderBefore, f.LeaderAfter)
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// faultEnv holds what an injector needs.
type faultEnv struct {
	c       *Cluster
	rng     *rand.Rand
	p       *Profile
	started time.Time
}

// errFatal marks an injector error that fails the run: a member that
// cannot restart, a cluster that never heals.
var errFatal = errors.New("fatal")

// inject injects one fault of kind k and waits until the cluster is
// healthy again. An error wrapping errFatal fails the run.
func (e *faultEnv) inject(ctx context.Context, k FaultKind) FaultRecord {
	rec := FaultRecord{Kind: k, Start: time.Since(e.started)}
	start := time.Now()
	leader, err := e.c.Leader(ctx)
	if err != nil {
		// Leave the cluster time to settle rather than guess.
		rec.Err = fmt.Errorf("no leader to aim at: %w", err)
	} else {
		rec.LeaderBefore = leader.Name()
		rec.Target, rec.Detail, rec.Err = e.run(ctx, k, leader)
	}
	hctx, cancel := context.WithTimeout(ctx, e.p.RecoverTimeout)
	defer cancel()
	if err := e.c.WaitHealthy(hctx); err != nil && ctx.Err() == nil {
		rec.Err = fmt.Errorf("%w: %v after the fault: %v", errFatal, e.p.RecoverTimeout, err)
	}
	rec.Took = time.Since(start)
	if l, err := e.c.Leader(ctx); err == nil {
		rec.LeaderAfter = l.Name()
	}
	return rec
}

// follower returns a random member other than leader.
func (e *faultEnv) follower(leader *Node) *Node {
	var fs []*Node
	for _, nd := range e.c.Nodes() {
		if nd != leader {
			fs = append(fs, nd)
		}
	}
	return fs[e.rng.IntN(len(fs))]
}

// between returns a random duration in [lo, hi].
func (e *faultEnv) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(e.rng.Int64N(int64(hi-lo)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (e *faultEnv) run(ctx context.Context, k FaultKind, leader *Node) (target, detail string, err error) {
	election := time.Duration(e.p.ElectionMs) * time.Millisecond
	switch k {
	case FaultKillLeader, FaultKillFollower:
		nd := leader
		if k == FaultKillFollower {
			nd = e.follower(leader)
		}
		down := e.between(0, 2*election)
		if err := nd.Kill9(); err != nil {
			return nd.Name(), "", fmt.Errorf("%w: %v", errFatal, err)
		}
		sleepCtx(ctx, down)
		if err := nd.Restart(); err != nil {
			return nd.Name(), "", fmt.Errorf("%w: restart after kill -9: %v", errFatal, err)
		}
		return nd.Name(), fmt.Sprintf("down %v", down.Round(time.Millisecond)), nil

	case FaultPeerCutLeader, FaultPeerCutFollower:
		nd := leader
		if k == FaultPeerCutFollower {
			nd = e.follower(leader)
		}
		mode := framework.ProxyRefuse
		if e.rng.IntN(2) == 0 {
			mode = framework.ProxyStall
		}
		hold := e.between(3*election, 6*election)
		nd.Proxy.SetMode(mode)
		sleepCtx(ctx, hold)
		nd.Proxy.SetMode(framework.ProxyPass)
		return nd.Name(), fmt.Sprintf("%s for %v", mode, hold.Round(time.Millisecond)), nil

	case FaultMoveLeader:
		to := e.follower(leader)
		mctx, cancel := context.WithTimeout(ctx, 5*election)
		defer cancel()
		_, err := leader.admin.MoveLeader(mctx, to.ID)
		return to.Name(), "from " + leader.Name(), err

	case FaultReplaceMember:
		old := e.follower(leader)
		rctx, cancel := context.WithTimeout(ctx, 2*e.p.RecoverTimeout)
		defer cancel()
		nd, err := e.c.replace(rctx, old)
		if err != nil {
			return old.Name(), "", fmt.Errorf("%w: replace: %v", errFatal, err)
		}
		return old.Name(), "replaced by " + nd.Name(), nil
	}
	return "", "", fmt.Errorf("%w: unknown fault %q", errFatal, k)
}
