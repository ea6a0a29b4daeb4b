package bootstrap

import (
	"fmt"
	"slices"
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
				return nil, nil, fmt.Errorf("initial cluster %s has duplicate url", membership.FormatInitialCluster(cluster))
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
			return nil, nil, fmt.Errorf("initial cluster %s has duplicate url", membership.FormatInitialCluster(cluster))
		}
		ids[m.ID] = true
	}
	return members, self, nil
}

// sameURLs compares URL sets after normalising each through url.Parse.
func sameURLs(a, b []string) bool {
	return slices.Equal(membership.NormalizeURLs(a), membership.NormalizeURLs(b))
}
