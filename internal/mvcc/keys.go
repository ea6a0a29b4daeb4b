package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cairn-db/cairn/internal/storage"
)

// On-disk key layout. Everything here is part of the data format.
//
// Version key (PrefixMVCC):
//
//	0x10 | esc(user key) | 0x00 0x01 | ^main (8, big-endian) | ^sub (8, big-endian)
//
// esc replaces every 0x00 byte of the user key with 0x00 0xff. The
// terminator 0x00 0x01 sorts below both an escaped zero (0x00 0xff) and any
// other byte, so every version of key k sorts before every version of a key
// k' > k, even when k is a prefix of k'. Revisions are stored inverted, so the
// versions of one key run newest first: a seek to (k, ^R) lands on the newest
// version at or below revision R.
//
// storage splits a version key before its revision (storage.VersionSuffixLen
// after storage.VersionTerminator), so all versions of one key share a bloom
// filter prefix and point reads use SeekPrefixGE.
//
// Revision log key (PrefixRevLog):
//
//	0x11 | main (8, big-endian) | sub (8, big-endian)  →  kind (1) | user key
//
// Meta keys (PrefixMVCCMeta) hold the scheduled and finished compaction
// revisions. The current revision is not stored: it is the newest revision in
// the log, or the scheduled compaction revision when the log is empty.

const (
	revLen      = 16 // ^main, ^sub
	termLen     = 2  // 0x00 0x01
	escByte     = 0xff
	termByte    = 0x01
	termNextKey = 0x02 // termByte+1: seeks past every version of a key
)

var (
	metaScheduledKey = []byte{storage.PrefixMVCCMeta, 's', 'c', 'h', 'e', 'd'}
	metaFinishedKey  = []byte{storage.PrefixMVCCMeta, 'd', 'o', 'n', 'e'}

	// revLogLower and revLogUpper bound the revision log.
	revLogLower = []byte{storage.PrefixRevLog}
	revLogUpper = []byte{storage.PrefixRevLog + 1}
	// mvccUpper bounds every version key from above.
	mvccUpper = []byte{storage.PrefixMVCC + 1}
)

// appendEscaped appends the escaped form of key followed by the terminator.
func appendEscaped(dst, key []byte) []byte {
	for {
		i := bytes.IndexByte(key, 0)
		if i < 0 {
			break
		}
		dst = append(dst, key[:i+1]...)
		dst = append(dst, escByte)
		key = key[i+1:]
	}
	dst = append(dst, key...)
	return append(dst, 0, termByte)
}

// appendKeyPrefix appends PrefixMVCC, the escaped key and the terminator: the
// common prefix of every version of key.
func appendKeyPrefix(dst, key []byte) []byte {
	dst = append(dst, storage.PrefixMVCC)
	return appendEscaped(dst, key)
}

// appendRev appends the inverted revision.
func appendRev(dst []byte, main, sub int64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, ^uint64(main))
	return binary.BigEndian.AppendUint64(dst, ^uint64(sub))
}

// appendVersionKey appends the version key of (key, main, sub).
func appendVersionKey(dst, key []byte, main, sub int64) []byte {
	return appendRev(appendKeyPrefix(dst, key), main, sub)
}

// versionKeyLen is the length of the version key of key.
func versionKeyLen(key []byte) int {
	return 1 + len(key) + bytes.Count(key, []byte{0}) + termLen + revLen
}

// putVersionKey writes the version key of (key, main, sub) into dst, which
// must be exactly versionKeyLen(key) long.
func putVersionKey(dst, key []byte, main, sub int64) {
	appendVersionKey(dst[:0], key, main, sub)
}

// seekNewest appends the key that a forward seek uses to land on the newest
// version of key at or below main revision rev.
func appendSeekAt(dst, key []byte, rev int64) []byte {
	return appendRev(appendKeyPrefix(dst, key), rev, maxSub)
}

// maxSub is the largest sub revision; seeking to (rev, maxSub) covers every
// sub revision of rev.
const maxSub = int64(^uint64(0) >> 1)

// keyPrefixEnd turns a key prefix (as appended by appendKeyPrefix) into the
// smallest key above every version of that user key, in place.
func keyPrefixEnd(prefix []byte) []byte {
	prefix[len(prefix)-1] = termNextKey
	return prefix
}

