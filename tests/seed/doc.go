// Package seed runs the etcd clustering guide verbatim: the commands of its
// "Static" section and its three error cases, taken word for word from the
// guide's own text at test time, against the binary under test.
//
// The package has no non-test code. Its contract:
//
//  1. The commands come from testdata/guide-commands.md, the guide's
//     headings and code blocks kept in the repository so a bare checkout
//     (CI) runs them; TestGuideExtractCurrent proves it identical to the
//     guide at ../shared/guide/clustering-guide.md (env CAIRN_GUIDE) when
//     that file is present, and -update regenerates it. Commands are
//     the fenced blocks that start with "$ etcd": the three before the
//     section's first subsection, and one under each heading of the
//     error-case subsection, whose remaining lines are the expected output
//     ("etcd: <text>", then "exit <status>"). A block is split into argv as
//     a shell would (prompt dropped, backslash-newline joined, quotes
//     honoured); a block that needs more of a shell than that is a test
//     failure, not a guess. Only argv[0], "etcd", is replaced, by the
//     binary's path.
//  2. The network is what the guide assumes: each host address of the
//     commands (10.0.1.10, .11, .12, and .13 for the third error case) is
//     carried by a network namespace of its own, on a veth plugged into a
//     bridge the test creates in the root namespace. The bridge has no
//     address and the namespaces have no default route, so no packet can
//     leave the test's namespaces; the tests skip when 10.0.1.0/24 is
//     already addressed or routed on the host (other than by the default
//     route), when not run as root, when ip(8) is missing, or when a
//     namespace, bridge or veth cannot be made.
//  3. Every member runs as `ip netns exec <ns> <binary> <guide flags>` in a
//     fresh working directory of its own (the guide relies on the default
//     data dir, <name>.etcd), with ETCD_* and ETCDCTL_* removed from its
//     environment. etcdctl 3.4 reaches members only from inside the
//     namespaces.
//  4. t.Cleanup stops every process a test started (SIGTERM to its process
//     group, SIGKILL after a grace period) before it deletes the namespaces,
//     veths and bridge, also when the test fails; a failed test prints the
//     tail of each member's log. Names carry the test binary's process ID;
//     at start the tests delete namespaces and links left by a test binary
//     that is no longer running.
//  5. What is asserted: the three members serve etcdctl 3.4; `member list`
//     seen from each member shows infra0..2 with the guide's URLs and the
//     member and cluster IDs that etcd computes (compat.md §2) for the same
//     flags; a put through infra0 is read through infra2. Each error case
//     exits with the guide's status within 30 s and prints the guide's text
//     with "etcd:" replaced by "cairn:" as the last line of stderr (the only
//     line for the first two); the third runs against the running guide
//     cluster, with the guide's sample IDs replaced by the computed ones,
//     and the cluster stays healthy.
//  6. When Debian's etcd 3.4 is installed, the same commands run against it
//     in fresh namespaces: its member list must show the same IDs as the
//     binary under test. etcd 3.4 does not print the guide's error texts (it
//     refuses the first case's https listener without certificates and
//     words the second differently, and it keeps running in the third), so
//     for the error cases the test asserts only what etcd 3.4 shares with
//     the guide — exit status 1 for the first two, and the same local and
//     remote cluster IDs in its mismatch log line for the third — and logs
//     the texts side by side.
package seed
