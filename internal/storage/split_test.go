package storage

import (
	"bytes"
	"testing"
)

func versionKey(escaped string, rev byte) []byte {
	k := append([]byte{PrefixMVCC}, escaped...)
	k = append(k, VersionTerminator...)
	return append(k, bytes.Repeat([]byte{rev}, VersionSuffixLen)...)
}

func TestSplitVersion(t *testing.T) {
	for _, tc := range []struct {
		key  []byte
		want int
	}{
		{versionKey("foo", 0xfe), 1 + 3 + 2},
		{versionKey("", 0x00), 1 + 2},
		{versionKey("a\x00\xffb", 0x01), 1 + 4 + 2},
		// A bound or seek key that is not a whole version is all prefix.
		{append([]byte{PrefixMVCC}, "foo\x00\x01"...), 6},
		{append([]byte{PrefixMVCC}, "foo\x00\x02"...), 6},
		// Other keyspaces have no suffix, whatever their bytes.
		{append([]byte{PrefixRevLog}, versionKey("x", 1)[1:]...), 1 + 1 + 2 + 16},
		{nil, 0},
		{[]byte{PrefixMVCC}, 1},
	} {
		if got := splitVersion(tc.key); got != tc.want {
			t.Errorf("splitVersion(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// FuzzSplitVersion checks what pebble needs of a Split: it never exceeds
// the key, and bytewise order equals (prefix, then suffix) order.
func FuzzSplitVersion(f *testing.F) {
	f.Add(versionKey("a", 1), versionKey("a", 2))
	f.Add(versionKey("a", 1), versionKey("ab", 1))
	f.Add(versionKey("a\x00\xff", 3), append([]byte{PrefixMVCC}, "a\x00\x01"...))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		na, nb := splitVersion(a), splitVersion(b)
		if na < 0 || na > len(a) || nb < 0 || nb > len(b) {
			t.Fatalf("split out of range: %d of %d, %d of %d", na, len(a), nb, len(b))
		}
		// The order only has to agree for keys the store writes: version
		// keys whose escaped user key never holds the terminator.
		if !wellFormed(a, na) || !wellFormed(b, nb) {
			return
		}
		whole := bytes.Compare(a, b)
		split := bytes.Compare(a[:na], b[:nb])
		if split == 0 {
			split = bytes.Compare(a[na:], b[nb:])
		}
		if whole != split {
			t.Fatalf("order of %q and %q: bytewise %d, split %d", a, b, whole, split)
		}
	})
}

// wellFormed reports whether key is one the MVCC layout can produce: any
// key outside PrefixMVCC, or a version key whose escaped user key has no
// 0x00 that is not followed by 0xff.
func wellFormed(key []byte, n int) bool {
	if len(key) == 0 || key[0] != PrefixMVCC {
		return true
	}
	if n == len(key) {
		return false // not a whole version key
	}
	esc := key[1 : n-len(VersionTerminator)]
	for i := 0; i < len(esc); i++ {
		if esc[i] == 0 {
			if i+1 >= len(esc) || esc[i+1] != 0xff {
				return false
			}
			i++
		}
	}
	return true
}
