package mvcc

import (
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.uber.org/zap/zaptest"
)

// testEnv is a store over a pebble DB in memory (or on disk).
type testEnv struct {
	t   testing.TB
	fs  vfs.FS
	db  *storage.DB
	s   *Store
	opt Options
}

func newEnv(t testing.TB) *testEnv {
	return newEnvOpts(t, Options{})
}

func newEnvOpts(t testing.TB, opt Options) *testEnv {
	e := &testEnv{t: t, fs: vfs.NewMem(), opt: opt}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *testEnv) open() {
	db, err := storage.Open(storage.Options{Dir: "db", FS: e.fs})
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := OpenWithOptions(db, zaptest.NewLogger(e.t), e.opt)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.s = db, s
}

func (e *testEnv) close() {
	if e.s != nil {
		e.s.Close()
		e.s = nil
	}
	if e.db != nil {
		if e.t.Failed() {
			return // a failed test may have left a txn (and its iterator) open
		}
		_ = e.db.Close()
		e.db = nil
	}
}

func (e *testEnv) reopen() {
	e.close()
	e.open()
}

// apply runs f in one write txn, commits and publishes.
func (e *testEnv) apply(f func(t *WriteTxn)) []*mvccpb.Event {
	e.t.Helper()
	b := e.db.NewIndexedBatch()
	defer b.Close()
	t := e.s.Write(b)
	f(t)
	evs := t.End()
	if err := t.Err(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Commit(b, storage.NoSync); err != nil {
		e.t.Fatal(err)
	}
	e.s.Publish()
	return evs
}
