package robustness

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
)

var (
	longFlag  = flag.Bool("robust.long", os.Getenv("CAIRN_ROBUST_LONG") != "", "run the long robustness profile (env CAIRN_ROBUST_LONG=1)")
	noReplace = flag.Bool("robust.no-replace", os.Getenv("CAIRN_ROBUST_NO_REPLACE") != "", "leave out the member replacement fault, for a server without runtime reconfiguration (env CAIRN_ROBUST_NO_REPLACE=1)")
	seedFlag  = flag.String("robust.seed", os.Getenv("CAIRN_ROBUST_SEED"), "seed of the first run; later runs use seed+1, … (env CAIRN_ROBUST_SEED; default: the time)")
)

func TestMain(m *testing.M) { framework.Main(m) }

// profile returns the profile the flags select.
func profile() Profile {
	p := ShortProfile()
	if *longFlag {
		p = LongProfile()
	}
	if *noReplace {
		p.Faults = slices.DeleteFunc(p.Faults, func(f FaultKind) bool { return f == FaultReplaceMember })
	}
	return p
}

// TestRobustness runs the selected profile: each run is a subtest with a
// fresh cluster, traffic, faults and every check. The totals are logged
// at the end.
func TestRobustness(t *testing.T) {
	if testing.Short() {
		t.Skip("robustness runs a cluster under faults for tens of seconds")
	}
	p := profile()
	seed := uint64(time.Now().UnixNano())
	if *seedFlag != "" {
		s, err := strconv.ParseUint(*seedFlag, 10, 64)
		if err != nil {
			t.Fatalf("-robust.seed %q: %v", *seedFlag, err)
		}
		seed = s
	}
	t.Logf("profile %s: %d run(s) of %v, %d clients on %d keys, %d watchers, faults %v; seed %d",
		p.Name, p.Runs, p.Duration, p.Clients, p.Keys, p.Watchers, p.Faults, seed)

	var all []*RunStats
	start := time.Now()
	for i := 0; i < p.Runs; i++ {
		s := seed + uint64(i)
		t.Run(fmt.Sprintf("run%d", i), func(t *testing.T) {
			st := Run(t, p, s)
			all = append(all, st)
			logRun(t, st)
		})
	}
	var tot RunStats
	for _, st := range all {
		tot.Faults = append(tot.Faults, st.Faults...)
		tot.Ops += st.Ops
		tot.Checked += st.Checked
		tot.FailedWrites += st.FailedWrites
		tot.FailedApplied += st.FailedApplied
		tot.Serializable += st.Serializable
		tot.Revisions += st.Revisions
		tot.WatchEvents += st.WatchEvents
		tot.Violations = append(tot.Violations, st.Violations...)
		tot.CheckTime += st.CheckTime
	}
	t.Logf("total: %d fault runs, %d faults (%s), %d calls recorded, %d checked for linearizability "+
		"(%d failed writes, %d of them applied), %d serializable reads checked, %d revisions, %d watch events checked, "+
		"porcupine %v, %d violations, %v in all",
		len(all), len(tot.Faults), tot.FaultCounts(), tot.Ops, tot.Checked, tot.FailedWrites, tot.FailedApplied, tot.Serializable,
		tot.Revisions, tot.WatchEvents, tot.CheckTime.Round(time.Millisecond), len(tot.Violations),
		time.Since(start).Round(time.Second))
}

func logRun(t *testing.T, st *RunStats) {
	t.Logf("seed %d: %v of traffic, %d faults (%s); %d calls recorded, %d checked for linearizability in %v, "+
		"%d serializable reads checked (failed: %d writes, %d of them applied, %d reads); history of %d revisions, %d events; "+
		"%d watch events checked over %d resumptions; %d violations",
		st.Seed, st.Traffic.Round(time.Millisecond), len(st.Faults), st.FaultCounts(),
		st.Ops, st.Checked, st.CheckTime.Round(time.Millisecond), st.Serializable,
		st.FailedWrites, st.FailedApplied, st.FailedReads, st.Revisions, st.Events,
		st.WatchEvents, st.WatchResumes, len(st.Violations))
}
