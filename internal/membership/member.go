package membership

import (
	"sort"
)

// Member is one member of the cluster.
type Member struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

// NewMember returns a member with its ID computed from peerURLs and token.
func NewMember(name string, peerURLs []string, token string) *Member {
	urls := append([]string(nil), peerURLs...)
	sort.Strings(urls)
	return &Member{ID: MemberID(urls, token, nil), Name: name, PeerURLs: urls}
}

// Clone returns a deep copy.
func (m *Member) Clone() *Member {
	c := *m
	c.PeerURLs = append([]string(nil), m.PeerURLs...)
	c.ClientURLs = append([]string(nil), m.ClientURLs...)
	return &c
}
