package bootstrap

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// v3 discovery (--discovery-token, --discovery-endpoints): the members of
// a new cluster meet under /_etcd/registry/<token>/ on an existing cluster,
// through the v3 API. _config/size holds the expected size; each member
// puts members/<id hex> = "<name>=<peer URL>[,<name>=<peer URL>...]"; the
// first size members by create revision form the initial cluster.

// The errors are shared with v2 discovery (discovery.go); v3 returns
// ErrSizeNotFound bare, as etcd does.

// V3DiscoveryOptions configure DiscoverV3.
type V3DiscoveryOptions struct {
	Client   *clientv3.Client // a client of --discovery-endpoints
	Token    string           // --discovery-token
	Name     string           // --name
	MemberID uint64           // computed from PeerURLs with Token as the cluster token
	PeerURLs []string         // --initial-advertise-peer-urls
	// RequestTimeout bounds each request (--discovery-request-timeout).
	RequestTimeout time.Duration
	Logger         *zap.Logger
}

func v3Prefix(token string) string { return "/_etcd/registry/" + token }

// DiscoverV3 registers this member and waits until the cluster is complete;
// it returns the --initial-cluster string of the first size members.
func DiscoverV3(ctx context.Context, o V3DiscoveryOptions) (string, error) {
	lg := o.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	size, err := v3Size(ctx, o)
	if err != nil {
		return "", err
	}
	membersPfx := v3Prefix(o.Token) + "/members/"
	selfKey := membersPfx + membership.FormatID(o.MemberID)

	members, _, err := v3Members(ctx, o, membersPfx)
	if err != nil {
		return "", err
	}
	if err := v3CheckFull(members, selfKey, size); err != nil {
		return "", err
	}
	value := memberValue(o.Name, o.PeerURLs)
	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	resp, err := o.Client.Txn(rctx).
		If(clientv3.Compare(clientv3.CreateRevision(selfKey), "=", 0)).
		Then(clientv3.OpPut(selfKey, value)).
		Else(clientv3.OpGet(selfKey)).Commit()
	cancel()
	if err != nil {
		return "", fmt.Errorf("discovery: register %s: %w", selfKey, err)
	}
	if !resp.Succeeded {
		got := resp.Responses[0].GetResponseRange().Kvs
		if len(got) == 0 || string(got[0].Value) != value {
			return "", ErrDuplicateID
		}
		// Our own registration from an earlier, interrupted start.
	}
	lg.Info("registered with v3 discovery", zap.String("key", selfKey), zap.Int("size", size))

	for {
		members, rev, err := v3Members(ctx, o, membersPfx)
		if err != nil {
			return "", err
		}
		if err := v3CheckFull(members, selfKey, size); err != nil {
			return "", err
		}
		if len(members) >= size {
			return v3InitialCluster(members[:size])
		}
		lg.Info("waiting for more members to register", zap.Int("registered", len(members)), zap.Int("size", size))
		wctx, wcancel := context.WithCancel(ctx)
		wch := o.Client.Watch(wctx, membersPfx, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		select {
		case <-wch:
		case <-ctx.Done():
		}
		wcancel()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

func memberValue(name string, urls []string) string {
	parts := make([]string, 0, len(urls))
	for _, u := range urls {
		parts = append(parts, name+"="+u)
	}
	return strings.Join(parts, ",")
}

func v3Size(ctx context.Context, o V3DiscoveryOptions) (int, error) {
	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	resp, err := o.Client.Get(rctx, v3Prefix(o.Token)+"/_config/size")
	if err != nil {
		return 0, fmt.Errorf("discovery: read the size: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, ErrSizeNotFound
	}
	n, err := strconv.Atoi(string(resp.Kvs[0].Value))
	if err != nil || n <= 0 {
		return 0, ErrBadSizeKey
	}
	return n, nil
}

type v3Member struct {
	key, value string
	created    int64
}

func v3Members(ctx context.Context, o V3DiscoveryOptions, pfx string) ([]v3Member, int64, error) {
	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	resp, err := o.Client.Get(rctx, pfx, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("discovery: list members: %w", err)
	}
	out := make([]v3Member, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, v3Member{key: string(kv.Key), value: string(kv.Value), created: kv.CreateRevision})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].created < out[j].created })
	return out, resp.Header.Revision, nil
}

// v3CheckFull reports a full cluster: size members registered before us.
func v3CheckFull(members []v3Member, selfKey string, size int) error {
	for i, m := range members {
		if m.key == selfKey {
			if i >= size {
				return ErrFullCluster
			}
			return nil
		}
	}
	if len(members) >= size {
		return ErrFullCluster
	}
	return nil
}

func v3InitialCluster(members []v3Member) (string, error) {
	names := map[string]bool{}
	parts := make([]string, 0, len(members))
	for _, m := range members {
		name := ""
		for _, pair := range strings.Split(m.value, ",") {
			n, u, ok := strings.Cut(pair, "=")
			if !ok || n == "" || u == "" || (name != "" && n != name) {
				return "", fmt.Errorf("discovery: bad member value %q under %s", m.value, m.key)
			}
			name = n
		}
		if names[name] {
			return "", ErrDuplicateName
		}
		names[name] = true
		parts = append(parts, m.value)
	}
	return strings.Join(parts, ","), nil
}
