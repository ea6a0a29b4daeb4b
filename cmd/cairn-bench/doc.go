// Command cairn-bench benchmarks an etcd-compatible cluster, Cairn or etcd,
// through the etcd v3 gRPC API, and reports latency distributions and
// throughput:
//
//	cairn-bench put              [--sequential-keys] [--key-space-size N]
//	cairn-bench range KEY [END]  [--prefix] [--limit N]
//	cairn-bench txn-put
//	cairn-bench txn-mixed [KEY [END]] [--rw-ratio R] [--prefix] [--limit N]
//	cairn-bench watch            [--watchers 100] [--streams 10] [--put-total N] [--wait 30s]
//	cairn-bench watch-latency    [--watchers 10] [--streams 10] [--put-total N] [--wait 30s]
//	cairn-bench lease-keepalive  [--leases 100] [--ttl 60] [--keep-leases]
//
// Flags every subcommand takes:
//
//	--endpoints 127.0.0.1:2379  comma-separated; host:port or http(s):// URLs
//	--conns 1                   gRPC connections; connection i talks to endpoint i mod len
//	--clients 1                 goroutines sending requests, spread over the connections
//	--total 10000               requests
//	--key-size 8 --val-size 8   bytes
//	--sequential-keys           keys 0, 1, 2, … mod --key-space-size, not random ones
//	--key-space-size 1          distinct keys written
//	--consistency l|s           linearizable or serializable reads
//	--target-leader             send everything to the leader, found with Status
//	--rate 0                    requests per second over all clients; 0 is unlimited
//	--dial-timeout 5s --request-timeout 10s
//	--json                      one JSON object instead of text
//	--cacert --cert --key --insecure-skip-tls-verify
//	--user name[:password] --password
//
// A run is a closed loop: each client goroutine has one request in flight
// and takes the next request number when it is done, so --clients is the
// concurrency. Each request has --request-timeout; one that fails or times
// out is counted as an error, its text kept among the first five distinct
// ones, and its latency left out of the distribution. Before the first
// request every endpoint must answer Status within --dial-timeout, so an
// unreachable cluster is one error, not --total failed requests.
//
// Keys are key numbers below --key-space-size written in decimal and
// zero-padded to --key-size bytes ("00000042"): readable with etcdctl, and
// sorted in numeric order, so that `range 00000000 00001000` reads back
// what `put --key-space-size 1000` wrote. Values are random letters.
//
// Unless GOGC is set, cairn-bench runs with a GC target of 400 rather
// than Go's 100: a load generator's garbage collection is pure overhead,
// and on a machine shared with the cluster it takes CPU from the members
// being measured. Set GOGC=100 to measure with Go's default.
//
// What each subcommand measures:
//
//   - put, txn-put: one Put, or one Txn holding one Put, per request.
//   - range: one Range of KEY, [KEY, END) or (--prefix) KEY's prefix.
//   - txn-mixed: Txns holding one Range or one Put, drawn with --rw-ratio
//     reads per write; reported as a whole and as reads and writes apart.
//     Without KEY a read reads one key of the key space, chosen as the
//     writes choose theirs.
//   - watch: --watchers watchers over --streams streams (watcher j watches
//     key j mod --key-space-size), then --put-total puts; it waits until
//     every watcher has every event due to it (or --wait passes) and
//     reports events expected, received and missing and events per second
//     from the first put to the last event, then the puts and the watch
//     creations.
//   - watch-latency: the same set-up; for each event, the time from the
//     client having its put's response (matched by revision) to the watcher
//     having the event, 0 when the event came first. Pace the puts with
//     --rate to measure delivery rather than queueing.
//   - lease-keepalive: grants --leases leases, then sends --total
//     keepalives (request i refreshes lease i mod --leases), each client on
//     one LeaseKeepAlive stream it keeps open, so a latency is one round
//     trip; revokes the leases at the end unless --keep-leases.
//
// Output: for each series of requests, the total time, slowest, fastest,
// average and standard deviation of the latencies, requests per second,
// the request counts, a latency histogram (ten buckets growing
// geometrically from the fastest to the slowest latency), the percentiles
// p10 p25 p50 p75 p90 p95 p99 p99.9 (nearest rank) and the errors. The
// statistics are computed by internal/benchstat.
//
// With --json, stdout holds one JSON object: "benchmark", "endpoints",
// "conns", "clients", "interrupted", then the main series' fields at the
// top level — "what", "requests", "ok", "errors", "error_samples",
// "total", "slowest", "fastest", "average", "stddev" (seconds, as floats),
// "requests_per_sec", "percentiles" ({"p50": seconds, …}) and "histogram"
// ([{"upper": seconds, "count": n}]) — then "parts" with the other series
// by name ("read", "write", "put", "watch create", "grant", "revoke") and,
// for the watch benchmarks, "events".
//
// A progress bar is drawn on stderr only when stderr is a terminal.
// SIGINT or SIGTERM stops the run; the results so far are printed, marked
// as partial.
//
// Exit status: 0 when the run completed, whatever the number of failed
// requests (they are in the report); 1 when it could not start (an
// endpoint did not answer, a TLS file could not be read, authentication
// failed) or was interrupted; 2 for a malformed command line.
package main
