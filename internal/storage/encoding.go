package storage

import "encoding/binary"

// PutUint64 appends v big-endian, so byte order equals numeric order.
func PutUint64(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(b, v)
}

// Uint64 reads a big-endian uint64; ok is false when b is too short.
func Uint64(b []byte) (v uint64, ok bool) {
	if len(b) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
