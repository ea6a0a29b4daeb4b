// Package server is the member: it joins the raft node to the state
// machine (mvcc, lease, membership) and offers the operations the API
// layers call.
//
// Write path: Propose wraps a request in an InternalRaftRequest with a
// unique ID, registers a waiter, and hands it to raft. The raft goroutine
// calls Apply with committed entries in log order; Apply dispatches each
// request (one switch, one file per family), writes all results and the
// applied index into one batch, commits it, publishes the new revision to
// readers and watchers, and only then wakes the waiters.
//
// Read path: a serializable read goes straight to mvcc. A linearizable read
// first waits for a ReadIndex round (concurrent reads share one round) and
// for the applied index to reach it.
//
// Membership: AddMember, RemoveMember, UpdateMember and PromoteMember
// propose v1 conf changes (as etcd does) and wait for them like requests.
// Every member checks a change against the same member list when it
// applies it; a refused change is applied to raft as a no-op, so raft and
// membership never disagree. Promotion runs on the leader (a follower
// forwards it over the peer port). A member that applies its own removal,
// or is refused with 410 by a peer, stops with ErrRemoved.
//
// Leases: only the leader's lessor renews. A follower forwards its
// clients' keep-alives over the peer port, gathering those that arrive
// while a forward is in flight into one request (lease_batch.go); a
// leader that lacks the batch path gets them one by one.
//
// Snapshots (snapshot.go): the member is the transport's Snapshotter. It
// exports its state keyspaces from a pebble snapshot at its applied index,
// and installs a received one crash-safely (see the comment there).
//
// Callers: New, then Start; use the operations; Stop. Nothing in this
// package knows about gRPC or HTTP; errors are this package's or its
// dependencies' sentinels, mapped to rpctypes by the API layer.
package server
