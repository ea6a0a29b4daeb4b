package robustness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Node is one member of a Cluster, with the proxy in front of its peer
// port and a client of its own endpoint only.
type Node struct {
	*framework.Member
	Proxy *framework.Proxy
	ID    uint64
	admin *clientv3.Client
}

// Cluster is a cluster of members, each behind a fault-injecting peer
// proxy: a member listens on its peer port, and advertises (and is listed
// in every --initial-cluster under) its proxy's port. Its methods are safe
// for concurrent use; the faults that change it run one at a time.
type Cluster struct {
	t    testing.TB
	bin  string
	dir  string
	args []string

	mu struct {
		sync.Mutex
		nodes     []*Node                       // protected by mu; the current members
		nextName  int                           // protected by mu; number of the next member's name
		listeners []func(endpoints []string)    // protected by mu; told the new endpoints on a change
		all       []*framework.Member           // protected by mu; every member ever started
		clients   map[*clientv3.Client]struct{} // protected by mu; closed at cleanup
	}
}

// startCluster starts n members bootstrapped together, each with its peer
// proxy, and waits until each is ready.
func startCluster(t testing.TB, n int, args []string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bin: framework.Binary(t), dir: t.TempDir(), args: args}
	c.mu.clients = map[*clientv3.Client]struct{}{}
	t.Cleanup(c.closeClients)

	type plan struct {
		name                string
		client, peer, proxy int
	}
	plans := make([]plan, n)
	var initial []string
	for i := range plans {
		plans[i] = plan{fmt.Sprintf("m%d", i), framework.FreePort(t), framework.FreePort(t), framework.FreePort(t)}
		initial = append(initial, plans[i].name+"="+loopbackURL(plans[i].proxy))
	}
	c.mu.nextName = n
	for _, p := range plans {
		proxy := framework.NewProxy(t, p.proxy, loopbackAddr(p.peer))
		m := framework.NewMember(t, framework.MemberConfig{
			Bin: c.bin, Name: p.name, Dir: c.dir,
			ClientPort: p.client, PeerPort: p.peer, AdvertisePeerPort: p.proxy,
			InitialCluster: strings.Join(initial, ","),
			Args:           args,
		})
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		c.mu.nodes = append(c.mu.nodes, &Node{Member: m, Proxy: proxy})
		c.mu.all = append(c.mu.all, m)
	}
	for _, nd := range c.mu.nodes {
		if err := nd.WaitReadyTimeout(nd.Config().ReadyTimeout); err != nil {
			t.Fatal(err)
		}
		if err := c.attach(nd); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func loopbackURL(port int) string  { return "http://" + loopbackAddr(port) }
func loopbackAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// attach gives nd its admin client and learns its member ID.
func (c *Cluster) attach(nd *Node) error {
	cli, err := c.newClient([]string{nd.Endpoint()})
	if err != nil {
		return err
	}
	nd.admin = cli
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, nd.Endpoint())
	if err != nil {
		return fmt.Errorf("status of %s: %w", nd.Name(), err)
	}
	nd.ID = st.Header.MemberId
	return nil
}

// newClient returns a client of endpoints, closed at cleanup. Unlike
// framework.NewClient it may be called from any goroutine.
func (c *Cluster) newClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          5 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("client of %v: %w", endpoints, err)
	}
	c.mu.Lock()
	c.mu.clients[cli] = struct{}{}
	c.mu.Unlock()
	return cli, nil
}

func (c *Cluster) closeClients() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cli := range c.mu.clients {
		cli.Close()
	}
	c.mu.clients = nil
}

// Nodes returns the current members.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.mu.nodes...)
}

// allMembers returns every member ever started, removed ones included.
func (c *Cluster) allMembers() []*framework.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*framework.Member(nil), c.mu.all...)
}

// Endpoints returns the client endpoints of the current members.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, nd := range c.Nodes() {
		eps = append(eps, nd.Endpoint())
	}
	return eps
}

// OnEndpoints registers f to be told the endpoints whenever membership
// changes.
func (c *Cluster) OnEndpoints(f func([]string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.listeners = append(c.mu.listeners, f)
}

// Leader returns the member that the running members agree leads, or an
// error.
func (c *Cluster) Leader(ctx context.Context) (*Node, error) {
	var leader uint64
	for _, nd := range c.Nodes() {
		if !nd.Running() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := nd.admin.Status(sctx, nd.Endpoint())
		cancel()
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", nd.Name(), err)
		}
		if st.Leader == 0 {
			return nil, fmt.Errorf("%s has no leader", nd.Name())
		}
		if leader != 0 && st.Leader != leader {
			return nil, fmt.Errorf("members disagree on the leader (%x, %x)", leader, st.Leader)
		}
		leader = st.Leader
	}
	for _, nd := range c.Nodes() {
		if nd.ID == leader {
			return nd, nil
		}
	}
	return nil, fmt.Errorf("the leader %x is not a member", leader)
}

