package e2e

import (
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// settle is how long an exchange keeps listening after it got what it
// expected, to catch answers that should not come.
const settle = 200 * time.Millisecond

// scriptWatch covers watches from a past revision, prev_kv, filters,
// explicit watch IDs, progress requests and cancel. It returns the revision
// of its first write, from which scriptCompact watches again.
func scriptWatch(s *session) int64 {
	from := s.rev() + 1
	s.do("watch: put w/a=1", clientv3.OpPut("w/a", "1"))
	s.do("watch: put w/a=2", clientv3.OpPut("w/a", "2"))
	s.do("watch: put w/b=1", clientv3.OpPut("w/b", "1"))
	s.do("watch: delete w/a", clientv3.OpDelete("w/a"))

	w := s.openWatch()
	defer w.close()
	w.exchange("watch: key from a past revision with prev_kv", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/a"), StartRevision: from, PrevKv: true,
	}), 3, 1, settle)
	w.exchange("watch: prefix from a past revision, no puts", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: from,
		Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT},
	}), 1, 1, settle)
	w.exchange("watch: prefix from a past revision, no deletes", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: from,
		Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NODELETE},
	}), 3, 1, settle)
	w.exchange("watch: from key w/b (range_end \\x00) at the current revision", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/b"), RangeEnd: []byte{0},
	}), 0, 1, settle)
	w.exchange("watch: explicit watch ID 100, progress_notify", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/a"), WatchId: 100, ProgressNotify: true,
	}), 0, 1, settle)
	w.exchange("watch: explicit watch ID 100 again", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/b"), WatchId: 100,
	}), 0, 1, settle)

	s.do("watch: live put w/c", clientv3.OpPut("w/c", "1"))
	s.do("watch: live put w/a", clientv3.OpPut("w/a", "3"))
	s.do("watch: live delete w/c", clientv3.OpDelete("w/c"))
	// w/c put → watch 2 and 3; w/a put → 0, 2 and 100; w/c delete → 1 and 3.
	w.exchange("watch: live events", nil, 7, 0, settle)

	w.exchange("watch: progress request", progressReq(), 0, 1, settle)
	w.exchange("watch: cancel watch 0", cancelReq(0), 0, 1, settle)
	w.exchange("watch: cancel watch 0 again", cancelReq(0), 0, 0, settle)
	w.exchange("watch: cancel watch 100", cancelReq(100), 0, 1, settle)
	s.do("watch: put w/a after its watchers are gone", clientv3.OpPut("w/a", "4"))
	w.exchange("watch: events after cancel", nil, 1, 0, settle)
	return from
}

// scriptCompact covers compaction and its errors, and watching compacted
// history. watchFrom is a revision at which w/ had history.
func scriptCompact(s *session, watchFrom int64) {
	cur := s.rev()
	at := watchFrom + 2
	s.do("compact: get w/ at the revision before the compaction", clientv3.OpGet("w/", clientv3.WithPrefix(), clientv3.WithRev(at-1)))
	s.compact("compact: at a past revision", at)
	s.do("compact: get below the compacted revision", clientv3.OpGet("w/", clientv3.WithPrefix(), clientv3.WithRev(at-1)))
	s.do("compact: get at the compacted revision", clientv3.OpGet("w/", clientv3.WithPrefix(), clientv3.WithRev(at)))
	s.do("compact: get at a future revision", clientv3.OpGet("w/", clientv3.WithPrefix(), clientv3.WithRev(cur+10)))
	s.txn("compact: txn range below the compacted revision", nil, []clientv3.Op{clientv3.OpGet("w/", clientv3.WithPrefix(), clientv3.WithRev(at-1))}, nil)
	s.compact("compact: the same revision again", at)
	s.compact("compact: an older revision", at-1)
	s.compact("compact: a future revision", cur+10)

	w := s.openWatch()
	defer w.close()
	w.exchange("compact: watch from a compacted revision", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: at - 1,
	}), 0, 2, settle)
	w.exchange("compact: watch from the compacted revision", createReq(&pb.WatchCreateRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: at, PrevKv: true,
	}), 6, 1, settle)
	s.compact("compact: at the current revision", s.rev())
	s.do("compact: get after compacting everything", clientv3.OpGet("w/", clientv3.WithPrefix()))
}
