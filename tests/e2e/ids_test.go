package e2e

import (
	"crypto/sha1"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// memberID computes a statically bootstrapped member's ID as etcd does
// (compat §2): SHA-1 of the sorted peer URLs and the cluster token, first 8
// bytes big-endian.
func memberID(peerURLs []string, token string) uint64 {
	sum := sha1.Sum([]byte(strings.Join(slices.Sorted(slices.Values(peerURLs)), "") + token))
	return binary.BigEndian.Uint64(sum[:8])
}

// clusterID computes the cluster ID from its member IDs (compat §2).
func clusterID(members ...uint64) uint64 {
	sorted := slices.Sorted(slices.Values(members))
	b := make([]byte, 0, 8*len(sorted))
	for _, id := range sorted {
		b = binary.BigEndian.AppendUint64(b, id)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

func hexID(id uint64) string { return strconv.FormatUint(id, 16) }

func TestIDsMatchTheCompatTable(t *testing.T) {
	if got := memberID([]string{"http://10.0.0.8:2379"}, ""); got != 14544069596553697298 {
		t.Errorf("member ID of http://10.0.0.8:2379 = %d", got)
	}
	m := memberID([]string{"http://localhost:2380"}, "etcd-cluster")
	if hexID(m) != "8e9e05c52164694d" || hexID(clusterID(m)) != "cdf818194e3a8c32" {
		t.Errorf("localhost: member %x cluster %x", m, clusterID(m))
	}
	var ids []uint64
	for i, want := range []string{"140fedbeeb74765d", "d5dc5f8d75d04e29", "8a0a11c6194fc77"} {
		id := memberID([]string{"http://10.0.1.1" + strconv.Itoa(i) + ":2380"}, "etcd-cluster-1")
		if hexID(id) != want {
			t.Errorf("guide member %d = %x, want %s", i, id, want)
		}
		ids = append(ids, id)
	}
	if got := hexID(clusterID(ids...)); got != "acccc8912db0cd57" {
		t.Errorf("guide cluster = %s", got)
	}
}
