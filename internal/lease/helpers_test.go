package lease

import (
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// clock is a manual clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time // protected by mu
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one member's storage and lessor, reopenable on the same in-memory
// filesystem.
type env struct {
	t     *testing.T
	fs    vfs.FS
	clock *clock
	opts  Options
	db    *storage.DB
	l     *Lessor
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, fs: vfs.NewMem(), clock: newClock(), opts: opts}
	e.opts.Now = e.clock.Now
	e.open()
	t.Cleanup(func() {
		if e.db != nil {
			_ = e.db.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := storage.Open(storage.Options{Dir: "/db", FS: e.fs})
	if err != nil {
		e.t.Fatal(err)
	}
	l, err := New(db, e.opts)
	if err != nil {
		_ = db.Close()
		e.t.Fatal(err)
	}
	e.db, e.l = db, l
}

// reopen simulates a restart: close the DB, open it again, build a new
// lessor with the same options.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.db = nil
	e.open()
}

// apply runs fn with a fresh indexed batch and commits it.
func (e *env) apply(fn func(b *storage.Batch)) {
	e.t.Helper()
	b := e.db.NewIndexedBatch()
	defer b.Close()
	fn(b)
	if err := e.db.Commit(b, storage.Sync); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) grant(id, ttl int64) {
	e.t.Helper()
	e.apply(func(b *storage.Batch) {
		if _, err := e.l.Grant(b, id, ttl); err != nil {
			e.t.Fatalf("Grant(%d, %d): %v", id, ttl, err)
		}
	})
}

func (e *env) attach(id int64, keys ...string) {
	e.t.Helper()
	e.apply(func(b *storage.Batch) {
		for _, k := range keys {
			if err := e.l.Attach(b, id, []byte(k)); err != nil {
				e.t.Fatalf("Attach(%d, %q): %v", id, k, err)
			}
		}
	})
}

func strs(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}
