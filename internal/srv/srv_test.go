package srv

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/srv/srvtest"
)

// zone is the test DNS data: owner name → records. A known name asked for
// another type gets an empty answer; an unknown name gets NXDOMAIN.
var zone = map[string][]string{
	// The guide's records.
	"_etcd-server._tcp.example.com.": {
		"_etcd-server._tcp.example.com. 300 IN SRV 0 0 2380 infra0.example.com.",
		"_etcd-server._tcp.example.com. 300 IN SRV 0 0 2380 infra1.example.com.",
		"_etcd-server._tcp.example.com. 300 IN SRV 0 0 2380 infra2.example.com.",
	},
	"_etcd-client._tcp.example.com.": {
		"_etcd-client._tcp.example.com. 300 IN SRV 0 0 2379 infra0.example.com.",
		"_etcd-client._tcp.example.com. 300 IN SRV 0 0 2379 infra1.example.com.",
		"_etcd-client._tcp.example.com. 300 IN SRV 0 0 2379 infra2.example.com.",
	},
	"infra0.example.com.": {"infra0.example.com. 300 IN A 10.0.1.10"},
	"infra1.example.com.": {"infra1.example.com. 300 IN A 10.0.1.11"},
	"infra2.example.com.": {"infra2.example.com. 300 IN A 10.0.1.12"},

	// TLS only, with a --discovery-srv-name suffix.
	"_etcd-server-ssl-prod._tcp.ssl.example.com.": {
		"_etcd-server-ssl-prod._tcp.ssl.example.com. 300 IN SRV 0 0 2380 infra0.example.com.",
		"_etcd-server-ssl-prod._tcp.ssl.example.com. 300 IN SRV 0 0 2380 infra1.example.com.",
		"_etcd-server-ssl-prod._tcp.ssl.example.com. 300 IN SRV 0 0 2380 infra2.example.com.",
	},
	"_etcd-client-ssl-prod._tcp.ssl.example.com.": {
		"_etcd-client-ssl-prod._tcp.ssl.example.com. 300 IN SRV 0 0 2379 infra0.example.com.",
	},

	// Both services: this member over TLS, the others in clear.
	"_etcd-server-ssl._tcp.mixed.example.com.": {
		"_etcd-server-ssl._tcp.mixed.example.com. 300 IN SRV 0 0 2380 infra0.example.com.",
		"_etcd-server-ssl._tcp.mixed.example.com. 300 IN SRV 0 0 2380 infra1.example.com.",
	},
	"_etcd-server._tcp.mixed.example.com.": {
		"_etcd-server._tcp.mixed.example.com. 300 IN SRV 0 0 2380 infra2.example.com.",
	},
	"_etcd-client-ssl._tcp.mixed.example.com.": {
		"_etcd-client-ssl._tcp.mixed.example.com. 300 IN SRV 0 0 2379 infra0.example.com.",
	},
	"_etcd-client._tcp.mixed.example.com.": {
		"_etcd-client._tcp.mixed.example.com. 300 IN SRV 0 0 2379 infra2.example.com.",
	},

	// Client records with SRV priorities and weights; only the plain
	// service exists.
	"_etcd-client._tcp.weighted.example.com.": {
		"_etcd-client._tcp.weighted.example.com. 300 IN SRV 0 60 2379 infra0.example.com.",
		"_etcd-client._tcp.weighted.example.com. 300 IN SRV 0 30 2379 infra1.example.com.",
		"_etcd-client._tcp.weighted.example.com. 300 IN SRV 10 0 22379 infra2.example.com.",
	},

	// This member is not listed; one target does not resolve.
	"_etcd-server._tcp.others.example.com.": {
		"_etcd-server._tcp.others.example.com. 300 IN SRV 0 0 2380 infra1.example.com.",
		"_etcd-server._tcp.others.example.com. 300 IN SRV 0 0 2380 infra2.example.com.",
		"_etcd-server._tcp.others.example.com. 300 IN SRV 0 0 2380 gone.example.com.",
	},

	// A single TLS record for this member.
	"_etcd-server-ssl._tcp.one.example.com.": {
		"_etcd-server-ssl._tcp.one.example.com. 300 IN SRV 0 0 2380 infra0.example.com.",
	},
	// The same with the other members.
	"_etcd-server-ssl._tcp.three.example.com.": {
		"_etcd-server-ssl._tcp.three.example.com. 300 IN SRV 0 0 2380 infra0.example.com.",
		"_etcd-server-ssl._tcp.three.example.com. 300 IN SRV 0 0 2380 infra1.example.com.",
		"_etcd-server-ssl._tcp.three.example.com. 300 IN SRV 0 0 2380 infra2.example.com.",
	},
}

