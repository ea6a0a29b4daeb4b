// Package e2e holds Cairn's process-level end-to-end tests: the binary under
// test (see tests/framework: ./cmd/cairn built once, or $CAIRN_BIN) is
// started as a real process on 127.0.0.1 and driven by real clients.
//
//   - differential_test.go runs one scripted sequence of clientv3 and gRPC
//     calls against Debian's etcd 3.4 and against the binary under test, on
//     the same ports, names, data-dir layout and flags, and compares the
//     normalised transcripts field by field (errors by exact string).
//   - etcdctl_test.go drives the binary with Debian's etcdctl 3.4
//     (ETCDCTL_API=3) and checks what it prints.
//   - durability_test.go kills the member with SIGKILL while concurrent
//     writers run, restarts it on the same data dir and checks that every
//     acknowledged write is there with its revision.
//
// Tests that need Debian's etcd or etcdctl skip with a message naming the
// package when it is not installed. The package has no non-test code.
//
// Flags (after the package list: go test ./tests/e2e -args -cairn.long):
//
//	-cairn.long    more iterations of the randomised tests (also CAIRN_LONG=1)
//	-cairn.diffdir write both differential transcripts to this directory
//	               (also CAIRN_DIFF_DIR)
package e2e
