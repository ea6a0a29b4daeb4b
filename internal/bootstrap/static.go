package bootstrap

import (
	"fmt"
	"net/url"
	"sort"

	"github.com/cairn-db/cairn/internal/membership"
)

// Static builds the founding members from --initial-cluster (name → peer
// URLs) and the token, and finds this member by name. The errors carry the
// guide's texts word for word.
func Static(name string, cluster map[string][]string, advertisePeerURLs []string, token string) (members []*membership.Member, self *membership.Member, err error) {
	names := make([]string, 0, len(cluster))
	for n := range cluster {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, n := range names {
		for _, u := range cluster[n] {
			if other, dup := seen[u]; dup && other != n {
				return nil, nil, fmt.Errorf("initial cluster %s has duplicate url", clusterString(cluster))
			}
			seen[u] = n
		}
		m := membership.NewMember(n, cluster[n], token)
		members = append(members, m)
		if n == name {
			self = m
		}
	}
	if self == nil {
		return nil, nil, fmt.Errorf("%s not listed in the initial cluster config", name)
	}
	if !sameURLs(self.PeerURLs, advertisePeerURLs) {
		return nil, nil, fmt.Errorf("error setting up initial cluster: %s has different advertised URLs in the cluster and advertised peer URLs list", name)
	}
	ids := map[uint64]bool{}
	for _, m := range members {
		if ids[m.ID] {
			return nil, nil, fmt.Errorf("initial cluster %s has duplicate url", clusterString(cluster))
		}
		ids[m.ID] = true
	}
	return members, self, nil
}

// sameURLs compares URL sets after normalising each through url.Parse.
func sameURLs(a, b []string) bool {
	na, nb := normalize(a), normalize(b)
	if len(na) != len(nb) {
		return false
	}
	for i := range na {
		if na[i] != nb[i] {
			return false
		}
	}
	return true
}

func normalize(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if u, err := url.Parse(s); err == nil {
			s = u.String()
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func clusterString(cluster map[string][]string) string {
	names := make([]string, 0, len(cluster))
	for n := range cluster {
		names = append(names, n)
	}
	sort.Strings(names)
	s := ""
	for _, n := range names {
		for _, u := range cluster[n] {
			if s != "" {
				s += ","
			}
			s += n + "=" + u
		}
	}
	return s
}
