package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/membership"
)

// MembersPath is the peer-port path that lists a running cluster's members,
// with the cluster ID in the HeaderClusterID header (etcd's layout).
const (
	MembersPath     = "/members"
	HeaderClusterID = "X-Etcd-Cluster-ID"
)

// ErrFetchCluster: no peer answered with its member list.
var ErrFetchCluster = errors.New("cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs")

// RemoteCluster is a running cluster as one of its members reports it.
type RemoteCluster struct {
	ID      uint64
	Members []*membership.Member
}

// Member returns the member with id, or nil.
func (c *RemoteCluster) Member(id uint64) *membership.Member {
	for _, m := range c.Members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// wireMember is one entry of GET /members: etcd encodes the ID as a
// decimal number.
type wireMember struct {
	ID         uint64   `json:"id"`
	PeerURLs   []string `json:"peerURLs"`
	IsLearner  bool     `json:"isLearner,omitempty"`
	Name       string   `json:"name,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
}

// EncodeMembers writes the /members answer for members.
func EncodeMembers(w io.Writer, members []*membership.Member) error {
	out := make([]wireMember, 0, len(members))
	for _, m := range members {
		out = append(out, wireMember{ID: m.ID, PeerURLs: m.PeerURLs, IsLearner: m.IsLearner, Name: m.Name, ClientURLs: m.ClientURLs})
	}
	return json.NewEncoder(w).Encode(out)
}

// DecodeMembers parses a /members answer.
func DecodeMembers(r io.Reader) ([]*membership.Member, error) {
	var in []wireMember
	if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&in); err != nil {
		return nil, fmt.Errorf("bootstrap: bad member list: %w", err)
	}
	out := make([]*membership.Member, 0, len(in))
	for _, w := range in {
		if w.ID == 0 || len(w.PeerURLs) == 0 {
			return nil, fmt.Errorf("bootstrap: bad member list: member without ID or peer URLs")
		}
		out = append(out, &membership.Member{ID: w.ID, Name: w.Name, PeerURLs: w.PeerURLs, ClientURLs: w.ClientURLs, IsLearner: w.IsLearner})
	}
	return out, nil
}

// FetchCluster asks the peers at urls, in turn, for the running cluster's
// members; the first good answer wins.
func FetchCluster(ctx context.Context, client *http.Client, urls []string) (*RemoteCluster, error) {
	var errs []error
	for _, u := range urls {
		rc, err := fetchOne(ctx, client, u)
		if err == nil {
			return rc, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w (%v)", ErrFetchCluster, errors.Join(errs...))
}

func fetchOne(ctx context.Context, client *http.Client, base string) (*RemoteCluster, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+MembersPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %s", resp.Status)
	}
	id, err := strconv.ParseUint(resp.Header.Get(HeaderClusterID), 16, 64)
	if err != nil {
		return nil, fmt.Errorf("no cluster ID in the answer")
	}
	ms, err := DecodeMembers(resp.Body)
	if err != nil {
		return nil, err
	}
	return &RemoteCluster{ID: id, Members: ms}, nil
}

// PeerURLsExcept lists the peer URLs of every member of --initial-cluster
// but name: where a joining member asks for the member list.
func PeerURLsExcept(cluster map[string][]string, name string) []string {
	var out []string
	for n, urls := range cluster {
		if n != name {
			out = append(out, urls...)
		}
	}
	sort.Strings(out)
	return out
}

// Join checks --initial-cluster against the running cluster it joins, as
// etcd does: the same number of members, with the same peer URLs. It
// returns this member's record, carrying the ID the cluster gave it when it
// was added.
func Join(ctx context.Context, r Resolver, name string, cluster map[string][]string, advertisePeerURLs []string, remote *RemoteCluster) (*membership.Member, error) {
	local, self, err := Static(ctx, r, name, cluster, advertisePeerURLs, "")
	if err != nil {
		return nil, err
	}
	if len(local) != len(remote.Members) {
		return nil, fmt.Errorf("member count is unequal")
	}
	key := func(m *membership.Member) string {
		urls := membership.NormalizeURLs(m.PeerURLs)
		slices.Sort(urls)
		return strings.Join(urls, ",")
	}
	byURLs := func(ms []*membership.Member) []*membership.Member {
		out := slices.Clone(ms)
		slices.SortFunc(out, func(a, b *membership.Member) int { return strings.Compare(key(a), key(b)) })
		return out
	}
	lms, rms := byURLs(local), byURLs(remote.Members)
	for i := range lms {
		if key(lms[i]) != key(rms[i]) {
			return nil, fmt.Errorf("unmatched member while checking PeerURLs (%q != %q)", key(lms[i]), key(rms[i]))
		}
		if lms[i] == self {
			joined := rms[i].Clone()
			joined.Name = name
			return joined, nil
		}
	}
	return nil, fmt.Errorf("%s not listed in the initial cluster config", name)
}
