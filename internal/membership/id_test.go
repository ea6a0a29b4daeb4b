package membership

import (
	"testing"
)

func TestIDsMatchEtcd(t *testing.T) {
	if got := MemberID([]string{"http://10.0.0.8:2379"}, "", nil); got != 14544069596553697298 {
		t.Fatalf("member id = %d", got)
	}
	local := MemberID([]string{"http://localhost:2380"}, "etcd-cluster", nil)
	if FormatID(local) != "8e9e05c52164694d" {
		t.Fatalf("default member id = %s", FormatID(local))
	}
	if c := FormatID(ClusterID([]uint64{local})); c != "cdf818194e3a8c32" {
		t.Fatalf("default cluster id = %s", c)
	}
	var ids []uint64
	want := []string{"140fedbeeb74765d", "d5dc5f8d75d04e29", "8a0a11c6194fc77"}
	for i, u := range []string{"http://10.0.1.10:2380", "http://10.0.1.11:2380", "http://10.0.1.12:2380"} {
		id := MemberID([]string{u}, "etcd-cluster-1", nil)
		if FormatID(id) != want[i] {
			t.Fatalf("guide member %d id = %s, want %s", i, FormatID(id), want[i])
		}
		ids = append(ids, id)
	}
	if c := FormatID(ClusterID(ids)); c != "acccc8912db0cd57" {
		t.Fatalf("guide cluster id = %s", c)
	}
}

func TestMemberIDOrderIndependent(t *testing.T) {
	a := MemberID([]string{"http://a:1", "http://b:2"}, "t", nil)
	b := MemberID([]string{"http://b:2", "http://a:1"}, "t", nil)
	if a != b {
		t.Fatal("peer URL order changed the ID")
	}
}
