package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// crash simulates a machine crash under an open DB: it returns the state
// its files could be in afterwards, keeping each unsynced write with the
// given probability (0: exactly what was synced), and closes the DB.
func crash(t *testing.T, fs *vfs.MemFS, db *DB, unsyncedPercent int, rng *rand.Rand) *vfs.MemFS {
	t.Helper()
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent, RNG: rng})
	// Writes the DB makes while closing do not reach the clone.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return crashed
}

func TestCrashSyncedCommitSurvives(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := Open(Options{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, db, true, "synced", "1")
	commit(t, db, false, "unsynced", "2")

	after := crash(t, fs, db, 0, nil)
	db, err = Open(Options{Dir: "db", FS: after})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	if v, ok := get(t, db, "synced"); !ok || v != "1" {
		t.Errorf("synced commit lost in a crash: %q, %v", v, ok)
	}
	// Nothing synced it, and the clone keeps only synced data.
	if v, ok := get(t, db, "unsynced"); ok {
		t.Errorf("unsynced commit survived a crash that kept no unsynced data: %q", v)
	}
}

// TestCrashLaterSyncCoversEarlierNoSync is the rule the apply path relies
// on: a NoSync commit becomes durable with the next Sync commit, because
// the WAL is ordered.
func TestCrashLaterSyncCoversEarlierNoSync(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := Open(Options{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, db, false, "apply", "a")
	commit(t, db, false, "apply2", "b")
	commit(t, db, true, "raft", "r")

	after := crash(t, fs, db, 0, nil)
	db, err = Open(Options{Dir: "db", FS: after})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	for k, want := range map[string]string{"apply": "a", "apply2": "b", "raft": "r"} {
		if v, ok := get(t, db, k); !ok || v != want {
			t.Errorf("%s after crash = %q, %v; want %q", k, v, ok, want)
		}
	}
}

// TestCrashPrefix: after any crash, with any share of unsynced data kept,
// the DB recovers (no repair step) to a prefix of the commit sequence that
// includes every commit up to the last synced one.
func TestCrashPrefix(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 0))
			fs := vfs.NewCrashableMem()
			db, err := Open(Options{Dir: "db", FS: fs, WALDir: "wal"})
			if err != nil {
				t.Fatal(err)
			}
			n := 20 + rng.IntN(80)
			lastSynced := -1
			for i := range n {
				sync := rng.IntN(4) == 0
				// Each commit rewrites "last" and adds its own key, so the
				// recovered state names the prefix it holds.
				commit(t, db, sync, "last", fmt.Sprint(i), fmt.Sprintf("k%03d", i), "v")
				if sync {
					lastSynced = i
				}
			}
			after := crash(t, fs, db, rng.IntN(101), rng)

			db, err = Open(Options{Dir: "db", FS: after, WALDir: "wal"})
			if err != nil {
				t.Fatalf("reopen after crash: %v", err)
			}
			defer db.Close()
			last := -1
			if v, ok := get(t, db, "last"); ok {
				if _, err := fmt.Sscan(v, &last); err != nil {
					t.Fatal(err)
				}
			}
			if last < lastSynced {
				t.Fatalf("recovered up to commit %d, but %d was synced", last, lastSynced)
			}
			for i := range n {
				_, ok := get(t, db, fmt.Sprintf("k%03d", i))
				if ok != (i <= last) {
					t.Errorf("commit %d present = %v, recovered prefix ends at %d", i, ok, last)
				}
			}
		})
	}
}
