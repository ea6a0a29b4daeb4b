package framework

import (
	"fmt"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cluster is a set of members bootstrapped together.
type Cluster struct {
	Members []*Member
}

// StartCluster starts n members named m0…m<n-1> that bootstrap one cluster,
// and waits until each is ready. tmpl gives the fields they share (Bin, Dir,
// Token, Args, Env, timeouts); its Name, ports and InitialCluster are
// ignored.
func StartCluster(t testing.TB, n int, tmpl MemberConfig) *Cluster {
	t.Helper()
	if tmpl.Dir == "" {
		tmpl.Dir = t.TempDir()
	}
	cfgs := make([]MemberConfig, n)
	var initial []string
	for i := range cfgs {
		c := tmpl
		c.Name = fmt.Sprintf("m%d", i)
		c.ClientPort, c.PeerPort = FreePort(t), FreePort(t)
		scheme := c.PeerScheme
		if scheme == "" {
			scheme = "http"
		}
		initial = append(initial, c.Name+"="+schemeURL(scheme, c.PeerPort))
		cfgs[i] = c
	}
	c := &Cluster{}
	for _, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
		m := NewMember(t, cfg)
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		c.Members = append(c.Members, m)
	}
	for _, m := range c.Members {
		if err := m.WaitReadyTimeout(m.cfg.ReadyTimeout); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Endpoints returns the client endpoints of all members.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.Members))
	for i, m := range c.Members {
		eps[i] = m.Endpoint()
	}
	return eps
}

// Client returns a clientv3 client of all members, closed at cleanup.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return NewClient(t, c.Endpoints(), WithTLS(c.Members[0].cfg.ClientTLS))
}
