package mvcc

import "go.etcd.io/etcd/api/v3/mvccpb"

// kvAlloc hands out KeyValues and byte slices carved from larger chunks, so
// a range of n keys costs a handful of allocations instead of 2n. Chunks are
// never written twice: what was handed out stays valid for as long as the
// caller holds it, so a kvAlloc can be reused across calls (what is left of a
// chunk serves the next call).
type kvAlloc struct {
	kvs []mvccpb.KeyValue
	buf []byte
	// next is the size of the next KeyValue chunk; it doubles up to
	// maxKVChunk so small results stay small.
	next int
}

const (
	minKVChunk  = 4
	maxKVChunk  = 256
	byteChunk   = 8 << 10
	bigByteSize = 1 << 10 // slices at least this long get their own allocation
)

// hint tells the allocator how many KeyValues the current call may need.
func (a *kvAlloc) hint(n int) {
	if n > len(a.kvs) && n > a.next {
		a.next = min(n, maxKVChunk)
	}
}

func (a *kvAlloc) newKV() *mvccpb.KeyValue {
	if len(a.kvs) == 0 {
		if a.next < minKVChunk {
			a.next = minKVChunk
		}
		a.kvs = make([]mvccpb.KeyValue, a.next)
		if a.next < maxKVChunk {
			a.next *= 2
		}
	}
	kv := &a.kvs[0]
	a.kvs = a.kvs[1:]
	return kv
}

// bytes returns a slice of length and capacity n.
func (a *kvAlloc) bytes(n int) []byte {
	if n >= bigByteSize {
		return make([]byte, n)
	}
	if len(a.buf) < n {
		a.buf = make([]byte, byteChunk)
	}
	b := a.buf[:n:n]
	a.buf = a.buf[n:]
	return b
}
