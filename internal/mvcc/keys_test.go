package mvcc

import (
	"bytes"
	"cmp"
	"errors"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
)

func TestVersionKeyLayout(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string // without the revision
	}{
		{"", "\x10\x00\x01"},
		{"a", "\x10a\x00\x01"},
		{"a\x00b", "\x10a\x00\xffb\x00\x01"},
		{"\x00\x00", "\x10\x00\xff\x00\xff\x00\x01"},
		{"\xff", "\x10\xff\x00\x01"},
	} {
		k := EncodeVersionKey([]byte(tc.key), 5, 1)
		if got := string(k[:len(k)-revLen]); got != tc.want {
			t.Errorf("%q: prefix %q, want %q", tc.key, got, tc.want)
		}
		if len(k) != versionKeyLen([]byte(tc.key)) {
			t.Errorf("%q: len %d, want %d", tc.key, len(k), versionKeyLen([]byte(tc.key)))
		}
		key, main, sub, err := DecodeVersionKey(k)
		if err != nil || string(key) != tc.key || main != 5 || sub != 1 {
			t.Errorf("%q: decoded %q %d.%d %v", tc.key, key, main, sub, err)
		}
	}
}

func TestDecodeVersionKeyCorrupt(t *testing.T) {
	good := EncodeVersionKey([]byte("a\x00b"), 3, 0)
	for _, k := range [][]byte{
		nil,
		{storage.PrefixMVCC},
		good[:len(good)-1],
		append([]byte{storage.PrefixRevLog}, good[1:]...),
		[]byte("\x10a\x00\x02" + string(good[len(good)-revLen:])),                               // bad terminator
		[]byte("\x10a\x00b\x00\x01" + string(good[len(good)-revLen:])),                          // bad escape
		[]byte("\x10a\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), // negative revision
	} {
		if _, _, _, err := DecodeVersionKey(k); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: err %v, want ErrCorrupt", k, err)
		}
	}
}

// order is the order version keys must sort in: user key ascending, then
// revision descending.
func order(k1 []byte, m1, s1 int64, k2 []byte, m2, s2 int64) int {
	if c := bytes.Compare(k1, k2); c != 0 {
		return c
	}
	if c := cmp.Compare(m2, m1); c != 0 {
		return c
	}
	return cmp.Compare(s2, s1)
}

func FuzzVersionKeyOrder(f *testing.F) {
	f.Add([]byte("a"), int64(1), int64(0), []byte("a\x00"), int64(2), int64(0))
	f.Add([]byte("a"), int64(3), int64(1), []byte("a"), int64(3), int64(2))
	f.Add([]byte(""), int64(1), int64(0), []byte("\x00"), int64(1), int64(0))
	f.Add([]byte("a\x00"), int64(7), int64(0), []byte("a\x01"), int64(1), int64(0))
	f.Add([]byte("ab"), int64(7), int64(0), []byte("a\xff"), int64(1), int64(0))
	f.Fuzz(func(t *testing.T, k1 []byte, m1, s1 int64, k2 []byte, m2, s2 int64) {
		if m1 < 0 || s1 < 0 || m2 < 0 || s2 < 0 {
			t.Skip()
		}
		e1, e2 := EncodeVersionKey(k1, m1, s1), EncodeVersionKey(k2, m2, s2)
		if got, want := bytes.Compare(e1, e2), order(k1, m1, s1, k2, m2, s2); got != want {
			t.Fatalf("compare(%q@%d.%d, %q@%d.%d) = %d, want %d", k1, m1, s1, k2, m2, s2, got, want)
		}
		key, main, sub, err := DecodeVersionKey(e1)
		if err != nil || !bytes.Equal(key, k1) || main != m1 || sub != s1 {
			t.Fatalf("round trip of %q@%d.%d: %q@%d.%d %v", k1, m1, s1, key, main, sub, err)
		}
		// Every version of k1 sorts inside k1's bounds, and a seek at
		// k1's newest version <= m2 lands at or before (k1, m2).
		_, lo, hi := boundsInto(nil, k1, nil)
		if bytes.Compare(e1, lo) < 0 || bytes.Compare(e1, hi) >= 0 {
			t.Fatalf("%q@%d.%d outside its bounds", k1, m1, s1)
		}
		if inBounds := bytes.Compare(e2, lo) >= 0 && bytes.Compare(e2, hi) < 0; inBounds != bytes.Equal(k1, k2) {
			t.Fatalf("bounds of %q and key %q disagree", k1, k2)
		}
		seek := appendSeekAt(nil, k1, m2)
		if m1 <= m2 && bytes.Compare(seek, e1) > 0 {
			t.Fatalf("seek at %q@%d passes %q@%d.%d", k1, m2, k1, m1, s1)
		}
		if m1 > m2 && bytes.Compare(seek, e1) <= 0 {
			t.Fatalf("seek at %q@%d lands before %q@%d.%d", k1, m2, k1, m1, s1)
		}
		// A range [k1, k2) holds k exactly when k1 <= k < k2.
		_, lo, hi = boundsInto(nil, k1, append([]byte(nil), k2...))
		if len(k2) > 0 && !isFromKey(k2) {
			in := bytes.Compare(k1, k2) < 0
			if in != (bytes.Compare(e1, lo) >= 0 && bytes.Compare(e1, hi) < 0) {
				t.Fatalf("[%q, %q) and %q@%d disagree", k1, k2, k1, m1)
			}
		}
	})
}

func FuzzDecodeVersionKey(f *testing.F) {
	f.Add(EncodeVersionKey([]byte("a\x00b"), 9, 2))
	f.Add([]byte{storage.PrefixMVCC, 0, 1})
	f.Fuzz(func(t *testing.T, k []byte) {
		key, main, sub, err := DecodeVersionKey(k)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untagged error %v", err)
			}
			return
		}
		if again := EncodeVersionKey(key, main, sub); !bytes.Equal(again, k) {
			t.Fatalf("%q decodes to %q@%d.%d, which encodes to %q", k, key, main, sub, again)
		}
	})
}

func TestRevLogKey(t *testing.T) {
	k := appendRevLogKey(nil, 7, 3)
	main, sub, err := decodeRevLogKey(k)
	if err != nil || main != 7 || sub != 3 {
		t.Fatalf("%d.%d %v", main, sub, err)
	}
	if bytes.Compare(appendRevLogKey(nil, 7, 3), appendRevLogKey(nil, 8, 0)) >= 0 {
		t.Fatal("log keys out of order")
	}
	for _, bad := range [][]byte{nil, k[:5], append([]byte{0}, k[1:]...)} {
		if _, _, err := decodeRevLogKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, _, err := decodeRevLogValue([]byte{9, 'a'}); !errors.Is(err, ErrCorrupt) {
		t.Error(err)
	}
}
