package bootstrap

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/membership"
)

var guide = map[string][]string{
	"infra0": {"http://10.0.1.10:2380"},
	"infra1": {"http://10.0.1.11:2380"},
	"infra2": {"http://10.0.1.12:2380"},
}

func TestStaticGuideIDs(t *testing.T) {
	ms, self, err := Static(context.Background(), nil, "infra1", guide, []string{"http://10.0.1.11:2380"}, "etcd-cluster-1")
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
		_, _, err := Static(context.Background(), nil, c.name, c.cluster, []string{c.adv}, "t")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// fakeResolver answers from a fixed table; a missing name is not found.
type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
	}
	return out, nil
}

// The guide's DNS section, IP variant: the SRV records name the members by
// host name while each member advertises its IP.
func TestStaticResolvesNames(t *testing.T) {
	srvCluster := map[string][]string{
		"infra0": {"http://infra0.example.com:2380"},
		"1":      {"http://infra1.example.com:2380"},
		"2":      {"http://infra2.example.com:2380"},
	}
	r := fakeResolver{
		"infra0.example.com": {"2001:db8::10", "10.0.1.10"},
		"infra1.example.com": {"10.0.1.11"},
	}
	ctx := context.Background()
	ms, self, err := Static(ctx, r, "infra0", srvCluster, []string{"http://10.0.1.10:2380"}, "etcd-cluster-1")
	if err != nil {
		t.Fatal(err)
	}
	// The IDs hash the SRV host names, not the advertised IPs.
	if got := membership.FormatID(self.ID); got != membership.FormatID(membership.NewMember("infra0", []string{"http://infra0.example.com:2380"}, "etcd-cluster-1").ID) {
		t.Fatalf("self id %s hashes the wrong URLs", got)
	}
	if len(ms) != 3 {
		t.Fatalf("%d members", len(ms))
	}

	// A name that resolves elsewhere, a different port or scheme, and a
	// name that does not resolve are all the guide's advertised-URL error.
	want := "error setting up initial cluster: infra0 has different advertised URLs in the cluster and advertised peer URLs list"
	for _, adv := range []string{"http://10.0.1.11:2380", "http://10.0.1.10:2381", "https://10.0.1.10:2380", "http://infra1.example.com:2380"} {
		if _, _, err := Static(ctx, r, "infra0", srvCluster, []string{adv}, "t"); err == nil || err.Error() != want {
			t.Errorf("advertise %s: got %v, want %q", adv, err, want)
		}
	}
	_, _, err = Static(ctx, fakeResolver{}, "infra0", srvCluster, []string{"http://10.0.1.10:2380"}, "t")
	var dnsErr *net.DNSError
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &dnsErr) || !strings.Contains(err.Error(), "infra0.example.com") {
		t.Errorf("unresolvable name: got %v, want the guide's text naming the lookup failure", err)
	}
}
