package storage

// Keyspace prefixes. Each one is owned by exactly one package; nothing else
// reads or writes under it. The values are part of the on-disk format.
const (
	// PrefixRaft holds the raft log, hard state, conf state and snapshot
	// metadata. Owner: raftnode.
	PrefixRaft byte = 0x01
	// PrefixApply holds the applied index and other apply-loop state that must
	// move atomically with the state machine. Owner: server.
	PrefixApply byte = 0x02
	// PrefixMVCC holds key versions: user key + descending revision. Owner: mvcc.
	PrefixMVCC byte = 0x10
	// PrefixRevLog maps revision → user key, for watch catch-up and
	// compaction. Owner: mvcc.
	PrefixRevLog byte = 0x11
	// PrefixMVCCMeta holds the current and compacted revisions. Owner: mvcc.
	PrefixMVCCMeta byte = 0x12
	// PrefixLease holds lease records and lease→key attachments. Owner: lease.
	PrefixLease byte = 0x20
	// PrefixAuth holds users, roles and the auth revision. Owner: auth.
	PrefixAuth byte = 0x30
	// PrefixMembership holds members, removed IDs, cluster ID and version.
	// Owner: membership.
	PrefixMembership byte = 0x40
)

// Key returns prefix followed by the given parts, in one allocation.
func Key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 1, n)
	k[0] = prefix
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// PrefixEnd returns the smallest key greater than every key that starts with
// prefix, or nil when there is none (a prefix of only 0xff bytes).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// KeyspaceBounds returns [lower, upper) covering every key of a prefix.
func KeyspaceBounds(prefix byte) (lower, upper []byte) {
	return []byte{prefix}, []byte{prefix + 1}
}
