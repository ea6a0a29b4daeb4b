package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
)

// TestDiscoveryV3: three members started with --discovery-token and
// --discovery-endpoints (no --initial-cluster) meet on another cluster and
// form one; the discovery token is the cluster token, as in etcd. A fourth
// member finds the cluster full.
func TestDiscoveryV3(t *testing.T) {
	disc := framework.StartMember(t, framework.MemberConfig{Name: "disc"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const token = "cairn-v3-discovery-test"
	if _, err := disc.Client(t).Put(ctx, "/_etcd/registry/"+token+"/_config/size", "3"); err != nil {
		t.Fatal(err)
	}
	args := []string{"--discovery-token", token, "--discovery-endpoints", disc.Endpoint()}
	var members []*framework.Member
	for i := 0; i < 3; i++ {
		m := framework.NewMember(t, framework.MemberConfig{Name: fmt.Sprintf("d%d", i), NoInitialCluster: true, Args: args})
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.WaitReadyTimeout(time.Minute) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ml, err := members[0].Client(t).MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	var ids []uint64
	for _, m := range members {
		id := membership.MemberID([]string{m.AdvertisePeerURL()}, token, nil)
		ids = append(ids, id)
		want = append(want, fmt.Sprintf("%s %x", m.Name(), id))
	}
	for _, m := range ml.Members {
		got = append(got, fmt.Sprintf("%s %x", m.Name, m.ID))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("members %v, want %v", got, want)
	}
	if ml.Header.ClusterId != membership.ClusterID(ids) {
		t.Fatalf("cluster ID %x, want %x", ml.Header.ClusterId, membership.ClusterID(ids))
	}
	if _, err := members[2].Client(t).Put(ctx, "found", "by discovery"); err != nil {
		t.Fatal(err)
	}

	late := framework.NewMember(t, framework.MemberConfig{Name: "late", NoInitialCluster: true, Args: args})
	if err := late.Start(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := late.Wait(wctx); err == nil || !strings.Contains(late.LogTail(3), "discovery: cluster is full") {
		t.Fatalf("a fourth member: %v\n%s", err, late.LogTail(5))
	}
}
