package server

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

// alarmPrefix keys alarms under storage.PrefixApply: 'l', member ID, type.
var alarmPrefix = []byte{storage.PrefixApply, 'l'}

func alarmKey(member uint64, t pb.AlarmType) []byte {
	k := storage.PutUint64(append([]byte(nil), alarmPrefix...), member)
	return storage.PutUint64(k, uint64(t))
}

// alarms are the raised alarms of the cluster, changed only by apply.
type alarms struct {
	mu struct {
		sync.RWMutex
		set map[uint64]map[pb.AlarmType]bool // protected by mu; member → raised types
	}
}

// reload replaces the raised alarms with those r holds (snapshot install).
func (a *alarms) reload(r storage.Reader) error {
	n, err := loadAlarms(r)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mu.set = n.mu.set
	return nil
}

func loadAlarms(r storage.Reader) (*alarms, error) {
	a := &alarms{}
	a.mu.set = make(map[uint64]map[pb.AlarmType]bool)
	it, err := r.NewIter(&storage.IterOptions{LowerBound: alarmPrefix, UpperBound: storage.PrefixEnd(alarmPrefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(alarmPrefix):]
		m, ok1 := storage.Uint64(k)
		t, ok2 := storage.Uint64(k[8:])
		if !ok1 || !ok2 {
			return nil, ErrCorrupt
		}
		a.addLocked(m, pb.AlarmType(t))
	}
	return a, nil
}

func (a *alarms) addLocked(m uint64, t pb.AlarmType) {
	if a.mu.set[m] == nil {
		a.mu.set[m] = make(map[pb.AlarmType]bool)
	}
	a.mu.set[m][t] = true
}

// active reports whether any member raised an alarm of type t.
func (a *alarms) active(t pb.AlarmType) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, ts := range a.mu.set {
		if ts[t] {
			return true
		}
	}
	return false
}

// list returns the raised alarms, filtered by member and type when set.
func (a *alarms) list(member uint64, t pb.AlarmType) []*pb.AlarmMember {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []*pb.AlarmMember
	for m, ts := range a.mu.set {
		if member != 0 && m != member {
			continue
		}
		for at := range ts {
			if t != pb.AlarmType_NONE && at != t {
				continue
			}
			out = append(out, &pb.AlarmMember{MemberID: m, Alarm: at})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MemberID != out[j].MemberID {
			return out[i].MemberID < out[j].MemberID
		}
		return out[i].Alarm < out[j].Alarm
	})
	return out
}

func (s *Server) applyAlarm(round *applyRound, req *pb.AlarmRequest) result {
	resp := &pb.AlarmResponse{Header: &pb.ResponseHeader{Revision: s.pendingRev(round)}}
	switch req.Action {
	case pb.AlarmRequest_GET:
		resp.Alarms = s.alarms.list(req.MemberID, req.Alarm)
	case pb.AlarmRequest_ACTIVATE:
		if req.Alarm == pb.AlarmType_NONE {
			return result{resp: resp}
		}
		if err := round.b.Set(alarmKey(req.MemberID, req.Alarm), nil, nil); err != nil {
			return result{err: &fatalError{err}}
		}
		s.alarms.mu.Lock()
		s.alarms.addLocked(req.MemberID, req.Alarm)
		s.alarms.mu.Unlock()
		resp.Alarms = []*pb.AlarmMember{{MemberID: req.MemberID, Alarm: req.Alarm}}
		s.lg.Warn("alarm raised", zap.String("alarm", req.Alarm.String()), zap.Uint64("member-id", req.MemberID))
	case pb.AlarmRequest_DEACTIVATE:
		s.alarms.mu.Lock()
		raised := s.alarms.mu.set[req.MemberID][req.Alarm]
		if raised {
			delete(s.alarms.mu.set[req.MemberID], req.Alarm)
		}
		s.alarms.mu.Unlock()
		if !raised {
			return result{resp: resp}
		}
		if err := round.b.Delete(alarmKey(req.MemberID, req.Alarm), nil); err != nil {
			return result{err: &fatalError{err}}
		}
		resp.Alarms = []*pb.AlarmMember{{MemberID: req.MemberID, Alarm: req.Alarm}}
		s.lg.Info("alarm cleared", zap.String("alarm", req.Alarm.String()), zap.Uint64("member-id", req.MemberID))
	}
	return result{resp: resp}
}

// Alarm gets, raises or clears alarms through raft, as etcd does.
func (s *Server) Alarm(ctx context.Context, req *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	r, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.AlarmResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// Alarms lists every raised alarm from local state (for Status).
func (s *Server) Alarms() []*pb.AlarmMember { return s.alarms.list(0, pb.AlarmType_NONE) }

// checkQuota refuses a request that could grow the database while the
// NOSPACE alarm is raised, and raises it when the database has outgrown
// --quota-backend-bytes. Deletes, reads and compactions always pass, so an
// operator can free space (etcd's rule).
func (s *Server) checkQuota(req *pb.InternalRaftRequest) error {
	if !growsDB(req) {
		return nil
	}
	if s.alarms.active(pb.AlarmType_NOSPACE) {
		return ErrNoSpace
	}
	if s.stateBytes() <= s.opts.QuotaBackendBytes {
		return nil
	}
	if !s.quota.raising.CompareAndSwap(false, true) {
		return ErrNoSpace // a NOSPACE proposal is already on its way
	}
	s.goAttach(func() {
		defer s.quota.raising.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
		defer cancel()
		_, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: &pb.AlarmRequest{
			Action: pb.AlarmRequest_ACTIVATE, MemberID: s.id, Alarm: pb.AlarmType_NOSPACE,
		}})
		if err != nil {
			s.lg.Warn("failed to raise NOSPACE alarm", zap.Error(err))
		}
	})
	return ErrNoSpace
}

func growsDB(req *pb.InternalRaftRequest) bool {
	switch {
	case req.Put != nil, req.LeaseGrant != nil:
		return true
	case req.Txn != nil:
		return txnHasPut(req.Txn)
	}
	return false
}

func txnHasPut(t *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			switch r := op.Request.(type) {
			case *pb.RequestOp_RequestPut:
				return true
			case *pb.RequestOp_RequestTxn:
				if txnHasPut(r.RequestTxn) {
					return true
				}
			}
		}
	}
	return false
}

// stateBytesMaxAge bounds how stale the size reading behind the quota may
// be: estimating disk usage on every write would cost more than the write.
const stateBytesMaxAge = 100 * time.Millisecond

// stateBytes returns the state keyspaces' size, re-estimated at most every
// stateBytesMaxAge.
func (s *Server) stateBytes() int64 {
	now := time.Now().UnixNano()
	if now-s.quota.readAt.Load() < int64(stateBytesMaxAge) {
		return s.quota.bytes.Load()
	}
	n := s.db.StateBytes()
	s.quota.bytes.Store(n)
	s.quota.readAt.Store(now)
	return n
}

// Defragment flushes and compacts the whole database so deleted data's
// space comes back now, then takes a fresh size reading for the quota.
func (s *Server) Defragment(ctx context.Context) error {
	if err := s.db.CompactRange(ctx, []byte{0}, []byte{0xff}); err != nil {
		return err
	}
	s.quota.readAt.Store(0)
	return nil
}
