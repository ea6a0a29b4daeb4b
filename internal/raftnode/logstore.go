package raftnode

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// ErrCorrupt tags raft state that cannot be decoded: the member must stop.
var ErrCorrupt = errors.New("raftnode: corrupt raft state")

// Keys under storage.PrefixRaft.
var (
	keyHardState = []byte{storage.PrefixRaft, 'h'}
	keyConfState = []byte{storage.PrefixRaft, 'c'}
	keySnapshot  = []byte{storage.PrefixRaft, 's'} // raftpb.SnapshotMetadata
	keyTrunc     = []byte{storage.PrefixRaft, 't'} // index and term of the last discarded entry
	entryPrefix  = []byte{storage.PrefixRaft, 'e'}
)

func entryKey(i uint64) []byte {
	return storage.PutUint64(append(make([]byte, 0, 10), entryPrefix...), i)
}

// cacheLimit bounds the entries kept in memory for the committed-entries
// path and for followers that are only slightly behind.
const cacheLimit = 4096

// LogStore is raft.Storage on pebble. Writes are staged into the caller's
// batch and become visible to raft once the caller reports the batch
// committed; reads are served from an in-memory tail when possible.
type LogStore struct {
	db *storage.DB

	mu struct {
		sync.Mutex
		hs        raftpb.HardState        // protected by mu
		cs        raftpb.ConfState        // protected by mu
		snap      raftpb.SnapshotMetadata // protected by mu; latest snapshot point
		truncIdx  uint64                  // protected by mu; last discarded index
		truncTerm uint64                  // protected by mu; its term
		last      uint64                  // protected by mu; last index in the log
		cache     []raftpb.Entry          // protected by mu; contiguous tail ending at last
	}
}

var _ raft.Storage = (*LogStore)(nil)

// OpenLogStore loads raft state from db.
func OpenLogStore(db *storage.DB) (*LogStore, error) {
	s := &LogStore{db: db}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *LogStore) load() error {
	if err := getProto(s.db, keyHardState, &s.mu.hs); err != nil {
		return err
	}
	if err := getProto(s.db, keyConfState, &s.mu.cs); err != nil {
		return err
	}
	if err := getProto(s.db, keySnapshot, &s.mu.snap); err != nil {
		return err
	}
	if v, err := s.db.Get(keyTrunc); err == nil {
		if len(v) != 16 {
			return fmt.Errorf("%w: truncated state", ErrCorrupt)
		}
		s.mu.truncIdx, _ = storage.Uint64(v)
		s.mu.truncTerm, _ = storage.Uint64(v[8:])
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	s.mu.last = s.mu.truncIdx
	it, err := s.db.NewIter(&storage.IterOptions{LowerBound: entryPrefix, UpperBound: storage.PrefixEnd(entryPrefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	if it.Last() {
		idx, ok := storage.Uint64(it.Key()[len(entryPrefix):])
		if !ok {
			return fmt.Errorf("%w: entry key", ErrCorrupt)
		}
		s.mu.last = idx
	}
	return nil
}

func getProto(db *storage.DB, key []byte, m interface{ Unmarshal([]byte) error }) error {
	v, err := db.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.Unmarshal(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return nil
}

// InitialState implements raft.Storage.
func (s *LogStore) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.hs, s.mu.cs, nil
}

// IsEmpty reports whether the log has never been written (a new member).
func (s *LogStore) IsEmpty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.last == 0 && raft.IsEmptyHardState(s.mu.hs)
}

// FirstIndex implements raft.Storage.
func (s *LogStore) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.truncIdx + 1, nil
}

// LastIndex implements raft.Storage.
func (s *LogStore) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.last, nil
}

// Term implements raft.Storage.
func (s *LogStore) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case i == s.mu.truncIdx:
		return s.mu.truncTerm, nil
	case i < s.mu.truncIdx:
		return 0, raft.ErrCompacted
	case i > s.mu.last:
		return 0, raft.ErrUnavailable
	}
	if e, ok := s.cachedLocked(i); ok {
		return e.Term, nil
	}
	ents, err := s.readLocked(i, i+1, 0)
	if err != nil {
		return 0, err
	}
	return ents[0].Term, nil
}

