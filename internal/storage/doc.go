// Package storage owns Cairn's one pebble database: every durable byte of a
// member — raft log, hard state, applied index, MVCC versions, leases,
// membership — lives in it, under a one-byte keyspace prefix per owner.
//
// Contract:
//
//  1. Open the DB once per member with Open; Close it after every user is
//     done (the server stops raft and apply first).
//  2. Each package reads and writes only the keyspace it owns (see the
//     Prefix* constants); keys are built with Key(prefix, ...).
//  3. Writes go through a Batch. A batch becomes durable only through
//     Commit(b, Sync) — the raft loop commits one synced batch per Ready.
//     Apply batches may use NoSync: a later synced commit (or raft replay
//     after a crash) covers them, because pebble's WAL is ordered.
//  4. Readers use the DB, a Snapshot, or an indexed Batch through the Reader
//     interface; a single iterator sees one point in time.
//
// The package knows nothing about raft, MVCC or gRPC.
package storage
