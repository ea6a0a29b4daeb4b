package membership

import (
	"crypto/sha1"
	"encoding/binary"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MemberID computes a member's ID from its peer URLs and the cluster token.
// addedAt is nil at bootstrap; a member added at run time passes the time it
// was added, whose Unix seconds become part of the hashed bytes.
func MemberID(peerURLs []string, token string, addedAt *time.Time) uint64 {
	var b []byte
	for _, u := range NormalizeURLs(peerURLs) {
		b = append(b, u...)
	}
	b = append(b, token...)
	if addedAt != nil {
		b = strconv.AppendInt(b, addedAt.Unix(), 10)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// ClusterID computes the cluster ID from the IDs of the founding members.
func ClusterID(memberIDs []uint64) uint64 {
	ids := append([]uint64(nil), memberIDs...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	b := make([]byte, 0, 8*len(ids))
	for _, id := range ids {
		b = binary.BigEndian.AppendUint64(b, id)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// FormatID prints an ID as etcd does: lower-case hex without padding.
func FormatID(id uint64) string { return strconv.FormatUint(id, 16) }

// ParseID reads an ID printed by FormatID.
func ParseID(s string) (uint64, error) { return strconv.ParseUint(s, 16, 64) }

// NormalizeURLs re-renders each URL through url.Parse, so equivalent
// spellings compare and hash alike (an unparsable string is kept as
// given), and sorts them.
func NormalizeURLs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if u, err := url.Parse(s); err == nil {
			out = append(out, u.String())
		} else {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// FormatInitialCluster prints a name → peer URLs map the way
// --initial-cluster is written: sorted name=url pairs joined by commas.
func FormatInitialCluster(m map[string][]string) string {
	var pairs []string
	for name, urls := range m {
		for _, u := range urls {
			pairs = append(pairs, name+"="+u)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