// startDNS serves zone on 127.0.0.1 and returns a resolver that asks only
// that server.
func startDNS(t *testing.T) *net.Resolver {
	t.Helper()
	return srvtest.Start(t, zone)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// ids parses an --initial-cluster string and hashes it with the token.
func ids(t *testing.T, initialCluster, token string) map[string]string {
	t.Helper()
	m := map[string][]string{}
	for _, p := range strings.Split(initialCluster, ",") {
		name, u, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("bad entry %q", p)
		}
		m[name] = append(m[name], u)
	}
	out := map[string]string{}
	for name, urls := range m {
		out[name] = membership.FormatID(membership.MemberID(urls, token, nil))
	}
	return out
}

func TestServerClusterGuide(t *testing.T) {
	r := startDNS(t)
	const want = "infra0=http://infra0.example.com:2380,0=http://infra1.example.com:2380,1=http://infra2.example.com:2380"
	for _, tc := range []struct{ desc, advertise string }{
		{"host names", "http://infra0.example.com:2380"},
		{"IPs", "http://10.0.1.10:2380"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := ServerCluster(ctx(t), r, ServerOptions{
				Domain: "example.com", Name: "infra0", AdvertisePeerURLs: []string{tc.advertise},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
			// Host names are hashed, not the IPs (compat §6), whatever the
			// advertised form; values from SHA-1 of url+"etcd-cluster-1".
			wantIDs := map[string]string{"infra0": "a434bc977dbbaf3e", "0": "89315860d4cce8f0", "1": "518d77c6d7c5a9c1"}
			if g := ids(t, got, "etcd-cluster-1"); !equalMaps(g, wantIDs) {
				t.Fatalf("ids %v, want %v", g, wantIDs)
			}
		})
	}
}

func TestServerClusterOrder(t *testing.T) {
	r := startDNS(t)
	got, err := ServerCluster(ctx(t), r, ServerOptions{
		Domain: "example.com", Name: "infra1", AdvertisePeerURLs: []string{"http://10.0.1.11:2380"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = "0=http://infra0.example.com:2380,infra1=http://infra1.example.com:2380,1=http://infra2.example.com:2380"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// staticResolver answers from Go values: SRV targets spelt as IPs, which
// Go's DNS client refuses to return, reach the code this way.
type staticResolver map[string][]*net.SRV

func (s staticResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	if recs, ok := s[q]; ok {
		return q, recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
}

// LookupIPAddr answers for names spelt as IPv4 addresses ("10.0.1.10."), as
// a DNS server holding such A records would; neither etcd nor this package
// treats a target with a trailing dot as an IP literal.
func (staticResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if ip := net.ParseIP(strings.TrimSuffix(host, ".")); ip != nil {
		return []net.IPAddr{{IP: ip}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestServerClusterIPTargetsMatchCompatIDs(t *testing.T) {
	r := staticResolver{"_etcd-server._tcp.example.com": {
		{Target: "10.0.1.10.", Port: 2380}, {Target: "10.0.1.11.", Port: 2380}, {Target: "10.0.1.12.", Port: 2380},
	}}
	got, err := ServerCluster(ctx(t), r, ServerOptions{
		Domain: "example.com", Name: "infra0", AdvertisePeerURLs: []string{"http://10.0.1.10:2380"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "infra0=http://10.0.1.10:2380,0=http://10.0.1.11:2380,1=http://10.0.1.12:2380"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// compat §2's check values for the guide's cluster.
	wantIDs := map[string]string{"infra0": "140fedbeeb74765d", "0": "d5dc5f8d75d04e29", "1": "8a0a11c6194fc77"}
	if g := ids(t, got, "etcd-cluster-1"); !equalMaps(g, wantIDs) {
		t.Fatalf("ids %v, want %v", g, wantIDs)
	}
}

func TestServerClusterSSLWithServiceName(t *testing.T) {
	r := startDNS(t)
	got, err := ServerCluster(ctx(t), r, ServerOptions{
		Domain: "ssl.example.com", ServiceName: "prod", Name: "infra2",
		AdvertisePeerURLs: []string{"https://infra2.example.com:2380"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "0=https://infra0.example.com:2380,1=https://infra1.example.com:2380,infra2=https://infra2.example.com:2380"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// Without the suffix the services do not exist.
	_, err = ServerCluster(ctx(t), r, ServerOptions{
		Domain: "ssl.example.com", Name: "infra2", AdvertisePeerURLs: []string{"https://infra2.example.com:2380"},
	})
	if err == nil {
		t.Fatal("found records without the service name suffix")
	}
}

func TestServerClusterUnion(t *testing.T) {
	r := startDNS(t)
	got, err := ServerCluster(ctx(t), r, ServerOptions{
		Domain: "mixed.example.com", Name: "infra0", AdvertisePeerURLs: []string{"https://10.0.1.10:2380"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The temporary names restart for each service, as in etcd: infra1
	// (ssl) and infra2 (plain) are both "0", which the --initial-cluster
	// parser merges into one member, as etcd's would.
	want := "infra0=https://infra0.example.com:2380,0=https://infra1.example.com:2380,0=http://infra2.example.com:2380"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestServerClusterErrors(t *testing.T) {
	r := startDNS(t)
	for _, tc := range []struct {
		desc, domain, name, advertise string
		want                          []string // substrings of the error
		exact                         string
	}{{
		desc: "no records", domain: "nothing.example.com", name: "infra0", advertise: "http://infra0.example.com:2380",
		want: []string{
			"error querying DNS SRV records for _etcd-server-ssl lookup _etcd-server-ssl._tcp.nothing.example.com",
			"; error querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.nothing.example.com",
			"no such host",
		},
	}, {
		desc: "local member missing", domain: "others.example.com", name: "infra0", advertise: "http://infra0.example.com:2380",
		exact: `cannot find local etcd member "infra0" in SRV records`,
	}, {
		desc: "scheme mismatch, only record", domain: "one.example.com", name: "infra0", advertise: "http://infra0.example.com:2380",
		want: []string{
			"error querying DNS SRV records for _etcd-server-ssl bootstrap at https://infra0.example.com:2380 from DNS for etcd-server-ssl has scheme mismatch with expected peer http://infra0.example.com:2380",
			"; error querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.one.example.com",
		},
	}, {
		// etcd skips the mismatched record and keeps the others, so the
		// member then finds itself missing.
		desc: "scheme mismatch among others", domain: "three.example.com", name: "infra0", advertise: "http://infra0.example.com:2380",
		exact: `cannot find local etcd member "infra0" in SRV records`,
	}, {
		desc: "advertise host does not resolve", domain: "example.com", name: "infra0", advertise: "http://gone.example.com:2380",
		want: []string{"lookup gone.example.com", "; lookup gone.example.com"},
	}} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := ServerCluster(ctx(t), r, ServerOptions{
				Domain: tc.domain, Name: tc.name, AdvertisePeerURLs: []string{tc.advertise},
			})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.exact != "" && err.Error() != tc.exact {
				t.Fatalf("error %q, want %q", err, tc.exact)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestServerOptionsValidate(t *testing.T) {
	for _, o := range []ServerOptions{
		{Name: "a", AdvertisePeerURLs: []string{"http://a:2380"}},
		{Domain: "d", AdvertisePeerURLs: []string{"http://a:2380"}},
		{Domain: "d", Name: "a"},
	} {
		if _, err := ServerCluster(context.Background(), staticResolver{}, o); err == nil || !strings.HasPrefix(err.Error(), "srv: ") {
			t.Fatalf("%+v: error %v", o, err)
		}
	}
}

func TestClientRecordsEndpoints(t *testing.T) {
	r := startDNS(t)
	for _, tc := range []struct {
		desc, domain, service string
		want                  []string
	}{
		{"guide", "example.com", "", []string{"http://infra0.example.com.:2379", "http://infra1.example.com.:2379", "http://infra2.example.com.:2379"}},
		{"ssl then plain", "mixed.example.com", "", []string{"https://infra0.example.com.:2379", "http://infra2.example.com.:2379"}},
		{"service name", "ssl.example.com", "prod", []string{"https://infra0.example.com.:2379"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := ClientRecords(ctx(t), r, tc.domain, tc.service)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Endpoints
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := ClientRecords(ctx(t), r, "nothing.example.com", "")
	if err == nil || !strings.HasPrefix(err.Error(), "dns lookup errors: lookup _etcd-client-ssl._tcp.nothing.example.com") ||
		!strings.Contains(err.Error(), " and lookup _etcd-client._tcp.nothing.example.com") {
		t.Fatalf("error %v", err)
	}
}

func TestClientRecords(t *testing.T) {
	r := startDNS(t)
	got, err := ClientRecords(ctx(t), r, "weighted.example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Endpoints) != len(got.SRVs) {
		t.Fatalf("%d endpoints, %d records", len(got.Endpoints), len(got.SRVs))
	}
	// Go's resolver orders records by priority and shuffles them by
	// weight within one, so compare by endpoint.
	type rec struct {
		target         string
		port, pri, wei uint16
	}
	want := map[string]rec{
		"http://infra0.example.com.:2379":  {"infra0.example.com.", 2379, 0, 60},
		"http://infra1.example.com.:2379":  {"infra1.example.com.", 2379, 0, 30},
		"http://infra2.example.com.:22379": {"infra2.example.com.", 22379, 10, 0},
	}
	if len(got.Endpoints) != len(want) {
		t.Fatalf("got %v, want %d endpoints", got.Endpoints, len(want))
	}
	for i, ep := range got.Endpoints {
		s := got.SRVs[i]
		if g := (rec{s.Target, s.Port, s.Priority, s.Weight}); g != want[ep] {
			t.Errorf("%s: record %+v, want %+v", ep, g, want[ep])
		}
	}
	if got.Endpoints[2] != "http://infra2.example.com.:22379" {
		t.Errorf("priority 10 record not last: %v", got.Endpoints)
	}

	// The same lookups as TestClientRecordsEndpoints, in the same order.
	mixed, err := ClientRecords(ctx(t), r, "mixed.example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://infra0.example.com.:2379 http://infra2.example.com.:2379"; strings.Join(mixed.Endpoints, " ") != want {
		t.Fatalf("got %v, want %s", mixed.Endpoints, want)
	}
	if mixed.SRVs[0].Target != "infra0.example.com." || mixed.SRVs[1].Target != "infra2.example.com." {
		t.Fatalf("records not beside their endpoints: %v %v", mixed.SRVs[0], mixed.SRVs[1])
	}

	_, err = ClientRecords(ctx(t), r, "nothing.example.com", "")
	if err == nil || !strings.HasPrefix(err.Error(), "dns lookup errors: ") {
		t.Fatalf("error %v", err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
