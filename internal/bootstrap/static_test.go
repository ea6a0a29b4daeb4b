package bootstrap

import (
	"testing"

	"github.com/cairn-db/cairn/internal/membership"
)

var guide = map[string][]string{
	"infra0": {"http://10.0.1.10:2380"},
	"infra1": {"http://10.0.1.11:2380"},
	"infra2": {"http://10.0.1.12:2380"},
}

func TestStaticGuideIDs(t *testing.T) {
	ms, self, err := Static("infra1", guide, []string{"http://10.0.1.11:2380"}, "etcd-cluster-1")
	if err != nil {
		t.Fatal(err)
	}
	if membership.FormatID(self.ID) != "d5dc5f8d75d04e29" {
		t.Fatalf("self id %x", self.ID)
	}
	ids := []uint64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if membership.FormatID(membership.ClusterID(ids)) != "acccc8912db0cd57" {
		t.Fatal("cluster id")
	}
}

func TestStaticErrors(t *testing.T) {
	cases := []struct {
		name, adv string
		cluster   map[string][]string
		want      string
	}{
		{"infra3", "http://10.0.1.13:2380", guide, "infra3 not listed in the initial cluster config"},
		{"infra0", "http://10.0.1.99:2380", guide, "error setting up initial cluster: infra0 has different advertised URLs in the cluster and advertised peer URLs list"},
		{"a", "http://x:1", map[string][]string{"a": {"http://x:1"}, "b": {"http://x:1"}}, "initial cluster a=http://x:1,b=http://x:1 has duplicate url"},
	}
	for _, c := range cases {
		_, _, err := Static(c.name, c.cluster, []string{c.adv}, "t")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
