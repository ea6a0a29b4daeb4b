package robustness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairn-db/cairn/tests/framework"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// RunStats is what one fault run did and checked.
type RunStats struct {
	Seed   uint64
	Faults []FaultRecord
	// Ops is every call recorded; Checked the calls given to porcupine.
	Ops, Checked int
	// FailedWrites, FailedApplied and FailedReads count the calls with an
	// unknown outcome (see Attribution).
	FailedWrites, FailedApplied, FailedReads int
	// Serializable counts the serializable reads checked against the
	// history.
	Serializable int
	// Revisions and Events are the size of the history; WatchEvents the
	// events the watchers received and checked.
	Revisions, Events, WatchEvents int
	WatchResumes                   int
	CheckTime                      time.Duration
	Traffic                        time.Duration
	Violations                     []Violation
	// Evidence is the directory the run's records were written to, when
	// it found a violation.
	Evidence string
}

// FaultCounts returns the number of faults injected per kind, as
// "kind=n ..." sorted by kind.
func (s *RunStats) FaultCounts() string { return faultCounts(s.Faults) }

func faultCounts(fs []FaultRecord) string {
	n := map[FaultKind]int{}
	for _, f := range fs {
		n[f.Kind]++
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// memberArgs returns the flags every member gets from profile p.
func memberArgs(p *Profile, bin string) []string {
	progressFlag := "--watch-progress-notify-interval"
	if framework.IsReferenceEtcd(bin) {
		progressFlag = "--experimental-watch-progress-notify-interval" // etcd 3.4
	}
	args := []string{
		"--heartbeat-interval", fmt.Sprint(p.HeartbeatMs),
		"--election-timeout", fmt.Sprint(p.ElectionMs),
		progressFlag, p.ProgressNotify.String(),
		// A short log: members killed or cut for a few seconds, and new
		// members, catch up by snapshot under the faults.
		"--snapshot-count", "1000",
	}
	if !framework.IsReferenceEtcd(bin) {
		args = append(args, "--snapshot-catchup-entries", "200")
	}
	return args
}

// Run is one fault run: it starts a cluster, runs the clients, the
// watchers and the faults for p.Duration, heals the cluster, and checks
// the history and every watch. Violations are reported with t.Error; the
// records of a run that found one are kept in a directory named in the
// log.
func Run(t *testing.T, p Profile, seed uint64) *RunStats {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	stats := &RunStats{Seed: seed}
	rngs := rand.New(rand.NewPCG(seed, 0x5eed))
	newRng := func() *rand.Rand { return rand.New(rand.NewPCG(rngs.Uint64(), rngs.Uint64())) }

	c := startCluster(t, p.Members, memberArgs(&p, framework.Binary(t)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin, err := c.newClient(c.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	c.OnEndpoints(func(eps []string) { admin.SetEndpoints(eps...) })
	initial, err := admin.Get(ctx, Prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(initial.Kvs) != 0 {
		t.Fatalf("the store holds %d keys under %s before the run", len(initial.Kvs), Prefix)
	}
	initRev := initial.Header.Revision
	keys := NewKeys(p.Keys)
	rec := NewRecorder()

	// Watchers: watcher i talks to member i only (so a fault on that
	// member hits its stream), the others to every member.
	watchCtx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	var watchers []*watcher
	var wg sync.WaitGroup
	for i := 0; i < p.Watchers; i++ {
		eps := c.Endpoints()
		if i < len(eps) {
			eps = eps[i : i+1]
		}
		cli, err := c.newClient(eps)
		if err != nil {
			t.Fatal(err)
		}
		c.OnEndpoints(func(eps []string) { cli.SetEndpoints(eps...) })
		w := newWatcher(fmt.Sprintf("watcher-%d", i), cli, newRng(), &p, initRev+1)
		watchers = append(watchers, w)
		wg.Add(1)
		go func() { defer wg.Done(); w.run(watchCtx) }()
	}
	defer wg.Wait()
	defer stopWatchers()

	// Clients and faults.
	trafficCtx, stopTraffic := context.WithTimeout(ctx, p.Duration)
	var clients sync.WaitGroup
	defer clients.Wait()
	defer stopTraffic()
	for i := 0; i < p.Clients; i++ {
		cli, err := c.newClient(c.Endpoints())
		if err != nil {
			t.Fatal(err)
		}
		c.OnEndpoints(func(eps []string) { cli.SetEndpoints(eps...) })
		cl := &client{id: i, cli: cli, rng: newRng(), keys: keys, rec: rec, seen: map[int]KV{}}
		clients.Add(1)
		go func() { defer clients.Done(); cl.run(trafficCtx, &p) }()
	}
	started := time.Now()
	env := &faultEnv{c: c, rng: newRng(), p: &p, started: started}
	for {
		sleepCtx(trafficCtx, env.between(p.FaultGap[0], p.FaultGap[1]))
		if trafficCtx.Err() != nil {
			break
		}
		f := env.inject(ctx, p.Faults[env.rng.IntN(len(p.Faults))])
		stats.Faults = append(stats.Faults, f)
		t.Logf("fault %d: %s", len(stats.Faults), f)
		if errors.Is(f.Err, errFatal) {
			t.Errorf("fault %s: %v", f.Kind, f.Err)
			break
		}
	}
	clients.Wait()
	stats.Traffic = time.Since(started)

	// Heal, then read where the store ended.
	if err := c.Heal(); err != nil {
		t.Fatalf("healing: %v", err)
	}
	hctx, hcancel := context.WithTimeout(ctx, p.RecoverTimeout)
	err = c.WaitHealthy(hctx)
	hcancel()
	if err != nil {
		t.Fatalf("after the run: %v", err)
	}
	final, err := admin.Get(ctx, Prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	finalRev := final.Header.Revision
	var finalKVs []KeyState
	for _, kv := range final.Kvs {
		finalKVs = append(finalKVs, toKeyState(kv))
	}

	// Let every watcher get there, then stop them.
	deadline := time.Now().Add(p.RecoverTimeout)
	for time.Now().Before(deadline) {
		done := true
		for _, w := range watchers {
			done = done && w.reached() >= finalRev
		}
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopWatchers()
	wg.Wait()

	// The history: a replay from every member, which must agree.
	var (
		names   []string
		replays [][]Event
	)
	for _, nd := range c.Nodes() {
		cli, err := c.newClient([]string{nd.Endpoint()})
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, p.RecoverTimeout)
		evs, err := replay(rctx, cli, initRev+1, finalRev)
		rcancel()
		if err != nil {
			t.Fatalf("replay from %s: %v", nd.Name(), err)
		}
		names = append(names, nd.Name())
		replays = append(replays, evs)
	}
	settle, err := admin.Get(ctx, Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("settle read: %v", err)
	}

	// The checks.
	var vs []Violation
	if settle.Header.Revision != finalRev {
		vs = append(vs, violationf("history", "revision %d after the final read at %d: a write landed after the run",
			settle.Header.Revision, finalRev))
	}
	vs = append(vs, CompareReplays(names, replays)...)
	h, hvs := BuildHistory(initRev, replays[0])
	vs = append(vs, hvs...)
	vs = append(vs, CheckFinal(h, finalRev, finalKVs)...)
	ops := rec.Ops()
	a, avs := Attribute(ops, h, keys)
	vs = append(vs, avs...)
	vs = append(vs, CheckSerializable(ops, h, keys)...)
	var records []*WatchRecord
	for _, w := range watchers {
		r := w.record()
		records = append(records, r)
		vs = append(vs, CheckWatch(r, h)...)
		stats.WatchEvents += r.Events()
		stats.WatchResumes += len(r.Segments) - 1
	}
	vizDir, err := os.MkdirTemp("", "cairn-robustness-")
	if err != nil {
		t.Fatal(err)
	}
	lin, err := CheckLinearizable(a, initRev, p.CheckTimeout, vizDir)
	if err != nil {
		t.Error(err)
	}
	switch lin.Result {
	case porcupine.Illegal:
		vs = append(vs, violationf("linearizable", "the history of %d calls is not linearizable; see %s", lin.Ops, lin.Visualization))
	case porcupine.Unknown:
		vs = append(vs, violationf("linearizable", "porcupine did not finish checking %d calls within %v", lin.Ops, p.CheckTimeout))
	}

	stats.Ops, stats.Checked = len(ops), lin.Ops
	stats.FailedWrites, stats.FailedApplied, stats.FailedReads = a.FailedWrites, a.FailedApplied, a.FailedReads
	stats.Serializable = a.Serializable
	stats.Revisions, stats.Events = len(h.Revisions), h.Events()
	stats.CheckTime = lin.Duration
	stats.Violations = vs
	if len(vs) == 0 {
		os.RemoveAll(vizDir)
		return stats
	}
	stats.Evidence = vizDir
	saveEvidence(t, vizDir, stats, ops, replays[0], records, c)
	t.Errorf("seed %d: %s\nevidence (calls, history, watches, faults, member logs) in %s",
		seed, Summarize(vs, 30), vizDir)
	return stats
}

// saveEvidence writes what a failed run recorded to dir.
func saveEvidence(t *testing.T, dir string, stats *RunStats, ops []Op, history []Event, watches []*WatchRecord, c *Cluster) {
	t.Helper()
	write := func(name string, v any) {
		data, err := json.MarshalIndent(v, "", " ")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			t.Errorf("evidence %s: %v", name, err)
		}
	}
	write("calls.json", ops)
	write("history.json", history)
	write("watches.json", watches)
	var faults []string
	for _, f := range stats.Faults {
		faults = append(faults, f.String())
	}
	write("faults.json", faults)
	var vs []string
	for _, v := range stats.Violations {
		vs = append(vs, v.String())
	}
	write("violations.json", vs)
	for _, nd := range c.allMembers() {
		if data, err := os.ReadFile(nd.LogPath()); err == nil {
			_ = os.WriteFile(filepath.Join(dir, nd.Name()+".log"), data, 0o644)
		}
	}
}
