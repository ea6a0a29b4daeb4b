package storage

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// VersionSuffixLen is the length of the revision that ends every key
// version under PrefixMVCC, after the VersionTerminator that closes the
// escaped user key. This split is part of the on-disk format: the bloom
// filters in the SSTs hold the prefixes it yields.
const VersionSuffixLen = 16

// VersionTerminator ends the escaped user key of a version key. The escape
// scheme (mvcc's) never puts these two bytes anywhere else in a key.
var VersionTerminator = []byte{0x00, 0x01}

// splitVersion is pebble's Split: a version key's prefix is everything but
// its revision, so every version of one user key shares a prefix; any
// other key is all prefix. Bytewise order is unchanged by the split (the
// terminated prefixes are prefix-free), which is why the comparer keeps
// the bytewise name and opens existing data.
func splitVersion(key []byte) int {
	n := len(key) - VersionSuffixLen
	if n < 1+len(VersionTerminator) || key[0] != PrefixMVCC ||
		!bytes.Equal(key[n-len(VersionTerminator):n], VersionTerminator) {
		return len(key)
	}
	return n
}

// comparer is pebble's default bytewise comparer with splitVersion, so
// point reads of one user key (SeekPrefixGE) consult the SSTs' bloom
// filters and skip the tables that cannot hold it.
var comparer = func() *pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Split = splitVersion
	return &c
}()

// bloomBitsPerKey gives a 1% false-positive rate.
const bloomBitsPerKey = 10

// keepValuesInPlace turns off pebble's value blocks, which the split would
// otherwise enable: a table writer keeps every older version's value in
// memory, compressed, until the table is finished (14 MiB of heap while a
// 64 MiB memtable flushed, on top of the old and the new memtable), and
// reading an old revision then costs a second block. Cairn reads old
// revisions (watch catch-up, Range at a revision) as often as new ones.
func keepValuesInPlace(o *pebble.Options) {
	o.Experimental.SpanPolicyFunc = func([]byte) (pebble.SpanPolicy, []byte, error) {
		return pebble.SpanPolicy{DisableValueSeparationBySuffix: true}, nil, nil
	}
}

func setFilters(o *pebble.Options) {
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
		o.Levels[i].FilterType = pebble.TableFilter
	}
}
