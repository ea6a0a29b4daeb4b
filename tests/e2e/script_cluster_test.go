package e2e

import (
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// scriptCluster records the member list and the status of the member.
func scriptCluster(s *session, when string) {
	s.memberList("cluster: member list " + when)
	s.status("cluster: status " + when)
}

// scriptLimits covers the request size limit (--max-request-bytes, 1.5 MiB
// by default), under the client's own 2 MiB send limit.
func scriptLimits(s *session) {
	s.do("limits: put of 1.6 MiB", clientv3.OpPut("huge", strings.Repeat("x", 1600*1024)))
	s.txn("limits: txn of 1.6 MiB", nil, []clientv3.Op{
		clientv3.OpPut("huge1", strings.Repeat("x", 800*1024)),
		clientv3.OpPut("huge2", strings.Repeat("x", 800*1024)),
	}, nil)
	s.do("limits: put of 1 MiB", clientv3.OpPut("large", strings.Repeat("x", 1024*1024)))
	s.do("limits: get the 1 MiB key", clientv3.OpGet("large", clientv3.WithCountOnly()))
}