// appendRangeUpper appends the exclusive upper bound of version keys for the
// user-key range end: every version of every key < end sorts below it.
func appendRangeUpper(dst, end []byte) []byte {
	return appendKeyPrefix(dst, end)
}

// splitVersionKey splits a version key into the shared prefix of its user
// key (PrefixMVCC, escaped key, terminator) and its revision. It validates
// only the framing; decodeUserKey validates the escaping.
func splitVersionKey(k []byte) (prefix []byte, main, sub int64, err error) {
	n := len(k) - revLen
	if n < 1+termLen || k[0] != storage.PrefixMVCC || k[n-2] != 0 || k[n-1] != termByte {
		return nil, 0, 0, corruptf("version key %q: bad framing", k)
	}
	main = int64(^binary.BigEndian.Uint64(k[n:]))
	sub = int64(^binary.BigEndian.Uint64(k[n+8:]))
	if main < 0 || sub < 0 {
		return nil, 0, 0, corruptf("version key %q: negative revision", k)
	}
	return k[:n], main, sub, nil
}

// appendUserKey appends the user key encoded in a key prefix returned by
// splitVersionKey.
func appendUserKey(dst, prefix []byte) ([]byte, error) {
	esc := prefix[1 : len(prefix)-termLen]
	for {
		i := bytes.IndexByte(esc, 0)
		if i < 0 {
			return append(dst, esc...), nil
		}
		if i+1 >= len(esc) || esc[i+1] != escByte {
			return dst, corruptf("version key: bad escape at %d in %q", i, prefix)
		}
		dst = append(dst, esc[:i+1]...)
		esc = esc[i+2:]
	}
}

// userKeyLen is the length of the user key in a prefix from splitVersionKey.
func userKeyLen(prefix []byte) int {
	esc := prefix[1 : len(prefix)-termLen]
	return len(esc) - bytes.Count(esc, []byte{0})
}

// DecodeVersionKey decodes a version key into its user key and revision.
// Corrupt input yields an error wrapping ErrCorrupt, never a panic.
func DecodeVersionKey(k []byte) (key []byte, main, sub int64, err error) {
	prefix, main, sub, err := splitVersionKey(k)
	if err != nil {
		return nil, 0, 0, err
	}
	key, err = appendUserKey(make([]byte, 0, len(prefix)), prefix)
	if err != nil {
		return nil, 0, 0, err
	}
	return key, main, sub, nil
}

// EncodeVersionKey returns the version key of (key, main, sub).
func EncodeVersionKey(key []byte, main, sub int64) []byte {
	return appendVersionKey(make([]byte, 0, versionKeyLen(key)), key, main, sub)
}

// Revision log.

const revLogKeyLen = 1 + 16

// Record kinds, the first byte of a version value and of a log value.
const (
	kindPut       byte = 1
	kindTombstone byte = 2
)

func appendRevLogKey(dst []byte, main, sub int64) []byte {
	dst = append(dst, storage.PrefixRevLog)
	dst = binary.BigEndian.AppendUint64(dst, uint64(main))
	return binary.BigEndian.AppendUint64(dst, uint64(sub))
}

func decodeRevLogKey(k []byte) (main, sub int64, err error) {
	if len(k) != revLogKeyLen || k[0] != storage.PrefixRevLog {
		return 0, 0, corruptf("revision log key %q: bad framing", k)
	}
	main = int64(binary.BigEndian.Uint64(k[1:]))
	sub = int64(binary.BigEndian.Uint64(k[9:]))
	if main < 0 || sub < 0 {
		return 0, 0, corruptf("revision log key %q: negative revision", k)
	}
	return main, sub, nil
}

// decodeRevLogValue returns the kind and user key of a log value. key
// aliases v.
func decodeRevLogValue(v []byte) (kind byte, key []byte, err error) {
	if len(v) < 1 || (v[0] != kindPut && v[0] != kindTombstone) {
		return 0, nil, corruptf("revision log value %q: bad kind", v)
	}
	return v[0], v[1:], nil
}

// Meta values are one big-endian uint64.

func decodeMetaRev(name string, v []byte) (int64, error) {
	u, ok := storage.Uint64(v)
	if !ok || len(v) != 8 || int64(u) < 0 {
		return 0, corruptf("meta %s: bad value %q", name, v)
	}
	return int64(u), nil
}

func encodeMetaRev(rev int64) []byte {
	return storage.PutUint64(make([]byte, 0, 8), uint64(rev))
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
