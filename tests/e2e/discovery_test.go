package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
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
	members := startBootstrapping(t, args, "d0", "d1", "d2")
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

// startDiscoveryMembers starts members bootstrapping with --discovery url
// and waits until they are all ready.
func startDiscoveryMembers(t *testing.T, url string, names ...string) []*framework.Member {
	t.Helper()
	return startBootstrapping(t, []string{"--discovery", url}, names...)
}

// startBootstrapping starts members named names with bootstrap flags args
// instead of --initial-cluster, together, and waits until all are ready.
func startBootstrapping(t *testing.T, args []string, names ...string) []*framework.Member {
	t.Helper()
	var ms []*framework.Member
	for _, n := range names {
		m := framework.NewMember(t, framework.MemberConfig{Name: n, NoInitialCluster: true, Args: args})
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ms))
	for i, m := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.WaitReadyTimeout(time.Minute) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ms
}

// checkDiscoveredIDs checks that the cluster's members have the IDs etcd
// computes with the discovery URL as the cluster token.
func checkDiscoveredIDs(t *testing.T, ms []*framework.Member, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ml, err := ms[0].Client(t).MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	var ids []uint64
	for _, m := range ms {
		id := membership.MemberID([]string{m.AdvertisePeerURL()}, token, nil)
		want[m.Name()] = id
		ids = append(ids, id)
	}
	if len(ml.Members) != len(ms) {
		t.Fatalf("%d members, want %d", len(ml.Members), len(ms))
	}
	for _, m := range ml.Members {
		if want[m.Name] != m.ID {
			t.Fatalf("member %s has ID %x, want %x", m.Name, m.ID, want[m.Name])
		}
	}
	if ml.Header.ClusterId != membership.ClusterID(ids) {
		t.Fatalf("cluster ID %x, want %x", ml.Header.ClusterId, membership.ClusterID(ids))
	}
}

// TestDiscoveryV2Custom is the guide's custom discovery: a Cairn cluster's
// v2 keys API holds the token directory, the size is set with curl's
// request, and three members started with --discovery form the cluster.
// A URL without a size gives the guide's error.
func TestDiscoveryV2Custom(t *testing.T) {
	backing := framework.StartMember(t, framework.MemberConfig{Name: "myetcd"})
	token := "6c007a14875d53d9bf0ef5a6fc0257c817f0fb83"
	url := backing.ClientURL() + "/v2/keys/discovery/" + token
	// curl -X PUT <url>/_config/size -d value=3
	req, _ := http.NewRequest(http.MethodPut, url+"/_config/size", strings.NewReader("value=3"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT size: %s", resp.Status)
	}
	ms := startDiscoveryMembers(t, url, "infra0", "infra1", "infra2")
	checkDiscoveredIDs(t, ms, url)

	// No size configured: the guide's error, exit 1.
	bad := framework.NewMember(t, framework.MemberConfig{Name: "lost", NoInitialCluster: true,
		Args: []string{"--discovery", backing.ClientURL() + "/v2/keys/discovery/nosuchtoken"}})
	res := runUntilExit(t, bad)
	want := "cairn: error: the cluster doesn't have a size configuration value in " + backing.ClientURL() + "/v2/keys/discovery/nosuchtoken/_config"
	if res != want {
		t.Fatalf("last line %q\nwant %q", res, want)
	}
	// A restarted member ignores --discovery, with etcd's warning.
	if err := ms[1].Restart(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ms[1].Log(), "discovery token ignored since a cluster has already been initialized. Valid log found at "+ms[1].DataDir()) {
		t.Fatalf("no warning on restart:\n%s", ms[1].LogTail(10))
	}
}

// runUntilExit starts m, waits for it to exit with status 1 and returns
// the last line of its log.
func runUntilExit(t *testing.T, m *framework.Member) string {
	t.Helper()
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.Wait(ctx)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, m.LogTail(10))
	}
	lines := strings.Split(strings.TrimSpace(m.LogTail(3)), "\n")
	return lines[len(lines)-1]
}

// TestDiscoveryService is the guide's public discovery section against a
// local `cairn discovery`: /new?size=3 hands out a URL, and three members
// started with it form the cluster.
func TestDiscoveryService(t *testing.T) {
	backing := framework.StartMember(t, framework.MemberConfig{Name: "registry"})
	port := framework.FreePort(t)
	svcURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := exec.CommandContext(ctx, framework.Binary(t), "discovery", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--etcd", backing.ClientURL(), "--host", svcURL)
	svc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	svc.Stdout, svc.Stderr = &out, &out
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Process.Signal(syscall.SIGTERM); svc.Wait() })
	var discURL string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(svcURL + "/new?size=3")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				discURL = strings.TrimSpace(string(b))
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery service not answering /new: %v\n%s", err, out.String())
		}
	}
	if !strings.HasPrefix(discURL, svcURL+"/") || len(strings.TrimPrefix(discURL, svcURL+"/")) != 32 {
		t.Fatalf("/new answered %q", discURL)
	}
	ms := startDiscoveryMembers(t, discURL, "infra0", "infra1", "infra2")
	checkDiscoveredIDs(t, ms, discURL)
	// The registrations live in the backing cluster's v2 keys.
	resp, err := http.Get(backing.ClientURL() + "/v2/keys/_etcd/registry/" + strings.TrimPrefix(discURL, svcURL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(b), `"key":"/_etcd/registry/`) < 4 { // the dir's _config and three members
		t.Fatalf("registry directory: %s", b)
	}
}
