// Package framework runs Cairn as real processes for process-level tests.
//
// It works with any binary that takes etcd's server flags: the cairn binary
// built from this module, or Debian's etcd standing in for it while the
// harness itself is being checked.
//
// The caller's duties and what the package guarantees:
//
//  1. A test package that uses the framework runs its tests through Main:
//     func TestMain(m *testing.M) { framework.Main(m) }. Main removes the
//     built binary afterwards and fails the run if a started process is
//     still alive after every test finished.
//  2. Binary returns the binary under test. It is built once per test binary
//     with `go build -o <tmp>/cairn ./cmd/cairn` from the module root; the
//     environment variable CAIRN_BIN names a prebuilt binary instead
//     (CAIRN_BIN=/usr/bin/etcd checks the harness against etcd). A failed
//     build fails every test that asks for the binary, with go build's
//     output in the message.
//  3. NewMember prepares a member (free 127.0.0.1 ports, a data dir under a
//     temporary directory, etcd's flags); StartMember also starts it and
//     waits until it is ready: GET /health answers {"health":"true"} and a
//     linearizable clientv3 Get succeeds. Only loopback addresses are used.
//  4. Every process a test starts is stopped by t.Cleanup, also when the
//     test fails or calls t.FailNow. Its stdout and stderr go to a log file
//     whose tail is printed when the test failed, or when a start or a
//     readiness wait fails.
//  5. Member.Stop sends SIGTERM and SIGKILL after StopTimeout; Kill9 sends
//     SIGKILL at once; Restart starts the same binary with the same flags on
//     the same data dir and waits until ready. Their errors carry the log
//     tail; they never call t.Fatal, so they may be called from any
//     goroutine.
//  6. Member.Client and NewClient return clientv3 clients closed at cleanup.
//
// StartCluster does the same for N members bootstrapped together.
// ReferenceEtcd and Etcdctl locate Debian's etcd and etcdctl and skip the
// test with a clear message when they are not installed.
package framework
