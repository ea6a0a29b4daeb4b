package mvcc

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func encodeRecord(create, version, lease int64, value []byte) []byte {
	b := make([]byte, putRecordLen(create, version, lease, value))
	putRecord(b, create, version, lease, value)
	return b
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		create, version, lease int64
		value                  string
	}{
		{1, 1, 0, ""},
		{2, 7, 0x694d71ddbf0d4b4a, "value"},
		{math.MaxInt64, math.MaxInt64, -1, "\x00\xff"},
	} {
		v := encodeRecord(tc.create, tc.version, tc.lease, []byte(tc.value))
		if len(v) > maxRecordHeader+len(tc.value) {
			t.Errorf("record of %d bytes", len(v))
		}
		r, err := decodeRecord(v)
		if err != nil || r.tombstone || r.create != tc.create || r.version != tc.version ||
			r.lease != tc.lease || string(r.value) != tc.value {
			t.Errorf("%+v: decoded %+v %v", tc, r, err)
		}
	}
	r, err := decodeRecord([]byte{kindTombstone})
	if err != nil || !r.tombstone {
		t.Errorf("tombstone: %+v %v", r, err)
	}
}

func TestRecordCorrupt(t *testing.T) {
	for _, v := range [][]byte{
		nil,
		{0},
		{kindTombstone, 0},
		{kindPut},
		{kindPut, 0x80},
		{kindPut, 0, 1, 0},          // create 0
		{kindPut, 1, 0, 0},          // version 0
		{kindPut, 0xff, 0xff, 0xff}, // truncated varint
	} {
		if _, err := decodeRecord(v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: %v", v, err)
		}
	}
	// create above mod
	if _, err := DecodeRecord(EncodeVersionKey([]byte("a"), 2, 0), encodeRecord(3, 1, 0, nil)); !errors.Is(err, ErrCorrupt) {
		t.Error(err)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(EncodeVersionKey([]byte("k"), 5, 0), encodeRecord(3, 2, 1, []byte("v")))
	f.Add(EncodeVersionKey([]byte("k"), 5, 1), []byte{kindTombstone})
	f.Add([]byte{0x10}, []byte{kindPut, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		kv, err := DecodeRecord(k, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untagged error %v", err)
			}
			return
		}
		if kv == nil {
			if !bytes.Equal(v, []byte{kindTombstone}) {
				t.Fatalf("%q decodes to a tombstone", v)
			}
			return
		}
		if again := encodeRecord(kv.CreateRevision, kv.Version, kv.Lease, kv.Value); !bytes.Equal(again, v) {
			// Varints have one canonical form when written, but a reader
			// accepts padded ones; decoding them again must agree.
			r, err := decodeRecord(again)
			if err != nil || r.create != kv.CreateRevision || r.version != kv.Version || r.lease != kv.Lease {
				t.Fatalf("re-encoding %q: %q (%v)", v, again, err)
			}
		}
	})
}
