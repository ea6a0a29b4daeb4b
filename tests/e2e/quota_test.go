package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestSpaceQuota fills a member past --quota-backend-bytes and walks the
// operator's recovery: the NOSPACE alarm refuses puts but not deletes,
// compaction and defragment free the space, disarm lets writes in again,
// and the alarm survives a restart while raised.
func TestSpaceQuota(t *testing.T) {
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("Cairn measures its quota on its own storage; etcd's bbolt sizes differ")
	}
	m := framework.StartMember(t, framework.MemberConfig{Bin: bin, Args: []string{"--quota-backend-bytes=400000"}})
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	value := strings.Repeat("x", 60000)
	var full bool
	for i := 0; i < 200 && !full; i++ {
		_, err := cli.Put(ctx, "q/"+string(rune('a'+i%26))+strings.Repeat("k", i), value)
		switch {
		case errors.Is(err, rpctypes.ErrNoSpace):
			full = true
		case err != nil:
			t.Fatalf("put %d: %v", i, err)
		}
		if i%4 == 3 {
			// Flush so the data is on disk and counted.
			if _, err := cli.Defragment(ctx, m.Endpoint()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !full {
		t.Fatal("no put was refused with NOSPACE after writing far past the quota")
	}
	alarms, err := cli.AlarmList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.Alarms) != 1 || alarms.Alarms[0].Alarm != pb.AlarmType_NOSPACE {
		t.Fatalf("alarms = %v, want one NOSPACE", alarms.Alarms)
	}
	st, err := cli.Status(ctx, m.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Errors) != 1 || !strings.Contains(st.Errors[0], "NOSPACE") {
		t.Fatalf("status errors = %q", st.Errors)
	}

	// The alarm is state: it survives a restart.
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	cli = m.Client(t)
	if _, err := cli.Put(ctx, "q/after-restart", "v"); !errors.Is(err, rpctypes.ErrNoSpace) {
		t.Fatalf("put after restart with the alarm raised: %v, want NOSPACE", err)
	}

	// Recovery: delete, compact, defragment, disarm.
	del, err := cli.Delete(ctx, "q/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("delete while NOSPACE must be allowed: %v", err)
	}
	if _, err := cli.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Defragment(ctx, m.Endpoint()); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AlarmDisarm(ctx, &clientv3.AlarmMember{MemberID: alarms.Alarms[0].MemberID, Alarm: pb.AlarmType_NOSPACE}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "q/small", "v"); err != nil {
		t.Fatalf("put after recovery: %v", err)
	}
	if alarms, err := cli.AlarmList(ctx); err != nil || len(alarms.Alarms) != 0 {
		t.Fatalf("alarms after disarm = %v, %v", alarms, err)
	}
}
