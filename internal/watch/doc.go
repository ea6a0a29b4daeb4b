// Package watch is Cairn's watch hub: it turns the revisions the apply loop
// publishes into per-watcher responses, with etcd's guarantees.
//
// A Stream groups watchers that share one response channel (one gRPC Watch
// call). A watcher watches one key, a range [key, end), or every key from
// key on, starting at a revision.
//
// Guarantees, per watcher:
//
//  1. Events arrive in revision order, each exactly once, starting at the
//     watcher's start revision and with no gap.
//  2. All events of one revision travel in the same Response; a Response may
//     hold several revisions.
//  3. Response.Revision is a revision up to which the watcher has been sent
//     every event of its range (the header revision etcd reports).
//  4. A start revision whose events are gone (compacted), or a watcher that
//     falls behind a compaction while catching up, ends with one Response
//     whose CompactRevision is the oldest revision a new watch could start
//     from; nothing follows it.
//  5. Filters (no put, no delete) and prev_kv apply per watcher. Events are
//     shared between watchers and never modified: a watcher without prev_kv
//     gets a shallow copy without PrevKv.
//
// Caller duties:
//
//  1. History serves the revision log. Events(from, to, ...) returns every
//     event of main revisions [from, to] in order, never splits a revision
//     across calls, and fails when from <= CompactRev(). An event's revision
//     is Kv.ModRevision (for a delete, the revision of the delete).
//  2. The apply goroutine calls Notify(rev, evs) once the events of every
//     revision up to rev are committed and readable through History, in
//     increasing rev order, with PrevKv filled. Notify never blocks: a
//     watcher whose channel is full becomes a victim and is served again by
//     the hub's background loop, from History if need be.
//  3. After installing a snapshot (revisions jump without events), call
//     Restore(rev) instead of Notify.
//  4. A Stream's consumer reads Chan() until it is closed and drops any
//     Response for which Stale() is true (the watcher was canceled after
//     the response was queued).
//  5. Close the hub after the apply loop stops calling Notify. Close stops
//     the background loop and closes every stream's channel; nothing is left
//     running.
//
// Watchers move between three sets, as in etcd: synced watchers are fed by
// Notify (found through an index by exact key and by interval, so the cost of
// an event does not grow with unrelated watchers); unsynced watchers (start
// revision in the past, or recovering) are caught up from History in bounded
// chunks by the background loop and then join the synced set; victims hold a
// response their full channel refused, retried until it is taken.
//
// Progress: RequestProgress sends a Response with WatchID -1 and the hub's
// revision once every watcher of the stream is synced; a watcher created
// with ProgressNotify gets a Response without events every
// ProgressNotifyInterval in which it received nothing.
package watch
