package bootstrap

import (
	"context"
	"fmt"
	"sort"

	"github.com/cairn-db/cairn/internal/membership"
)

// Static builds the founding members from --initial-cluster (name → peer
// URLs) and the token, and finds this member by name. The errors carry the
// guide's texts word for word. This member's URLs in the cluster and its
// advertised ones are compared with SameURLs, through r (nil: the system
// resolver) when they differ as text.
func Static(ctx context.Context, r Resolver, name string, cluster map[string][]string, advertisePeerURLs []string, token string) (members []*membership.Member, self *membership.Member, err error) {
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
	if same, rerr := SameURLs(ctx, r, self.PeerURLs, advertisePeerURLs); !same {
		msg := fmt.Sprintf("error setting up initial cluster: %s has different advertised URLs in the cluster and advertised peer URLs list", name)
		if rerr != nil {
			// The guide's text stays the line's start; why the
			// names could not be compared follows it.
			return nil, nil, fmt.Errorf("%s (%w)", msg, rerr)
		}
		return nil, nil, fmt.Errorf("%s", msg)
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
