package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openTest(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func commit(t *testing.T, db *DB, sync bool, kvs ...string) {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	for i := 0; i+1 < len(kvs); i += 2 {
		if err := b.Set([]byte(kvs[i]), []byte(kvs[i+1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	opts := NoSync
	if sync {
		opts = Sync
	}
	if err := db.Commit(b, opts); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func get(t *testing.T, db *DB, key string) (string, bool) {
	t.Helper()
	v, err := db.Get([]byte(key))
	if errors.Is(err, ErrNotFound) {
		return "", false
	}
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v), true
}

func TestOpenValidate(t *testing.T) {
	if _, err := Open(Options{}); err == nil {
		t.Error("Open without Dir succeeded")
	}
}

func TestOpenCommitGetClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "db") // parents are created
	db := openTest(t, Options{Dir: dir})

	commit(t, db, true, "k1", "v1", "k2", "v2")
	commit(t, db, false, "k3", "v3")
	if db.SyncedCommits() != 1 {
		t.Errorf("SyncedCommits = %d, want 1", db.SyncedCommits())
	}
	for k, want := range map[string]string{"k1": "v1", "k2": "v2", "k3": "v3"} {
		if got, ok := get(t, db, k); !ok || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", k, got, ok, want)
		}
	}
	if _, ok := get(t, db, "missing"); ok {
		t.Error("Get of a missing key found it")
	}
	// Get returns a copy the caller may keep and change.
	v, _ := db.Get([]byte("k1"))
	v[0] = 'X'
	if got, _ := get(t, db, "k1"); got != "v1" {
		t.Errorf("changing a returned value changed the DB: %q", got)
	}
	// An indexed batch reads its own writes over the DB.
	ib := db.NewIndexedBatch()
	if err := ib.Set([]byte("k1"), []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(ib, []byte("k1")); err != nil || string(got) != "new" {
		t.Errorf("indexed batch read %q, %v", got, err)
	}
	if got, err := Get(ib, []byte("k2")); err != nil || string(got) != "v2" {
		t.Errorf("indexed batch read through to the DB: %q, %v", got, err)
	}
	ib.Close()
	if db.SizeBytes() <= 0 {
		t.Errorf("SizeBytes = %d", db.SizeBytes())
	}

	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Reopen: everything committed is there.
	db = openTest(t, Options{Dir: dir})
	for k, want := range map[string]string{"k1": "v1", "k2": "v2", "k3": "v3"} {
		if got, ok := get(t, db, k); !ok || got != want {
			t.Errorf("after reopen Get(%s) = %q, %v; want %q", k, got, ok, want)
		}
	}
}

// TestClosed: a closed DB answers ErrClosed instead of panicking (pebble
// itself panics on use after Close).
func TestClosed(t *testing.T) {
	db := openTest(t, Options{Dir: t.TempDir()})
	commit(t, db, true, "k", "v")
	b := db.NewBatch()
	defer b.Close()
	if err := b.Set([]byte("k2"), []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(b, Sync); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: err = %v, want %v", err, ErrClosed)
	}
	if err := noPanic(func() error { _, err := db.Get([]byte("k")); return err }); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: err = %v, want %v", err, ErrClosed)
	}
}

// noPanic runs f, turning a panic into an error.
func noPanic(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

func TestWALDir(t *testing.T) {
	root := t.TempDir()
	dir, walDir := filepath.Join(root, "db"), filepath.Join(root, "wal")
	db := openTest(t, Options{Dir: dir, WALDir: walDir})
	commit(t, db, true, "k", "v")

	logs := func(d string) []string {
		t.Helper()
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".log") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	if got := logs(walDir); len(got) == 0 {
		t.Errorf("no WAL file in %s", walDir)
	}
	if got := logs(dir); len(got) != 0 {
		t.Errorf("WAL files %v in the data dir, want them in %s", got, walDir)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, Options{Dir: dir, WALDir: walDir})
	if got, ok := get(t, db, "k"); !ok || got != "v" {
		t.Errorf("after reopen with WALDir: %q, %v", got, ok)
	}
}
