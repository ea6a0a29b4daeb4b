package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Aliases keep pebble's types in one place: callers name storage.Batch and
// storage.Reader, and a later change of engine version touches this file.
type (
	Batch       = pebble.Batch
	Reader      = pebble.Reader
	Writer      = pebble.Writer
	Iterator    = pebble.Iterator
	IterOptions = pebble.IterOptions
	Snapshot    = pebble.Snapshot
)

var (
	// Sync makes a commit durable before it returns.
	Sync = pebble.Sync
	// NoSync leaves durability to a later synced commit.
	NoSync = pebble.NoSync
	// ErrNotFound is returned by Get for a missing key.
	ErrNotFound = pebble.ErrNotFound
	// ErrClosed is returned by operations on a closed DB.
	ErrClosed = errors.New("storage: closed")
)

// Options configure Open. The zero value of every field is its default.
type Options struct {
	// Dir is the database directory, normally <data-dir>/member/db. Required.
	Dir string
	// WALDir, when set, holds pebble's write-ahead log (--wal-dir).
	WALDir string
	// FS is the filesystem; default vfs.Default. Tests inject faults here.
	FS vfs.FS
	// CacheBytes is the block cache size; default 64 MiB.
	CacheBytes int64
	// MemTableBytes is the memtable size; default 64 MiB.
	MemTableBytes uint64
	// Logger receives pebble's own logs; default discards info and keeps
	// errors on stderr.
	Logger pebble.Logger
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = quietLogger{}
	}
}

// Validate reports a problem with the options.
func (o *Options) Validate() error {
	if o.Dir == "" {
		return errors.New("storage: Options.Dir is required")
	}
	return nil
}

// DB is the member's pebble database.
type DB struct {
	pdb    *pebble.DB
	popts  *pebble.Options // as opened; SSTs for ingestion are written with them
	closed atomic.Bool
	fsyncs atomic.Uint64 // synced commits, for metrics
}

// Open opens (creating if needed) the database described by opts.
func Open(opts Options) (*DB, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.FS == vfs.Default {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("storage: create %s: %w", opts.Dir, err)
		}
		if opts.WALDir != "" {
			if err := os.MkdirAll(opts.WALDir, 0o700); err != nil {
				return nil, fmt.Errorf("storage: create wal dir %s: %w", opts.WALDir, err)
			}
		}
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		FS:                 opts.FS,
		Comparer:           comparer,
		Cache:              cache,
		MemTableSize:       opts.MemTableBytes,
		WALDir:             opts.WALDir,
		Logger:             opts.Logger,
		FormatMajorVersion: pebble.FormatNewest,
		// Raft log entries are deleted soon after they are written; a low
		// L0 threshold keeps the tombstones from piling up.
		L0CompactionThreshold: 2,
	}
	setFilters(popts)
	keepValuesInPlace(popts)
	popts.EnsureDefaults()
	pdb, err := pebble.Open(filepath.Clean(opts.Dir), popts)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", opts.Dir, err)
	}
	return &DB{pdb: pdb, popts: popts}, nil
}

// Close closes the database. It is safe to call twice.
func (d *DB) Close() error {
	if !d.closed.CompareAndSwap(false, true) {
		return nil
	}
	return d.pdb.Close()
}

// NewBatch returns a write-only batch.
func (d *DB) NewBatch() *Batch { return d.pdb.NewBatch() }

// NewIndexedBatch returns a batch that can also be read: its reads see its
// own writes over the DB.
func (d *DB) NewIndexedBatch() *Batch { return d.pdb.NewIndexedBatch() }

// Commit applies b atomically. With Sync it is durable on return.
func (d *DB) Commit(b *Batch, opts *pebble.WriteOptions) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.pdb.Apply(b, opts); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	if opts.GetSync() {
		d.fsyncs.Add(1)
	}
	return nil
}

// Get returns a copy of the value stored at key, or ErrNotFound.
func (d *DB) Get(key []byte) ([]byte, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	return Get(d.pdb, key)
}

// Get reads key from any Reader and returns a copy of its value.
func Get(r Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	return out, closer.Close()
}

// NewIter returns an iterator over a point-in-time view of the DB.
func (d *DB) NewIter(o *IterOptions) (*Iterator, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	return d.pdb.NewIter(o)
}

// NewSnapshot returns a consistent read view; the caller closes it.
func (d *DB) NewSnapshot() *Snapshot { return d.pdb.NewSnapshot() }

// Reader returns the DB as a Reader.
func (d *DB) Reader() Reader { return d.pdb }

// CompactRange flushes the memtable and asks pebble to compact
// [start, end) now, returning space held by deleted keys (Cairn's answer
// to etcd's Defragment).
func (d *DB) CompactRange(ctx context.Context, start, end []byte) error {
	if err := d.pdb.Flush(); err != nil {
		return err
	}
	return d.pdb.Compact(ctx, start, end, true)
}

// Ingest links external SST files into the DB (snapshot install).
func (d *DB) Ingest(ctx context.Context, paths []string) error {
	return d.pdb.Ingest(ctx, paths)
}

// SizeBytes is the logical size on disk of the DB's files (SSTs and WAL).
func (d *DB) SizeBytes() int64 {
	if d.closed.Load() {
		return 0
	}
	m := d.pdb.Metrics()
	return int64(m.DiskSpaceUsage())
}

// StateBytes estimates the on-disk size of everything but the raft log:
// the data a member holds, which the space quota is measured against (etcd
// does not count its WAL either). Data still in the memtable is not
// counted until it is flushed.
func (d *DB) StateBytes() int64 {
	if d.closed.Load() {
		return 0
	}
	n, err := d.pdb.EstimateDiskUsage([]byte{PrefixRaft + 1}, []byte{0xff})
	if err != nil {
		return 0
	}
	return int64(n)
}

// SyncedCommits counts synced commits since Open.
func (d *DB) SyncedCommits() uint64 { return d.fsyncs.Load() }

// quietLogger drops pebble's informational logs; errors still reach stderr.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
	os.Exit(1)
}
