// Package mvcc is Cairn's multi-version key-value store, with etcd v3's
// revision semantics, kept entirely in storage: memory does not grow with
// the number of keys, and opening the store reads two meta keys and one log
// entry, whatever the size of the data.
//
// # Revisions
//
// The store's revision starts at 1. Every write txn that changes something
// takes the next main revision; its writes are numbered by sub revision in
// order. A key's version counts its puts since it was (re)created;
// create_revision is the revision of that creation; a delete leaves a
// tombstone and resets both. Compaction at revision C drops every version a
// read at C or later cannot see, and the revision log up to C.
//
// # Layout (see keys.go and record.go for the bytes)
//
//   - PrefixMVCC: user key (escaped, terminated) + inverted revision → create
//     revision, version, lease, value; or a tombstone. A read at revision R
//     over [key, end) is one forward iteration: for each user key, seek to
//     its newest version at or below R, skip tombstones.
//   - PrefixRevLog: revision → kind and user key, for Events and compaction.
//   - PrefixMVCCMeta: the scheduled and the finished compaction revisions.
//
// # The caller's duties
//
//  1. Open the store once per DB; Close it before closing the DB. Close
//     stops the background compactor and waits for reads in flight; reads
//     after it fail with ErrClosed.
//  2. Only the apply goroutine calls Write, WriteTxn's methods, Compact,
//     Publish and Restore, one WriteTxn at a time; End every WriteTxn.
//  3. Write takes an indexed batch the caller owns. Commit every batch given
//     to Write or Compact, in order, then call Publish: only then do readers
//     (Rev, Range, RangeRequest, ReadTxn, Events, HashKV) see the writes. A
//     batch dropped instead of committed leaves the store ahead of storage:
//     stop and reopen it.
//  4. An error for which IsFatal is true (ErrCorrupt, ErrStorage, ErrClosed)
//     is a failure of this member, not an answer: stop the member. Every
//     other error is deterministic and goes back to the client.
//  5. Hand the events End returns to the watch hub after Publish. Events,
//     the KeyValues in them and in responses are shared: never modify them.
//     Put keeps the key and value slices it is given.
//  6. Validate requests with the Check functions before proposing them;
//     apply trusts that they passed.
//  7. After installing a snapshot over the MVCC keyspaces, call Restore.
//
// # What the package guarantees
//
//   - Determinism: the same requests applied to the same state write the
//     same bytes and return the same responses on every member.
//   - Point-in-time reads: every read call uses one pebble view (one
//     iterator, or one snapshot for Events), and never sees a half-applied
//     txn or a revision that is not published.
//   - Reads at revisions at or above CompactRev keep working while physical
//     compaction runs; compaction deletes in batches of
//     Options.CompactionBatchLimit log entries and resumes after a crash.
//   - Data the store reads is validated: corrupt bytes give ErrCorrupt,
//     never a panic.
//
// # etcd semantics kept on purpose
//
// Range headers carry the current revision even when reading an older one;
// count ignores limit and the revision filters; a txn's compares, nested
// ones included, all see the state before the txn; reads in a write txn see
// its earlier writes (etcd 3.6); a delete with range_end "\x00" in a txn
// does not conflict with a put (etcd's interval check misses it); a
// compaction at revision 0 succeeds once; HashKV refuses rev <=
// the compaction revision and reports -1 for a store never compacted.
package mvcc
