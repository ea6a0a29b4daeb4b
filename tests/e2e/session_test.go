package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// callTimeout bounds each call of the differential script.
const callTimeout = 15 * time.Second

// A session runs the differential script against one member and records
// every answer in a transcript. Its helpers never stop the script: an
// unexpected error or timeout is recorded and shows up in the diff.
type session struct {
	t        *testing.T
	tr       *transcript
	cli      *clientv3.Client
	lease    pb.LeaseClient
	watch    pb.WatchClient
	endpoint string
}

func newSession(t *testing.T, tr *transcript, cli *clientv3.Client, endpoint string) *session {
	conn := cli.ActiveConnection()
	return &session{
		t: t, tr: tr, cli: cli, endpoint: endpoint,
		lease: pb.NewLeaseClient(conn),
		watch: pb.NewWatchClient(conn),
	}
}

func (s *session) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.t.Context(), callTimeout)
}

// do runs one clientv3 operation and records its response or error.
func (s *session) do(name string, op clientv3.Op, opts ...fieldOpt) clientv3.OpResponse {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.Do(ctx, op)
	st := s.tr.add(name)
	st.errorLine(err)
	if err == nil {
		recordOpResponse(st, resp, opts...)
	}
	return resp
}

func recordOpResponse(st *step, resp clientv3.OpResponse, opts ...fieldOpt) {
	switch {
	case resp.Put() != nil:
		st.message("", (*pb.PutResponse)(resp.Put()), opts...)
	case resp.Get() != nil:
		st.message("", (*pb.RangeResponse)(resp.Get()), opts...)
	case resp.Del() != nil:
		st.message("", (*pb.DeleteRangeResponse)(resp.Del()), opts...)
	case resp.Txn() != nil:
		st.message("", (*pb.TxnResponse)(resp.Txn()), opts...)
	}
}

// txn runs If(cmps).Then(then).Else(els) and records the response.
func (s *session) txn(name string, cmps []clientv3.Cmp, then, els []clientv3.Op, opts ...fieldOpt) *pb.TxnResponse {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", (*pb.TxnResponse)(resp), opts...)
	return (*pb.TxnResponse)(resp)
}

// rev returns the store's current revision, unrecorded; 0 on error (which
// then shows in the following steps).
func (s *session) rev() int64 {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.Get(ctx, "\x00unrecorded-revision-probe")
	if err != nil {
		s.t.Logf("revision probe: %v", err)
		return 0
	}
	return resp.Header.Revision
}

// compact compacts at rev (physically) and records the response.
func (s *session) compact(name string, rev int64) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.Compact(ctx, rev, clientv3.WithCompactPhysical())
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", (*pb.CompactionResponse)(resp))
}

// grant grants a lease with an explicit ID (0: the server picks one) and
// records the response.
func (s *session) grant(name string, id, ttl int64, opts ...fieldOpt) *pb.LeaseGrantResponse {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl})
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", resp, opts...)
	return resp
}

func (s *session) revoke(name string, id int64) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.lease.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id})
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", resp)
}

// keepAliveOnce sends one keep-alive on a fresh stream and records the
// single answer as it came on the wire.
func (s *session) keepAliveOnce(name string, id int64) {
	ctx, cancel := s.callCtx()
	defer cancel()
	st := s.tr.add(name)
	stream, err := s.lease.LeaseKeepAlive(ctx)
	if err != nil {
		st.errorLine(err)
		return
	}
	if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: id}); err != nil {
		st.errorLine(err)
		return
	}
	resp, err := stream.Recv()
	st.errorLine(err)
	st.message("", resp)
	_ = stream.CloseSend()
}

// timeToLive records LeaseTimeToLive, attached keys sorted; the remaining
// TTL is compared only as lying in [granted-5, granted].
func (s *session) timeToLive(name string, id int64, keys bool, granted int64) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.lease.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: id, Keys: keys})
	st := s.tr.add(name)
	st.errorLine(err)
	if resp != nil {
		sort.Slice(resp.Keys, func(i, j int) bool { return string(resp.Keys[i]) < string(resp.Keys[j]) })
		if resp.TTL > 0 {
			st.info = append(st.info, fmt.Sprintf("TTL (remaining) = %d", resp.TTL))
		}
	}
	st.message("", resp, within("TTL", granted-5, granted))
}

// leases records LeaseLeases, sorted by ID (etcd's order is a map's).
func (s *session) leases(name string) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.lease.LeaseLeases(ctx, &pb.LeaseLeasesRequest{})
	st := s.tr.add(name)
	st.errorLine(err)
	if resp != nil {
		sort.Slice(resp.Leases, func(i, j int) bool { return resp.Leases[i].ID < resp.Leases[j].ID })
	}
	st.message("", resp)
}

// waitGone polls, unrecorded, until key does not exist (a lease expired).
func (s *session) waitGone(key string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := s.callCtx()
		resp, err := s.cli.Get(ctx, key, clientv3.WithCountOnly())
		cancel()
		if err == nil && resp.Count == 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// statusInfo marks the Status fields that may legitimately differ between
// implementations: shown, not compared.
var statusInfo = informational("version", "dbSize", "dbSizeInUse", "raftIndex", "raftAppliedIndex",
	"storageVersion", "dbSizeQuota", "downgradeInfo.enabled", "downgradeInfo.targetVersion")

func (s *session) status(name string) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.Status(ctx, s.endpoint)
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", (*pb.StatusResponse)(resp), statusInfo)
}

func (s *session) memberList(name string) {
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := s.cli.MemberList(ctx)
	st := s.tr.add(name)
	st.errorLine(err)
	st.message("", (*pb.MemberListResponse)(resp))
}
