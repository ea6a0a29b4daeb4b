package lease

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []record{
		{id: 1, ttl: 1},
		{id: -1, ttl: MaxTTL, remainingTTL: MaxTTL},
		{id: 0x694d71d0e6b4a60c, ttl: 60, remainingTTL: 17},
	} {
		got, err := decodeRecord(recordKey(r.id), encodeRecord(r))
		if err != nil || got != r {
			t.Fatalf("round trip of %+v = %+v, %v", r, got, err)
		}
	}
	id, key, err := decodeAttachKey(attachKey(-3, []byte("foo")))
	if err != nil || id != -3 || string(key) != "foo" {
		t.Fatalf("decodeAttachKey = %d, %q, %v", id, key, err)
	}
	// Attachments of one lease share a prefix no other lease's keys start with.
	if bytes.HasPrefix(attachKey(0x0100, nil), attachPrefix(0x01)) {
		t.Fatal("attachment prefixes overlap")
	}
	if _, _, err := decodeAttachKey(attachPrefix(5)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("attachment key without user key: %v", err)
	}
}

// FuzzDecodeRecord feeds arbitrary keys and values to the record and
// attachment decoders: they must never panic, must tag every failure with
// ErrCorrupt, and what they accept must encode back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(recordKey(1), encodeRecord(record{id: 1, ttl: 10}))
	f.Add(recordKey(-1), encodeRecord(record{id: -1, ttl: MaxTTL, remainingTTL: 3}))
	f.Add([]byte{storage.PrefixLease, tagRecord}, []byte{1})
	f.Add(attachKey(7, []byte("k")), []byte{})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := decodeRecord(key, value)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untagged error %v", err)
			}
		} else {
			if r.id == 0 || r.ttl < 1 || r.ttl > MaxTTL || r.remainingTTL < 0 || r.remainingTTL > MaxTTL {
				t.Fatalf("accepted out-of-range record %+v", r)
			}
			if !bytes.Equal(recordKey(r.id), key) || !bytes.Equal(encodeRecord(r), value) {
				t.Fatalf("%+v does not encode back to %x / %x", r, key, value)
			}
		}
		id, k, err := decodeAttachKey(key)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untagged error %v", err)
			}
			return
		}
		if !bytes.Equal(attachKey(id, k), key) {
			t.Fatalf("attachment %d/%q does not encode back to %x", id, k, key)
		}
	})
}
