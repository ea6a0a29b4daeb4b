package storage

import (
	"bytes"
	"testing"
)

var keySink []byte

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		prefix byte
		parts  [][]byte
		want   []byte
	}{
		{PrefixMVCC, nil, []byte{0x10}},
		{PrefixMVCC, [][]byte{nil, {}}, []byte{0x10}},
		{PrefixLease, [][]byte{[]byte("a")}, []byte("\x20a")},
		{PrefixRaft, [][]byte{[]byte("ab"), {0x00, 0xff}, []byte("c")}, []byte("\x01ab\x00\xffc")},
	} {
		got := Key(tc.prefix, tc.parts...)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Key(%#x, %q) = %q, want %q", tc.prefix, tc.parts, got, tc.want)
		}
		if cap(got) != len(got) {
			t.Errorf("Key(%#x, %q): cap %d, len %d; want an exact allocation", tc.prefix, tc.parts, cap(got), len(got))
		}
	}
	parts := [][]byte{[]byte("user"), PutUint64(nil, 42)}
	if n := testing.AllocsPerRun(100, func() { keySink = Key(PrefixMVCC, parts...) }); n != 1 {
		t.Errorf("Key allocates %v times, want 1", n)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		prefix, want []byte
	}{
		{[]byte("a"), []byte("b")},
		{[]byte("abc"), []byte("abd")},
		{[]byte("a\xff"), []byte("b")},
		{[]byte("a\xff\xff"), []byte("b")},
		{[]byte{0x01, 0xfe}, []byte{0x01, 0xff}},
		{[]byte{0x00}, []byte{0x01}},
		{[]byte{0xff}, nil},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{}, nil},
		{nil, nil},
	} {
		in := append([]byte(nil), tc.prefix...)
		got := PrefixEnd(in)
		if !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
		if !bytes.Equal(in, tc.prefix) {
			t.Errorf("PrefixEnd(%q) modified its argument to %q", tc.prefix, in)
		}
		// Every key with the prefix sorts below the end.
		if got != nil {
			for _, suffix := range [][]byte{nil, {0x00}, {0xff, 0xff, 0xff}} {
				k := append(append([]byte(nil), tc.prefix...), suffix...)
				if bytes.Compare(k, got) >= 0 {
					t.Errorf("PrefixEnd(%q) = %q is not above %q", tc.prefix, got, k)
				}
			}
		}
	}
}

var prefixes = []struct {
	name string
	p    byte
}{
	{"raft", PrefixRaft},
	{"apply", PrefixApply},
	{"mvcc", PrefixMVCC},
	{"revlog", PrefixRevLog},
	{"mvccmeta", PrefixMVCCMeta},
	{"lease", PrefixLease},
	{"auth", PrefixAuth},
	{"membership", PrefixMembership},
}

func TestKeyspaceBounds(t *testing.T) {
	seen := map[byte]string{}
	for _, ks := range prefixes {
		if other, dup := seen[ks.p]; dup {
			t.Errorf("prefix %#x used by both %s and %s", ks.p, other, ks.name)
		}
		seen[ks.p] = ks.name
		lo, hi := KeyspaceBounds(ks.p)
		if !bytes.Equal(lo, []byte{ks.p}) || !bytes.Equal(hi, []byte{ks.p + 1}) {
			t.Errorf("KeyspaceBounds(%s) = [%x, %x)", ks.name, lo, hi)
		}
		if end := PrefixEnd([]byte{ks.p}); !bytes.Equal(hi, end) {
			t.Errorf("KeyspaceBounds(%s) upper %x, PrefixEnd %x", ks.name, hi, end)
		}
		// Keys of this keyspace are inside; keys of every other are out.
		for _, other := range prefixes {
			k := Key(other.p, []byte("\xff\xff\xff\xff"))
			in := bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0
			if in != (other.p == ks.p) {
				t.Errorf("key %x of %s: inside %s bounds = %v", k, other.name, ks.name, in)
			}
		}
	}
}

func TestUint64(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 1 << 40, 1<<64 - 1} {
		b := PutUint64([]byte("x"), v)
		got, ok := Uint64(b[1:])
		if !ok || got != v || len(b) != 9 {
			t.Errorf("PutUint64/Uint64(%d) = %d, %v (len %d)", v, got, ok, len(b))
		}
	}
	if _, ok := Uint64(make([]byte, 7)); ok {
		t.Error("Uint64 of 7 bytes reported ok")
	}
	// Byte order is numeric order.
	if bytes.Compare(PutUint64(nil, 255), PutUint64(nil, 256)) >= 0 {
		t.Error("encoding does not sort numerically")
	}
}
