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
// Callers: New, then Start; use the operations; Stop. Nothing in this
// package knows about gRPC or HTTP; errors are this package's or its
// dependencies' sentinels, mapped to rpctypes by the API layer.
package server
