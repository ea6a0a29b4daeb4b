// Package robustness runs a Cairn cluster under concurrent clients and
// random faults, and checks what the clients and watchers saw: the
// history of calls for linearizability (with porcupine), every watch for
// etcd's watch guarantees, and that no acknowledged write was lost.
//
// # Running it
//
//	go test ./tests/robustness/                       # short profile (CI): one run, 25 s, 6-9 faults
//	CAIRN_ROBUST_LONG=1 go test -timeout 40m ./tests/robustness/   # long: 5 runs of 3 min
//	go test ./tests/robustness/ -args -robust.long    # the same by flag
//	CAIRN_ROBUST_NO_REPLACE=1 ... (or -robust.no-replace) # leave out member replacement
//	CAIRN_ROBUST_SEED=N ...     (or -robust.seed N)   # replay the fault choices of a run
//	CAIRN_BIN=/usr/bin/etcd ...                       # check the harness against etcd
//
// The test is skipped with -short. Each run logs its faults (target, leader
// before and after, time to heal) and its numbers: calls recorded and
// checked, failed calls, revisions, watch events checked, porcupine's time.
//
// # One run
//
//  1. A 3-member cluster of the binary under test (tests/framework) starts
//     with --heartbeat-interval 50 --election-timeout 500 and a 500 ms
//     --watch-progress-notify-interval. Each member listens on its peer
//     port behind a framework.Proxy: it advertises the proxy's port, which
//     every --initial-cluster lists, so every peer connection into it goes
//     through the proxy.
//  2. Watchers (one per member, each talking to its member only) watch the
//     key prefix from the first revision with prev_kv and progress notify,
//     ask for a bookmark (RequestProgress) every 300 ms, and restart their
//     Watch call on an error and every 2-6 s on purpose, from one past the
//     last revision delivered (last event or bookmark).
//  3. Clients (8, each its own clientv3 client of every member) call Get
//     (linearizable and serializable), a prefix Range, Put, Delete and Txn
//     (compare the mod revision or the value of a key, then put one or two
//     keys, else get them) on 10 keys. Every put value is unique, so every
//     write can be told apart. A call that errs or times out (2 s) is
//     recorded with an unknown outcome.
//  4. Faults, one at a time every 1-2.5 s, each waited out until the
//     cluster is healthy again: kill -9 and restart of the leader or of a
//     follower; a peer cut of the leader or of a follower (its proxy
//     refuses or stalls every connection for 3-6 election timeouts, which
//     cuts every message to it; with CheckQuorum a cut leader steps down);
//     leader transfer (Maintenance.MoveLeader to a random follower); and
//     member replacement (MemberRemove of a follower, MemberAdd of a fresh
//     member, started with --initial-cluster-state existing).
//  5. The cluster is healed; a linearizable range read gives the final
//     revision; every watcher is let reach it; then a fault-free replay
//     watch from the first revision on every member gives the history.
//
// # The checks
//
// The history is the replay. The replays of all members must be identical;
// revisions must follow one another with no gap (the harness is the only
// writer under Prefix, and nothing is compacted during a run); each event
// must follow from the previous state (create revision, version; a delete
// removes a present key); and the final state must equal the final read.
//
// Attribute matches every revision with the call that wrote it: by value
// for puts (a revision holds exactly one call's puts), by response revision
// or, for calls with an unknown outcome, by key and call order for
// deletes. It reports a put of a value no client sent or a revision no call
// explains ("phantom write"), and an acknowledged Put, Txn or Delete that
// is not in the history at the revision its response gave ("lost write").
//
// Linearizability is then checked with porcupine against Model, a
// sequential specification of etcd's KV: the state is the global revision
// and every key's value, create and mod revision and version; every
// response's header revision and values are checked. The history is not
// partitioned by key: a Txn writes several keys at one revision and every
// write moves the one global revision, so a per-key model could not check
// revisions, and dropping that check would miss the stale reads and lost
// writes it shows. It stays fast because the header revisions pin almost
// every call to one place in the order (a write to the state it creates, a
// read to the state it saw), so porcupine's search hardly ever backtracks.
// A failed call could take effect at any time after its call, or never,
// which porcupine would have to try for each; instead the history decides:
// a failed write that Attribute found took effect at that revision (it is
// checked with that outcome, as returning after every other call), one
// not found took no effect and is left out, as are failed reads. This is
// sound: a linearization of what is checked is one of the calls as
// recorded. And a history that invented or lost a write is caught, by the
// attribution checks or by the reads that contradict it. Serializable reads
// are checked apart (CheckSerializable): a member may answer from an older
// state, but it must be the state the history had at the response's
// revision.
//
// CheckWatch checks each watcher against the history for etcd's watch
// guarantees: ordered, unique, atomic (a revision's events in one response,
// all of them), reliable (every event of the history from the start
// revision to the final one, each equal to the history's, no gap, nothing
// invented), resumable (a restarted Watch call delivers nothing before its
// start revision), bookmarkable (a progress notification's revision is at
// least every event delivered before it, every event up to it has been
// delivered, and no later event is at or below it) and prev_kv (what the
// key held just before).
//
// A run that finds a violation fails with a summary and keeps its records
// in a directory under $TMPDIR named in the failure (calls.json,
// history.json, watches.json, faults.json, violations.json, every member's
// log, and linearizability.html, porcupine's visualization, when the
// history is not linearizable).
//
// # Duties
//
//  1. The test binary runs through framework.Main (TestMain), which stops
//     every process a test started.
//  2. Only 127.0.0.1 is used; every member, proxy and client a run starts is
//     stopped at the test's cleanup.
//  3. The pure parts (Model, BuildHistory, Attribute, CheckWatch,
//     CheckSerializable, CheckLinearizable) take recorded data only, and
//     their unit tests show each check failing on a history that breaks it.
package robustness
