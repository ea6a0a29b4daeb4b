package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// memberAddEnv parses the ETCD_* lines etcdctl prints after "member add":
// what the runtime-configuration guide tells users to start the new
// member with.
func memberAddEnv(t *testing.T, out string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && strings.HasPrefix(k, "ETCD_") {
			env[k] = strings.Trim(v, `"`)
		}
	}
	for _, k := range []string{"ETCD_NAME", "ETCD_INITIAL_CLUSTER", "ETCD_INITIAL_CLUSTER_STATE"} {
		if env[k] == "" {
			t.Fatalf("member add printed no %s:\n%s", k, out)
		}
	}
	return env
}

// memberIDByName finds a member's hex ID in `etcdctl member list`.
func memberIDByName(t *testing.T, ctl etcdctl, name string) string {
	t.Helper()
	for _, line := range strings.Split(ctl.ok("member", "list"), "\n") {
		f := strings.Split(line, ", ")
		if len(f) >= 3 && f[2] == name {
			return f[0]
		}
	}
	t.Fatalf("member %s not in member list", name)
	return ""
}

// memberAdd runs `etcdctl member add`, retrying while the cluster is too
// young for the strict reconfiguration check: like etcd, Cairn wants every
// peer stream up for 5 s before it adds a voter.
func memberAdd(t *testing.T, ctl etcdctl, args ...string) string {
	t.Helper()
	args = append([]string{"member", "add"}, args...)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		stdout, stderr, err := ctl.run("", args...)
		if err == nil {
			return stdout
		}
		if !strings.Contains(stderr, "unhealthy cluster") || time.Now().After(deadline) {
			t.Fatalf("etcdctl %s: %v\n%s%s", strings.Join(args, " "), err, stdout, stderr)
		}
	}
}

