// Package v2keys emulates etcd's v2 keys API (/v2/keys, /v2/members,
// /v2/machines) on top of the v3 store, for v2 clients and for etcd's v2
// discovery protocol (compat.md §4, §7). It talks to the member only
// through a clientv3.Client: it is a translator, not a second store.
//
// # Contract for the caller
//
//  1. Mount New(cli, opts) on the client port for the paths /v2/keys,
//     /v2/keys/..., /v2/members and /v2/machines.
//  2. cli must stay open for as long as the handler serves.
//  3. Wait requests are long polls: the server must not impose a write
//     timeout on them; a client hanging up ends the v3 watch.
//
// # Layout on v3
//
// v2 node /a/b is the v3 key Prefix+"/a/b" ("/_cairn_v2/keys/a/b"); the root
// has no key and always exists. Every node, directory or file, has its own
// key, so empty directories exist and dir=true works. The value is
//
//	kind(1 byte: 'f' file, 'd' dir) action(1 byte) data(value of a file)
//
// The action byte records which v2 action wrote this version ('s' set,
// 'c' create, 'u' update, 'w' compareAndSwap, 'i' a parent directory created
// on the way, 'r' a TTL refresh), so a watch can report the v2 action of a
// put; 'i' and 'r' versions are not delivered to v2 watchers, as v2 did not
// notify them. Values under Prefix written through v3 directly read as files.
//
// The layout is flat: the children of /a are the range Prefix+"/a/". A
// one-level listing reads that range and drops deeper keys; in exchange a
// recursive get, a recursive delete and a recursive watch are each one v3
// range, which is what v2 workloads (discovery, locks, config trees) use.
//
// Indexes are v3 revisions: createdIndex is the key's create_revision,
// modifiedIndex its mod_revision, X-Etcd-Index the header revision of the
// read or write. X-Raft-Index is the revision too (v3 gives clients no raft
// log index) and X-Raft-Term the header's raft term. X-Etcd-Cluster-Id is
// Options.ClusterID in hex, or the header's cluster ID.
//
// # Writes
//
// Every write reads the node, its ancestors and its child count in one Txn,
// decides (v2 errors come from that snapshot, with index = its revision),
// then commits one Txn whose compares pin what the decision used: the node
// by mod_revision (or absence), each existing ancestor by create_revision,
// each missing ancestor by absence. Missing ancestors are created in the same
// Txn. A failed compare means a concurrent writer: the write starts over (at
// most 16 times, then error 300). prevValue/prevIndex checks are therefore
// atomic with the write.
//
// POST names the child with the read revision + 1 (20 digits), raised above
// the largest 20-digit name present; a range compare makes names grow in
// creation order. The name equals createdIndex unless another write slipped
// in between the read and the commit.
//
// # TTLs
//
// A node with a TTL holds its own v3 lease; ttl and expiration come from
// the lease. A write without ttl (or with ttl=) leaves the node without a
// lease; the lease it replaced is revoked. refresh=true keeps the value: if
// the node's lease was granted with the requested TTL it is renewed with a
// keep-alive (no write, no index change, no watch event); otherwise the node
// is rewritten with a new lease under action byte 'r' (indexes move, but v2
// watchers are not woken). Deletes do not revoke the deleted node's lease,
// which then expires holding no key: a watch reports a delete whose lease no
// longer exists as "expire", any other delete as "delete".
//
// # Reads and waits
//
// GET is serializable unless quorum=true (v2 also served reads locally
// unless quorum was asked). Listings omit hidden nodes (a segment starting
// with "_"), are always sorted by key, and skip nodes whose parent
// directory is missing. wait=true watches from waitIndex (default: the
// current revision + 1) with prev_kv; a waitIndex below the compaction
// revision is error 401.
//
// # Not emulated
//
//   - A directory's TTL expires only its own key: children stay, and are
//     then hidden from listings because their parent is missing.
//   - A watch reports compareAndDelete as "delete" (a v3 delete carries no
//     value to record the action in), and a deleted directory's watchers on
//     its children see each child's own delete event.
//   - Member management (POST/PUT/DELETE /v2/members), /v2/stats and
//     /v2/auth; stream=true watches.
package v2keys
