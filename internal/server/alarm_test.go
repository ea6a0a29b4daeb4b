package server

import (
	"errors"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestQuotaNoSpace: once the state outgrows --quota-backend-bytes, writes
// that grow it are refused with ErrNoSpace and the NOSPACE alarm is raised
// through raft (and survives a restart); deletes, reads and compactions
// still pass.
func TestQuotaNoSpace(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.QuotaBackendBytes = 1
	s := startServer(t, opts)
	ctx := testCtx(t)
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil && !errors.Is(err, ErrNoSpace) {
		t.Fatal(err)
	}
	// The quota counts flushed data only; flush it.
	if err := s.Defragment(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k2"), Value: []byte("v")}); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("put over quota: err = %v, want %v", err, ErrNoSpace)
	}
	waitFor(t, "NOSPACE alarm", func() bool {
		as := s.Alarms()
		return len(as) == 1 && as[0].Alarm == pb.AlarmType_NOSPACE && as[0].MemberID == s.ID()
	})
	got, err := s.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_GET})
	if err != nil || len(got.Alarms) != 1 || got.Alarms[0].Alarm != pb.AlarmType_NOSPACE {
		t.Fatalf("alarm list = %v (err %v)", got, err)
	}
	checkHeader(t, s, "alarm", got.Header, 0)
	for name, op := range map[string]func() error{
		"lease grant": func() error { _, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 60}); return err },
		"txn put": func() error {
			_, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{putOp("t", "v")}})
			return err
		},
	} {
		if err := op(); !errors.Is(err, ErrNoSpace) {
			t.Errorf("%s under NOSPACE: err = %v, want %v", name, err, ErrNoSpace)
		}
	}
	for name, op := range map[string]func() error{
		"range":  func() error { _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k")}); return err },
		"delete": func() error { _, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("k")}); return err },
		"compact": func() error {
			_, err := s.Compact(ctx, &pb.CompactionRequest{Revision: s.KV().Rev()})
			return err
		},
		"read-only txn": func() error {
			_, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{rangeOp("k", false)}})
			return err
		},
	} {
		if err := op(); err != nil {
			t.Errorf("%s under NOSPACE: %v", name, err)
		}
	}

	// The alarm is state: it survives a restart.
	s.Stop()
	opts.QuotaBackendBytes = 0 // default quota: only the alarm refuses now
	s = startServer(t, opts)
	if as := s.Alarms(); len(as) != 1 || as[0].Alarm != pb.AlarmType_NOSPACE {
		t.Fatalf("alarms after restart = %v", as)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k3"), Value: []byte("v")}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("put with the alarm raised: err = %v, want %v", err, ErrNoSpace)
	}
	// Disarming it lets writes through again.
	if _, err := s.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: s.ID(), Alarm: pb.AlarmType_NOSPACE}); err != nil {
		t.Fatal(err)
	}
	if as := s.Alarms(); len(as) != 0 {
		t.Errorf("alarms after disarm = %v", as)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k3"), Value: []byte("v")}); err != nil {
		t.Errorf("put after disarm: %v", err)
	}
}