// WaitHealthy waits until every member runs, every proxy passes, the
// members agree on a leader, and a linearizable read succeeds through
// each member.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		if last = c.healthy(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context) error {
	for _, nd := range c.Nodes() {
		if !nd.Running() {
			return fmt.Errorf("%s is not running", nd.Name())
		}
		if nd.Proxy.Mode() != framework.ProxyPass {
			return fmt.Errorf("the proxy of %s is in mode %s", nd.Name(), nd.Proxy.Mode())
		}
	}
	if _, err := c.Leader(ctx); err != nil {
		return err
	}
	for _, nd := range c.Nodes() {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := nd.admin.Get(gctx, "robustness-health-probe")
		cancel()
		if err != nil {
			return fmt.Errorf("read through %s: %w", nd.Name(), err)
		}
	}
	return nil
}

// Heal undoes every fault still in place: it lets every proxy pass and
// restarts every member that is not running.
func (c *Cluster) Heal() error {
	var errs []error
	for _, nd := range c.Nodes() {
		nd.Proxy.SetMode(framework.ProxyPass)
		if !nd.Running() {
			if err := nd.Restart(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// reconfigRetry is the pause between two attempts at a membership change
// the cluster refused for now (etcd refuses one that would leave too few
// members connected, e.g. just after a restart).
const reconfigRetry = 500 * time.Millisecond

// retryReconfig calls f until it succeeds, fails for good, or ctx is done.
// An error that says the change may work later is retried; so is a
// timeout, so f must be idempotent.
func retryReconfig(ctx context.Context, f func(ctx context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		transient := errors.Is(err, rpctypes.ErrUnhealthy) || errors.Is(err, rpctypes.ErrGRPCUnhealthy) ||
			errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.Unavailable ||
			status.Code(err) == codes.DeadlineExceeded
		if !transient {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(reconfigRetry):
		}
	}
}

// replace removes member old (through another member), stops it, adds a
// fresh member with a new name, ports and data dir, and starts it with
// --initial-cluster-state existing and the member list the add returned.
func (c *Cluster) replace(ctx context.Context, old *Node) (*Node, error) {
	var via *Node
	for _, nd := range c.Nodes() {
		if nd != old && nd.Running() {
			via = nd
			break
		}
	}
	if via == nil {
		return nil, errors.New("no other running member")
	}
	err := retryReconfig(ctx, func(ctx context.Context) error {
		_, err := via.admin.MemberRemove(ctx, old.ID)
		if errors.Is(err, rpctypes.ErrMemberNotFound) || errors.Is(err, rpctypes.ErrGRPCMemberNotFound) {
			return nil // an earlier attempt did it
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("remove %s: %w", old.Name(), err)
	}
	// The removed member stops by itself once it learns it; make sure.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_ = old.Wait(wctx)
	cancel()
	if err := old.Kill9(); err != nil {
		return nil, err
	}
	old.Proxy.SetMode(framework.ProxyRefuse)

	c.mu.Lock()
	name := fmt.Sprintf("m%d", c.mu.nextName)
	c.mu.nextName++
	c.mu.Unlock()
	client, peer, proxyPort := framework.FreePort(c.t), framework.FreePort(c.t), framework.FreePort(c.t)
	proxy, err := framework.StartProxy(proxyPort, loopbackAddr(peer))
	if err != nil {
		return nil, err
	}
	c.t.Cleanup(func() { proxy.Close() })

	// Add the member by its advertised URL; learn the others' from the
	// member list.
	url := loopbackURL(proxyPort)
	var members []*etcdserverpb.Member
	err = retryReconfig(ctx, func(ctx context.Context) error {
		_, err := via.admin.MemberAdd(ctx, []string{url})
		if err != nil && !errors.Is(err, rpctypes.ErrPeerURLExist) && !errors.Is(err, rpctypes.ErrGRPCPeerURLExist) {
			return err
		}
		ml, err := via.admin.MemberList(ctx)
		if err != nil {
			return err
		}
		members = ml.Members
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", name, err)
	}
	var initial []string
	for _, m := range members {
		n := m.Name
		if slices.Contains(m.PeerURLs, url) {
			n = name
		}
		for _, u := range m.PeerURLs {
			initial = append(initial, n+"="+u)
		}
	}
	m := framework.NewMember(c.t, framework.MemberConfig{
		Bin: c.bin, Name: name, Dir: c.dir,
		ClientPort: client, PeerPort: peer, AdvertisePeerPort: proxyPort,
		InitialCluster: strings.Join(initial, ","),
		ClusterState:   "existing",
		Args:           c.args,
	})
	c.mu.Lock()
	c.mu.all = append(c.mu.all, m)
	c.mu.Unlock()
	if err := m.Start(); err != nil {
		return nil, err
	}
	if err := m.WaitReady(ctx); err != nil {
		return nil, err
	}
	nd := &Node{Member: m, Proxy: proxy}
	if err := c.attach(nd); err != nil {
		return nil, err
	}
	c.mu.Lock()
	for i, x := range c.mu.nodes {
		if x == old {
			c.mu.nodes[i] = nd
		}
	}
	listeners := slices.Clone(c.mu.listeners)
	c.mu.Unlock()
	eps := c.Endpoints()
	for _, f := range listeners {
		f(eps)
	}
	return nd, nil
}
