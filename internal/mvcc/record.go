package mvcc

import (
	"encoding/binary"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Version values. Part of the data format.
//
//	put:       kindPut | uvarint create_revision | uvarint version | uvarint lease | value
//	tombstone: kindTombstone
//
// The mod revision is the revision in the version key. A lease ID is stored
// as the uvarint of its two's-complement bit pattern.

// record is a decoded version value. value aliases the bytes it was decoded
// from.
type record struct {
	tombstone bool
	create    int64
	version   int64
	lease     int64
	value     []byte
}

// maxRecordHeader bounds the encoded size of a put record without its value.
const maxRecordHeader = 1 + 3*binary.MaxVarintLen64

func putRecordLen(create, version, lease int64, value []byte) int {
	return 1 + uvarintLen(uint64(create)) + uvarintLen(uint64(version)) +
		uvarintLen(uint64(lease)) + len(value)
}

// putRecord writes a put record into dst, which must be exactly
// putRecordLen long.
func putRecord(dst []byte, create, version, lease int64, value []byte) {
	dst[0] = kindPut
	n := 1
	n += binary.PutUvarint(dst[n:], uint64(create))
	n += binary.PutUvarint(dst[n:], uint64(version))
	n += binary.PutUvarint(dst[n:], uint64(lease))
	copy(dst[n:], value)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decodeRecord decodes a version value. Corrupt input yields an error
// wrapping ErrCorrupt, never a panic.
func decodeRecord(v []byte) (record, error) {
	if len(v) == 0 {
		return record{}, corruptf("version value: empty")
	}
	switch v[0] {
	case kindTombstone:
		if len(v) != 1 {
			return record{}, corruptf("version value: tombstone with %d trailing bytes", len(v)-1)
		}
		return record{tombstone: true}, nil
	case kindPut:
	default:
		return record{}, corruptf("version value: unknown kind %d", v[0])
	}
	var r record
	n := 1
	var fields [3]uint64
	for i := range fields {
		u, m := binary.Uvarint(v[n:])
		if m <= 0 {
			return record{}, corruptf("version value: bad varint in field %d", i)
		}
		fields[i] = u
		n += m
	}
	r.create, r.version, r.lease = int64(fields[0]), int64(fields[1]), int64(fields[2])
	if r.create <= 0 || r.version <= 0 {
		return record{}, corruptf("version value: create %d version %d", r.create, r.version)
	}
	r.value = v[n:]
	return r, nil
}

// isTombstone reports whether a version value is a tombstone, without
// decoding the rest.
func isTombstone(v []byte) (bool, error) {
	if len(v) == 0 || (v[0] != kindPut && v[0] != kindTombstone) {
		return false, corruptf("version value: bad kind")
	}
	return v[0] == kindTombstone, nil
}

// DecodeRecord decodes a stored version (key and value as found under
// PrefixMVCC) into a KeyValue; a tombstone yields nil. The result does not
// alias its inputs. Exported for tools and fuzzing.
func DecodeRecord(k, v []byte) (*mvccpb.KeyValue, error) {
	key, main, _, err := DecodeVersionKey(k)
	if err != nil {
		return nil, err
	}
	r, err := decodeRecord(v)
	if err != nil {
		return nil, err
	}
	if r.tombstone {
		return nil, nil
	}
	if r.create > main {
		return nil, corruptf("version value: create revision %d above mod revision %d", r.create, main)
	}
	return &mvccpb.KeyValue{
		Key:            key,
		CreateRevision: r.create,
		ModRevision:    main,
		Version:        r.version,
		Lease:          r.lease,
		Value:          append([]byte(nil), r.value...),
	}, nil
}