// Entries implements raft.Storage.
func (s *LogStore) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lo <= s.mu.truncIdx {
		return nil, raft.ErrCompacted
	}
	if hi > s.mu.last+1 {
		return nil, raft.ErrUnavailable
	}
	if len(s.mu.cache) > 0 && lo >= s.mu.cache[0].Index {
		base := s.mu.cache[0].Index
		ents := s.mu.cache[lo-base : hi-base : hi-base]
		return limitSize(ents, maxSize), nil
	}
	return s.readLocked(lo, hi, maxSize)
}

func (s *LogStore) cachedLocked(i uint64) (raftpb.Entry, bool) {
	if len(s.mu.cache) == 0 || i < s.mu.cache[0].Index || i > s.mu.last {
		return raftpb.Entry{}, false
	}
	return s.mu.cache[i-s.mu.cache[0].Index], true
}

func (s *LogStore) readLocked(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	it, err := s.db.NewIter(&storage.IterOptions{LowerBound: entryKey(lo), UpperBound: entryKey(hi)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var (
		out  []raftpb.Entry
		size uint64
		want = lo
	)
	for ok := it.First(); ok; ok = it.Next() {
		var e raftpb.Entry
		if err := e.Unmarshal(it.Value()); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrCorrupt, want, err)
		}
		if e.Index != want {
			return nil, fmt.Errorf("%w: entry %d found at %d", ErrCorrupt, e.Index, want)
		}
		size += uint64(e.Size())
		if len(out) > 0 && maxSize > 0 && size > maxSize {
			break
		}
		out = append(out, e)
		want++
	}
	if len(out) == 0 {
		return nil, raft.ErrUnavailable
	}
	return out, nil
}

func limitSize(ents []raftpb.Entry, maxSize uint64) []raftpb.Entry {
	if maxSize == 0 || len(ents) == 0 {
		return ents
	}
	size := uint64(ents[0].Size())
	for i := 1; i < len(ents); i++ {
		size += uint64(ents[i].Size())
		if size > maxSize {
			return ents[:i]
		}
	}
	return ents
}

// Snapshot implements raft.Storage. Cairn's state lives in the same DB as
// the log, so the snapshot carries only metadata; the transport streams the
// state itself when it sends one.
func (s *LogStore) Snapshot() (raftpb.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return raftpb.Snapshot{Metadata: s.mu.snap}, nil
}

// stageAppend writes entries and hard state into b. The in-memory view is
// updated by commitAppend once b is durable.
func (s *LogStore) stageAppend(b *storage.Batch, ents []raftpb.Entry, hs raftpb.HardState) error {
	if len(ents) > 0 {
		s.mu.Lock()
		first, last := ents[0].Index, s.mu.last
		s.mu.Unlock()
		if first <= last {
			// A new leader overwrote our uncommitted tail.
			if err := b.DeleteRange(entryKey(first), entryKey(last+1), nil); err != nil {
				return err
			}
		}
		buf := make([]byte, 0, 256)
		for i := range ents {
			n := ents[i].Size()
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if _, err := ents[i].MarshalTo(buf); err != nil {
				return err
			}
			if err := b.Set(entryKey(ents[i].Index), buf, nil); err != nil {
				return err
			}
		}
	}
	if !raft.IsEmptyHardState(hs) {
		v, err := hs.Marshal()
		if err != nil {
			return err
		}
		if err := b.Set(keyHardState, v, nil); err != nil {
			return err
		}
	}
	return nil
}

// commitAppend makes staged entries and hard state visible to raft.
func (s *LogStore) commitAppend(ents []raftpb.Entry, hs raftpb.HardState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !raft.IsEmptyHardState(hs) {
		s.mu.hs = hs
	}
	if len(ents) == 0 {
		return
	}
	first := ents[0].Index
	if len(s.mu.cache) > 0 && first > s.mu.cache[0].Index && first <= s.mu.last+1 {
		s.mu.cache = s.mu.cache[:first-s.mu.cache[0].Index]
	} else if len(s.mu.cache) == 0 || first != s.mu.last+1 {
		s.mu.cache = s.mu.cache[:0]
	}
	s.mu.cache = append(s.mu.cache, ents...)
	if n := len(s.mu.cache); n > cacheLimit {
		// Copy so the dropped head can be collected.
		s.mu.cache = append([]raftpb.Entry(nil), s.mu.cache[n-cacheLimit/2:]...)
	}
	s.mu.last = ents[len(ents)-1].Index
}

