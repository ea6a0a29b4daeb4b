package e2e

import (
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// scriptLease covers leases: grants with explicit IDs, the minimum TTL, one
// keep-alive, TimeToLive with keys, the list, revoke deleting keys, expiry,
// and the not-found errors.
func scriptLease(s *session) {
	const long, short, missing = 0x1000, 0x2000, 0x4242
	s.grant("lease: grant with an ID", long, 600)
	s.grant("lease: grant an existing ID", long, 600)
	s.grant("lease: grant a TTL too large", 0x3000, 9000000001)
	s.grant("lease: grant a TTL of 0", 0x3001, 0)
	s.revoke("lease: revoke the TTL 0 lease", 0x3001)
	s.grant("lease: grant a negative TTL", 0x3002, -5)
	s.revoke("lease: revoke the negative TTL lease", 0x3002)
	picked := s.grant("lease: grant without an ID (the server picks it)", 0, 600, without("ID"))
	s.revoke("lease: revoke the lease the server picked", picked.GetID())
	s.do("lease: attach l/a", clientv3.OpPut("l/a", "1", clientv3.WithLease(long)))
	s.do("lease: attach l/b", clientv3.OpPut("l/b", "2", clientv3.WithLease(long)))
	s.do("lease: l/b ignore_lease keeps the lease", clientv3.OpPut("l/b", "3", clientv3.WithIgnoreLease(), clientv3.WithPrevKV()))
	s.do("lease: move l/c from no lease to the lease", clientv3.OpPut("l/c", "1"))
	s.do("lease: move l/c to the lease", clientv3.OpPut("l/c", "2", clientv3.WithLease(long), clientv3.WithPrevKV()))
	s.do("lease: put l/d with the lease, then without", clientv3.OpPut("l/d", "1", clientv3.WithLease(long)))
	s.do("lease: l/d without lease detaches it", clientv3.OpPut("l/d", "2", clientv3.WithPrevKV()))
	s.keepAliveOnce("lease: keep-alive once", long)
	s.keepAliveOnce("lease: keep-alive of a missing lease", missing)
	s.timeToLive("lease: time-to-live with keys", long, true, 600)
	s.timeToLive("lease: time-to-live without keys", long, false, 600)
	s.timeToLive("lease: time-to-live of a missing lease", missing, true, 0)
	s.leases("lease: list")
	s.do("lease: keys before revoke", clientv3.OpGet("l/", clientv3.WithPrefix()))
	s.revoke("lease: revoke", long)
	s.do("lease: keys after revoke", clientv3.OpGet("l/", clientv3.WithPrefix()))
	s.revoke("lease: revoke again", long)
	s.revoke("lease: revoke a missing lease", missing)
	s.keepAliveOnce("lease: keep-alive of a revoked lease", long)
	s.timeToLive("lease: time-to-live of a revoked lease", long, true, 0)
	s.leases("lease: list after revoke")

	// A TTL below the minimum is raised to it; the key goes when it
	// expires. Nothing else is written until then, so the revision of the
	// expiry is the same on every backend.
	s.grant("lease: grant TTL 1 (below the minimum)", short, 1)
	s.timeToLive("lease: time-to-live of the short lease", short, false, 2)
	s.do("lease: attach l/short", clientv3.OpPut("l/short", "x", clientv3.WithLease(short)))
	gone := s.waitGone("l/short", 30*time.Second)
	s.tr.add("lease: l/short removed by expiry within 30s").line("gone = %v", gone)
	s.do("lease: get after expiry", clientv3.OpGet("l/", clientv3.WithPrefix()))
	s.timeToLive("lease: time-to-live of the expired lease", short, false, 0)
	s.leases("lease: list at the end")
}