// startAdded starts the member etcdctl just added, with the environment it
// printed, as the runtime-configuration guide does.
func startAdded(t *testing.T, env map[string]string, peerPort int, dir string) *framework.Member {
	t.Helper()
	m := framework.NewMember(t, framework.MemberConfig{
		Name:           env["ETCD_NAME"],
		Dir:            dir,
		PeerPort:       peerPort,
		InitialCluster: env["ETCD_INITIAL_CLUSTER"],
		ClusterState:   env["ETCD_INITIAL_CLUSTER_STATE"],
	})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReadyTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReconfigVoter walks a voter through its life with etcdctl 3.4:
// member add, start with --initial-cluster-state existing, serve, member
// update, member remove (the removed process exits 0 with etcd's words),
// and the refusals of bad requests.
func TestReconfigVoter(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: c.Members[0].Endpoint()}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := c.Client(t)
	for i := 0; i < 50; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("k%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}

	peerPort := framework.FreePort(t)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	out := memberAdd(t, ctl, "m3", "--peer-urls="+peerURL)
	if !strings.Contains(out, "Member") || !strings.Contains(out, "added to cluster") {
		t.Fatalf("member add printed:\n%s", out)
	}
	env := memberAddEnv(t, out)
	if env["ETCD_INITIAL_CLUSTER_STATE"] != "existing" || !strings.Contains(env["ETCD_INITIAL_CLUSTER"], "m3="+peerURL) {
		t.Fatalf("member add env: %v", env)
	}

	// A peer URL in use, and a malformed one, are refused. (The same URL
	// set again within a second gives the same ID, refused as "member ID
	// already exist", as etcd does.)
	if e := ctl.fails("member", "add", "dup", "--peer-urls="+peerURL+",http://127.0.0.1:1"); !strings.Contains(e, "Peer URLs already exists") {
		t.Fatalf("duplicate peer URL: %s", e)
	}
	if e := ctl.fails("member", "add", "bad", "--peer-urls=127.0.0.1"); !strings.Contains(e, "URL") {
		t.Fatalf("bad URL: %s", e)
	}

	m3 := startAdded(t, env, peerPort, t.TempDir())
	m3cli := m3.Client(t)
	resp, err := m3cli.Get(ctx, "k", clientv3.WithPrefix())
	if err != nil || resp.Count != 50 {
		t.Fatalf("get through the new member: %v, %v", resp, err)
	}
	if _, err := m3cli.Put(ctx, "from/m3", "v"); err != nil {
		t.Fatal(err)
	}
	list := ctl.ok("member", "list")
	if strings.Count(list, "started") != 4 || !strings.Contains(list, ", m3, "+peerURL+", ") {
		t.Fatalf("member list after join:\n%s", list)
	}

	// member update: the new URL is recorded and used once m3 restarts on it.
	id := memberIDByName(t, ctl, "m3")
	newPort := framework.FreePort(t)
	newURL := fmt.Sprintf("http://127.0.0.1:%d", newPort)
	if out := ctl.ok("member", "update", id, "--peer-urls="+newURL); !strings.Contains(out, "updated in cluster") {
		t.Fatalf("member update printed:\n%s", out)
	}
	if !strings.Contains(ctl.ok("member", "list"), ", m3, "+newURL+", ") {
		t.Fatalf("member list after update:\n%s", ctl.ok("member", "list"))
	}
	if err := m3.Stop(); err != nil {
		t.Fatal(err)
	}
	cfg := m3.Config()
	m3b := framework.NewMember(t, framework.MemberConfig{
		Name: cfg.Name, Dir: cfg.Dir, ClientPort: cfg.ClientPort, PeerPort: newPort,
		InitialCluster: cfg.InitialCluster, ClusterState: "existing",
	})
	if err := m3b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m3b.WaitReadyTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := m3b.Client(t).Put(ctx, "after/update", "v"); err != nil {
		t.Fatalf("put through m3 on its new URL: %v", err)
	}

	// Errors with etcd's texts.
	if e := ctl.fails("member", "remove", "1234"); !strings.Contains(e, "member not found") {
		t.Fatalf("remove unknown: %s", e)
	}
	if e := ctl.fails("member", "promote", id); !strings.Contains(e, "can only promote a learner member") {
		t.Fatalf("promote a voter: %s", e)
	}
	if e := ctl.fails("member", "update", "1234", "--peer-urls=http://127.0.0.1:1"); !strings.Contains(e, "member not found") {
		t.Fatalf("update unknown: %s", e)
	}

	// member remove: m3 stops for good.
	if out := ctl.ok("member", "remove", id); !strings.Contains(out, "removed from cluster") {
		t.Fatalf("member remove printed:\n%s", out)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := m3b.Wait(wctx); err != nil {
		t.Fatalf("removed member: %v\n%s", err, m3b.LogTail(20))
	}
	if log := m3b.Log(); !strings.Contains(log, "the member has been permanently removed from the cluster") {
		t.Fatalf("removed member's log lacks etcd's words:\n%s", m3b.LogTail(20))
	}
	if list := ctl.ok("member", "list"); strings.Contains(list, "m3") || strings.Count(list, "started") != 3 {
		t.Fatalf("member list after remove:\n%s", list)
	}
	if e := ctl.fails("member", "remove", id); !strings.Contains(e, "member not found") {
		t.Fatalf("remove twice: %s", e)
	}
	// Restarting the removed member does not bring it back.
	if err := m3b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m3b.Wait(wctx); err != nil {
		t.Fatalf("restarted removed member: %v\n%s", err, m3b.LogTail(20))
	}
	if _, err := cli.Put(ctx, "after/remove", "v"); err != nil {
		t.Fatal(err)
	}
}

// TestReconfigLearner adds a learner, which catches up by snapshot (the
// leader's log is compacted far behind), checks what a learner refuses,
// promotes it once it has caught up, and checks --max-learners.
func TestReconfigLearner(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{Args: []string{"--snapshot-count=50", "--snapshot-catchup-entries=10"}})
	ctl := etcdctl{t: t, bin: framework.Etcdctl(t), endpoint: c.Members[1].Endpoint()}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := c.Client(t)
	for i := 0; i < 200; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("k%03d", i), strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}

	peerPort := framework.FreePort(t)
	out := memberAdd(t, ctl, "l0", "--learner", fmt.Sprintf("--peer-urls=http://127.0.0.1:%d", peerPort))
	env := memberAddEnv(t, out)
	if e := ctl.fails("member", "add", "l1", "--learner", fmt.Sprintf("--peer-urls=http://127.0.0.1:%d", framework.FreePort(t))); !strings.Contains(e, "too many learner members in cluster") {
		t.Fatalf("second learner: %s", e)
	}
	id := memberIDByName(t, ctl, "")
	// Not started: not in sync either.
	if e := ctl.fails("member", "promote", id); !strings.Contains(e, "can only promote a learner member which is in sync with leader") {
		t.Fatalf("promote before start: %s", e)
	}

	l0 := startAdded(t, env, peerPort, t.TempDir())
	lcli := l0.Client(t)
	// A learner serves serializable reads and refuses the rest.
	var resp *clientv3.GetResponse
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err = lcli.Get(ctx, "k", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
		if err == nil && resp.Count == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || resp.Count != 200 {
		t.Fatalf("serializable read on the learner: %v, %v", resp, err)
	}
	if !strings.Contains(l0.Log(), "installed snapshot from the leader") {
		t.Fatalf("the learner did not catch up by snapshot:\n%s", l0.LogTail(30))
	}
	if _, err := lcli.Put(ctx, "x", "y"); !errors.Is(err, rpctypes.ErrGRPCNotSupportedForLearner) && (err == nil || !strings.Contains(err.Error(), "rpc not supported for learner")) {
		t.Fatalf("put on a learner: %v", err)
	}
	lctl := etcdctl{t: t, bin: ctl.bin, endpoint: l0.Endpoint()}
	if e := lctl.fails("get", "k000"); !strings.Contains(e, "rpc not supported for learner") {
		t.Fatalf("linearizable get on a learner: %s", e)
	}
	if out := lctl.ok("endpoint", "status"); !strings.Contains(out, "true") {
		t.Fatalf("endpoint status on the learner (IS LEARNER column):\n%s", out)
	}

	// Promote: retried until the learner is in sync, as etcd documents.
	var promoted string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		stdout, stderr, err := ctl.run("", "member", "promote", id)
		if err == nil {
			promoted = stdout
			break
		}
		if !strings.Contains(stderr, "in sync with leader") {
			t.Fatalf("promote: %s", stderr)
		}
	}
	if !strings.Contains(promoted, "promoted in cluster") {
		t.Fatalf("promote never succeeded: %q", promoted)
	}
	if list := ctl.ok("member", "list"); strings.Contains(list, "true") || strings.Count(list, "started") != 4 {
		t.Fatalf("member list after promote:\n%s", list)
	}
	if _, err := lcli.Put(ctx, "from/promoted", "v"); err != nil {
		t.Fatalf("put through the promoted member: %v", err)
	}
	// The promoted member now votes: with two of the original three down
	// the cluster of four still has no quorum, with one down it has.
	if err := c.Members[0].Kill9(); err != nil {
		t.Fatal(err)
	}
	// m0 may have led: writes resume after an election.
	var perr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, perr = lcli.Put(ctx, "one/down", "v"); perr == nil {
			break
		}
	}
	if perr != nil {
		t.Fatalf("put with one of four down: %v", perr)
	}
}

// TestAlreadyBootstrapped: a member whose data dir was wiped, started
// again with the same "new" bootstrap flags while its cluster runs, must
// not found a second cluster under its old identity.
func TestAlreadyBootstrapped(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	m := c.Members[2]
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(m.DataDir()); err != nil {
		t.Fatal(err)
	}
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
	ml, lerr := c.Members[0].Client(t).MemberList(ctx)
	if lerr != nil {
		t.Fatal(lerr)
	}
	var id uint64
	for _, mm := range ml.Members {
		if mm.Name == m.Name() {
			id = mm.ID
		}
	}
	want := fmt.Sprintf("cairn: member %x has already been bootstrapped", id)
	if !strings.Contains(m.LogTail(5), want) {
		t.Fatalf("want %q in:\n%s", want, m.LogTail(10))
	}
}