// StageConfState records the conf state that results from an applied conf
// change; the applier writes it in its apply batch, so it moves with the
// applied index.
func (s *LogStore) StageConfState(b *storage.Batch, cs raftpb.ConfState) error {
	v, err := cs.Marshal()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.cs = cs
	s.mu.Unlock()
	return b.Set(keyConfState, v, nil)
}

// ConfState returns the conf state as of the applied index.
func (s *LogStore) ConfState() raftpb.ConfState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.cs
}

// compact records a snapshot point at (index, term) and discards entries up
// to keepFrom-1, keeping a tail for followers that are a little behind.
func (s *LogStore) compact(b *storage.Batch, index, term, keepFrom uint64) error {
	s.mu.Lock()
	cs := s.mu.cs
	truncIdx := s.mu.truncIdx
	s.mu.Unlock()
	meta := raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: cs}
	v, err := meta.Marshal()
	if err != nil {
		return err
	}
	if err := b.Set(keySnapshot, v, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.snap = meta
	s.mu.Unlock()
	if keepFrom <= truncIdx+1 {
		return nil
	}
	newTrunc := keepFrom - 1
	newTruncTerm, err := s.Term(newTrunc)
	if err != nil {
		return err
	}
	if err := b.DeleteRange(entryKey(truncIdx+1), entryKey(newTrunc+1), nil); err != nil {
		return err
	}
	tv := storage.PutUint64(storage.PutUint64(nil, newTrunc), newTruncTerm)
	if err := b.Set(keyTrunc, tv, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.truncIdx, s.mu.truncTerm = newTrunc, newTruncTerm
	if len(s.mu.cache) > 0 && s.mu.cache[0].Index <= newTrunc {
		if newTrunc >= s.mu.last {
			s.mu.cache = s.mu.cache[:0]
		} else {
			s.mu.cache = s.mu.cache[newTrunc+1-s.mu.cache[0].Index:]
		}
	}
	s.mu.Unlock()
	return nil
}

// SnapshotIndex is the index of the latest snapshot point.
func (s *LogStore) SnapshotIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.snap.Index
}

// stageSnapshot stages into b the raft side of installing a snapshot: the
// whole log is dropped and restarts after meta's index, whose term and conf
// state meta gives. hs is the hard state raft handed over with the
// snapshot; its commit index is raised to the snapshot's if lower, so a
// restart never finds a commit index behind the log's start.
func (s *LogStore) stageSnapshot(b *storage.Batch, meta raftpb.SnapshotMetadata, hs raftpb.HardState) (raftpb.HardState, error) {
	s.mu.Lock()
	if raft.IsEmptyHardState(hs) {
		hs = s.mu.hs
	}
	s.mu.Unlock()
	if hs.Commit < meta.Index {
		hs.Commit = meta.Index
	}
	if err := b.DeleteRange(entryPrefix, storage.PrefixEnd(entryPrefix), nil); err != nil {
		return hs, err
	}
	for _, kv := range []struct {
		key []byte
		m   interface{ Marshal() ([]byte, error) }
	}{{keyHardState, &hs}, {keyConfState, &meta.ConfState}, {keySnapshot, &meta}} {
		v, err := kv.m.Marshal()
		if err != nil {
			return hs, err
		}
		if err := b.Set(kv.key, v, nil); err != nil {
			return hs, err
		}
	}
	tv := storage.PutUint64(storage.PutUint64(nil, meta.Index), meta.Term)
	return hs, b.Set(keyTrunc, tv, nil)
}

// commitSnapshot makes a staged snapshot visible to raft.
func (s *LogStore) commitSnapshot(meta raftpb.SnapshotMetadata, hs raftpb.HardState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.hs = hs
	s.mu.cs = meta.ConfState
	s.mu.snap = meta
	s.mu.truncIdx, s.mu.truncTerm = meta.Index, meta.Term
	s.mu.last = meta.Index
	s.mu.cache = nil
}

// ReadConfState reads the conf state recorded in r, which may be a
// snapshot of the DB: it matches the applied index recorded beside it.
func ReadConfState(r storage.Reader) (raftpb.ConfState, error) {
	var cs raftpb.ConfState
	v, err := storage.Get(r, keyConfState)
	if errors.Is(err, storage.ErrNotFound) {
		return cs, nil
	}
	if err != nil {
		return cs, err
	}
	if err := cs.Unmarshal(v); err != nil {
		return cs, fmt.Errorf("%w: conf state: %v", ErrCorrupt, err)
	}
	return cs, nil
}
