package mvcc

import (
	"context"
	"fmt"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

const benchKeys = 10_000

func benchKey(i int) []byte { return []byte(fmt.Sprintf("/registry/pods/ns/pod-%07d", i)) }

// benchStore opens a store on disk holding benchKeys keys with two versions
// each, flushed to SSTs, so reads go through pebble's read path.
func benchStore(b *testing.B) (*storage.DB, *Store) {
	b.Helper()
	db, err := storage.Open(storage.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(db, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Close()
		_ = db.Close()
	})
	value := make([]byte, 256)
	for round := 0; round < 2; round++ {
		for i := 0; i < benchKeys; i += 1000 {
			batch := db.NewIndexedBatch()
			for j := i; j < i+1000; j++ {
				w := s.Write(batch)
				w.Put(benchKey(j), value, 0)
				w.End()
			}
			if err := db.Commit(batch, storage.NoSync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
			s.Publish()
		}
	}
	if err := db.CompactRange(context.Background(), []byte{0}, []byte{0xff}); err != nil {
		b.Fatal(err)
	}
	return db, s
}

// BenchmarkPut applies one single-put txn per op, committing every 100
// txns, as the apply loop does with a busy raft log.
func BenchmarkPut(b *testing.B) {
	db, s := benchStore(b)
	value := make([]byte, 256)
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = benchKey(i * 7919 % benchKeys)
	}
	b.ReportAllocs()
	b.ResetTimer()
	batch := db.NewIndexedBatch()
	for i := 0; i < b.N; i++ {
		w := s.Write(batch)
		w.Put(keys[i%len(keys)], value, 0)
		w.End()
		if i%100 == 99 {
			if err := db.Commit(batch, storage.NoSync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
			s.Publish()
			batch = db.NewIndexedBatch()
		}
	}
	b.StopTimer()
	batch.Close()
}

// BenchmarkApplyPut is BenchmarkPut through the request layer.
func BenchmarkApplyPut(b *testing.B) {
	db, s := benchStore(b)
	reqs := make([]*pb.PutRequest, 4096)
	for i := range reqs {
		reqs[i] = &pb.PutRequest{Key: benchKey(i * 7919 % benchKeys), Value: make([]byte, 256)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	batch := db.NewIndexedBatch()
	for i := 0; i < b.N; i++ {
		w := s.Write(batch)
		if _, err := w.ApplyPut(reqs[i%len(reqs)], nil); err != nil {
			b.Fatal(err)
		}
		w.End()
		if i%100 == 99 {
			if err := db.Commit(batch, storage.NoSync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
			s.Publish()
			batch = db.NewIndexedBatch()
		}
	}
	b.StopTimer()
	batch.Close()
}

func BenchmarkRange1(b *testing.B) {
	_, s := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rr, err := s.Range(benchKey(i*7919%benchKeys), nil, RangeOptions{})
		if err != nil || len(rr.KVs) != 1 {
			b.Fatal(err, rr)
		}
	}
}

func BenchmarkRange100(b *testing.B) {
	_, s := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := i * 7919 % (benchKeys - 100)
		rr, err := s.Range(benchKey(start), benchKey(start+100), RangeOptions{})
		if err != nil || len(rr.KVs) != 100 {
			b.Fatal(err, rr)
		}
	}
}

func BenchmarkRangeRequest1(b *testing.B) {
	_, s := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := s.RangeRequest(&pb.RangeRequest{Key: benchKey(i * 7919 % benchKeys)})
		if err != nil || len(resp.Kvs) != 1 {
			b.Fatal(err, resp)
		}
	}
}

// BenchmarkRangeLimit1Of10k counts all keys of a prefix with limit 1, the
// way a paginated list asks for its first page.
func BenchmarkRangeLimit1Of10k(b *testing.B) {
	_, s := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rr, err := s.Range([]byte("/registry/pods/"), []byte("/registry/pods0"), RangeOptions{Limit: 1})
		if err != nil || rr.Count != benchKeys {
			b.Fatal(err, rr.Count)
		}
	}
}
