package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-db/cairn/tests/framework"
)

// Durability test sizes; -cairn.long (or CAIRN_LONG=1) runs longIterations.
const (
	defaultIterations = 20
	shortIterations   = 5
	longIterations    = 200
	durWriters        = 8
	maxKillDelay      = 300 * time.Millisecond
)

// put is one write as a writer issued it; rev is set once acknowledged.
type put struct {
	key, value string
	rev        int64
}

// TestDurabilityKill9 kills the member with SIGKILL at a random instant
// while concurrent writers put unique keys, restarts it on the same data dir
// with the same flags, and checks, over all iterations so far: every
// acknowledged put is there with its value and revision; nothing is there
// that was not written; revisions never go back; the member starts without
// a repair step.
func TestDurabilityKill9(t *testing.T) {
	iterations := defaultIterations
	switch {
	case *longFlag:
		iterations = longIterations
	case testing.Short():
		iterations = shortIterations
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CAIRN_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("%d iterations, %d writers, seed %d (CAIRN_SEED reproduces the kill delays)", iterations, durWriters, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	m := framework.StartMember(t, framework.MemberConfig{Name: "dur0", Token: "cairn-durability"})
	cli := m.Client(t)
	acked := map[string]put{}     // every acknowledged put, all iterations
	attempted := map[string]put{} // every put issued, acknowledged or not
	var maxRev int64              // highest revision acknowledged so far
	totalAcks := 0

	for it := range iterations {
		delay := time.Duration(rng.Int64N(int64(maxKillDelay)))
		puts := writeUntilKilled(t, m, cli, it, delay)
		if err := m.Restart(); err != nil {
			t.Fatalf("iteration %d: restart after kill -9: %v", it, err)
		}
		checkNoRepair(t, m, it)

		iterMin := int64(0)
		for _, w := range puts {
			last := int64(0)
			for _, p := range w {
				attempted[p.key] = p
				if p.rev == 0 {
					continue
				}
				if p.rev <= last {
					t.Errorf("iteration %d: %s acknowledged at revision %d after revision %d on the same writer", it, p.key, p.rev, last)
				}
				last = p.rev
				if iterMin == 0 || p.rev < iterMin {
					iterMin = p.rev
				}
				acked[p.key] = p
				totalAcks++
			}
		}
		if iterMin != 0 && iterMin <= maxRev {
			t.Errorf("iteration %d: revision %d acknowledged after the restart, not above %d acknowledged before", it, iterMin, maxRev)
		}
		maxRev = max(maxRev, verifyDurable(t, cli, it, acked, attempted))
		if t.Failed() {
			t.Fatalf("iteration %d failed; stopping", it)
		}
	}
	t.Logf("%d puts acknowledged over %d kills, all present after restart; last revision %d", totalAcks, iterations, maxRev)
}

// writeUntilKilled runs durWriters sequential writers of unique keys, kills
// the member with SIGKILL delay after the first acknowledgement, and
// returns each writer's puts in order.
func writeUntilKilled(t *testing.T, m *framework.Member, cli *clientv3.Client, it int, delay time.Duration) [][]put {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var acks atomic.Int64
	firstAck := make(chan struct{})
	var once sync.Once
	puts := make([][]put, durWriters)
	var wg sync.WaitGroup
	for w := range durWriters {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				p := put{
					key:   fmt.Sprintf("dur/%04d/%d/%06d", it, w, seq),
					value: fmt.Sprintf("i%d-w%d-s%d-%x", it, w, seq, rand.Uint32()),
				}
				pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
				resp, err := cli.Put(pctx, p.key, p.value)
				pcancel()
				if err == nil {
					p.rev = resp.Header.Revision
					acks.Add(1)
					once.Do(func() { close(firstAck) })
				}
				puts[w] = append(puts[w], p)
				if err != nil {
					return // the member is gone; this writer's last put is in doubt
				}
			}
		})
	}
	select {
	case <-firstAck:
	case <-time.After(60 * time.Second):
		cancel()
		wg.Wait()
		t.Fatalf("iteration %d: no put acknowledged within 60s", it)
	}
	time.Sleep(delay) // the random instant of the kill
	if err := m.Kill9(); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	return puts
}

// verifyDurable reads every key back and checks it against what was
// written; it returns the store's revision.
func verifyDurable(t *testing.T, cli *clientv3.Client, it int, acked, attempted map[string]put) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "dur/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("iteration %d: reading back after restart: %v", it, err)
	}
	present := make(map[string]bool, len(resp.Kvs))
	revs := make(map[int64]string, len(resp.Kvs))
	var top int64
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		present[k] = true
		top = max(top, kv.ModRevision)
		if other, dup := revs[kv.ModRevision]; dup {
			t.Errorf("iteration %d: %s and %s both at revision %d", it, other, k, kv.ModRevision)
		}
		revs[kv.ModRevision] = k
		p, ok := attempted[k]
		switch {
		case !ok:
			t.Errorf("iteration %d: %s is present but was never written", it, k)
		case string(kv.Value) != p.value:
			t.Errorf("iteration %d: %s = %q, written %q", it, k, kv.Value, p.value)
		case kv.Version != 1 || kv.CreateRevision != kv.ModRevision:
			t.Errorf("iteration %d: %s written once but has version %d, create %d, mod %d", it, k, kv.Version, kv.CreateRevision, kv.ModRevision)
		case p.rev != 0 && kv.ModRevision != p.rev:
			t.Errorf("iteration %d: %s at revision %d, acknowledged at %d", it, k, kv.ModRevision, p.rev)
		}
	}
	lost := 0
	for k, p := range acked {
		if !present[k] {
			lost++
			if lost <= 10 {
				t.Errorf("iteration %d: acknowledged put %s (revision %d) lost", it, k, p.rev)
			}
		}
	}
	if lost > 10 {
		t.Errorf("iteration %d: %d acknowledged puts lost in all", it, lost)
	}
	if resp.Header.Revision < top {
		t.Errorf("iteration %d: store revision %d below the mod revision %d of a key", it, resp.Header.Revision, top)
	}
	return max(top, resp.Header.Revision)
}

// repairLine matches log lines about repairing the data dir.
var repairLine = regexp.MustCompile(`(?i).*repair.*`)

// checkNoRepair fails if the latest run logged a repair. etcd itself
// repairs a torn WAL tail on its own; when the binary under test is the
// reference etcd, that is only reported.
func checkNoRepair(t *testing.T, m *framework.Member, it int) {
	t.Helper()
	lines := repairLine.FindAllString(m.RunLog(), 5)
	if len(lines) == 0 {
		return
	}
	if framework.IsReferenceEtcd(m.Config().Bin) {
		t.Logf("iteration %d: etcd repaired its data dir on restart (tolerated for the reference etcd): %q", it, lines)
		return
	}
	t.Errorf("iteration %d: the member logged a repair on restart, want none: %q", it, lines)
}
