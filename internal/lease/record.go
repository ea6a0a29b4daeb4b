package lease

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairn-db/cairn/internal/storage"
)

// On-disk layout under storage.PrefixLease (part of the data-dir format):
//
//	0x20 0x01 <id: 8 bytes, big-endian uint64>          → record
//	0x20 0x02 <id: 8 bytes, big-endian uint64> <key>     → attachment (empty value)
//
// A record is 17 bytes: version (1), granted TTL (8, big-endian), last
// checkpointed remaining TTL (8, big-endian; 0 = none). Records sit apart
// from attachments so New reads only records, however many keys are
// attached; the attachments of one lease are one contiguous prefix, listed
// in key order by a prefix scan.
const (
	tagRecord byte = 0x01
	tagAttach byte = 0x02

	recordVersion byte = 1
	recordLen          = 1 + 8 + 8
	idLen              = 8
)

// ErrCorrupt tags a lease record or key that cannot be decoded. It means the
// data dir is damaged; the member must stop.
var ErrCorrupt = errors.New("lease: corrupt record")

// record is the persisted state of one lease.
type record struct {
	id           int64
	ttl          int64 // granted TTL, seconds, in [1, MaxTTL]
	remainingTTL int64 // last checkpoint, seconds, in [0, MaxTTL]; 0 = none
}

func appendID(b []byte, id int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(id))
}

// recordKey is the key of lease id's record.
func recordKey(id int64) []byte {
	return appendID([]byte{storage.PrefixLease, tagRecord}, id)
}

// recordBounds covers every record.
func recordBounds() (lower, upper []byte) {
	return []byte{storage.PrefixLease, tagRecord}, []byte{storage.PrefixLease, tagRecord + 1}
}

// attachPrefix is the common prefix of lease id's attachments.
func attachPrefix(id int64) []byte {
	return appendID([]byte{storage.PrefixLease, tagAttach}, id)
}

// attachKey is the key recording that key is attached to lease id.
func attachKey(id int64, key []byte) []byte {
	k := make([]byte, 0, 2+idLen+len(key))
	k = appendID(append(k, storage.PrefixLease, tagAttach), id)
	return append(k, key...)
}

// attachBounds covers the attachments of lease id.
func attachBounds(id int64) (lower, upper []byte) {
	lower = attachPrefix(id)
	return lower, storage.PrefixEnd(lower)
}

// encodeRecord returns the stored value of r.
func encodeRecord(r record) []byte {
	v := make([]byte, 0, recordLen)
	v = append(v, recordVersion)
	v = binary.BigEndian.AppendUint64(v, uint64(r.ttl))
	return binary.BigEndian.AppendUint64(v, uint64(r.remainingTTL))
}

// decodeRecord parses a record key and value. Any malformed input yields an
// error wrapping ErrCorrupt; it never panics.
func decodeRecord(key, value []byte) (record, error) {
	if len(key) != 2+idLen || key[0] != storage.PrefixLease || key[1] != tagRecord {
		return record{}, fmt.Errorf("%w: bad record key %x", ErrCorrupt, key)
	}
	r := record{id: int64(binary.BigEndian.Uint64(key[2:]))}
	if r.id == 0 {
		return record{}, fmt.Errorf("%w: record key %x holds lease ID 0", ErrCorrupt, key)
	}
	if len(value) != recordLen {
		return record{}, fmt.Errorf("%w: lease %016x: value is %d bytes, want %d", ErrCorrupt, uint64(r.id), len(value), recordLen)
	}
	if value[0] != recordVersion {
		return record{}, fmt.Errorf("%w: lease %016x: unknown record version %d", ErrCorrupt, uint64(r.id), value[0])
	}
	ttl := binary.BigEndian.Uint64(value[1:9])
	rem := binary.BigEndian.Uint64(value[9:17])
	if ttl < 1 || ttl > MaxTTL {
		return record{}, fmt.Errorf("%w: lease %016x: TTL %d outside [1, %d]", ErrCorrupt, uint64(r.id), ttl, int64(MaxTTL))
	}
	if rem > MaxTTL {
		return record{}, fmt.Errorf("%w: lease %016x: remaining TTL %d above %d", ErrCorrupt, uint64(r.id), rem, int64(MaxTTL))
	}
	r.ttl, r.remainingTTL = int64(ttl), int64(rem)
	return r, nil
}

// decodeAttachKey splits an attachment key into lease ID and user key.
func decodeAttachKey(k []byte) (id int64, key []byte, err error) {
	if len(k) <= 2+idLen || k[0] != storage.PrefixLease || k[1] != tagAttach {
		return 0, nil, fmt.Errorf("%w: bad attachment key %x", ErrCorrupt, k)
	}
	return int64(binary.BigEndian.Uint64(k[2:])), k[2+idLen:], nil
}
