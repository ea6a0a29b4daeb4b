// Package seed runs the etcd clustering guide verbatim: the commands of its
// "Static" section, of its TLS subsection ("Self-signed certificates" and
// "Automatic certificates") and its three error cases, those of its etcd
// discovery sections ("Custom etcd discovery service", "Public etcd
// discovery service" and "Discovery server errors") and those of its DNS
// discovery section, taken word for word from the guide's own text at test
// time, against the binary under test.
//
// The package has no non-test code. Its contract:
//
//  1. The commands come from testdata/guide-commands.md, the guide's
//     headings and code blocks kept in the repository so a bare checkout
//     (CI) runs them; TestGuideExtractCurrent proves it identical to the
//     guide at ../shared/guide/clustering-guide.md (env CAIRN_GUIDE) when
//     that file is present, and -update regenerates it. Commands are
//     the fenced blocks that start with "$ etcd": the three before the
//     section's first subsection, the three under each of the TLS
//     subsection's two headings, and one under each heading of the
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
//  6. TLS, self-signed certificates. The certificates are made with
//     `cairnctl cert` (./cmd/cairnctl, built into a temporary directory):
//     CAs ca-client and ca-peer; per member <name>-client from ca-client
//     and <name>-peer from ca-peer, both with the peer profile (server and
//     client use) for the member's address, 127.0.0.1 and localhost; and
//     etcdctl, a client certificate (CN root) from ca-client. The commands
//     name files by absolute path in one directory, /path/to, and by
//     relative path (ca-peer.crt). Each member runs as `ip netns exec <ns>
//     unshare --mount --propagation private sh -c 'mount --bind "$1" "$2"
//     && shift 2 && exec "$@"' sh <dir> /path/to <binary> <flags>`: a
//     directory holding copies of that member's own files is bind-mounted
//     on /path/to in a mount namespace of the member's alone, and its
//     working directory holds a copy of each file named by relative path.
//     A bind mount needs its target to exist, so when /path/to is missing
//     on the host the test makes it (root only, else it skips) and at
//     cleanup removes the directories it made, if empty; on the host the
//     directory stays empty throughout, which the test checks. What is
//     asserted: infra0's command as printed, alone, exits 1 within 30 s
//     with compat.md §3's advertised-URL error as the last line of stderr
//     (the guide's infra0 advertises http://10.0.1.10:2380 where its
//     --initial-cluster says https); with that one word corrected (the
//     test checks that nothing else differs), the three commands form a
//     cluster whose member list, through etcdctl 3.4 with --cacert, --cert
//     and --key, shows the https URLs and etcd's IDs, and serves a put
//     through infra0 read through infra2. From a fourth namespace, a
//     client host (10.0.1.13), etcdctl is served with the client
//     certificate and refused without one, with one from ca-peer, and
//     when it trusts ca-peer; infra0 logs "refused TLS connection from
//     10.0.1.13:..."; infra0's peer port refuses plain HTTP, TLS without a
//     client certificate, one from ca-client, and infra1's peer
//     certificate presented from the client host's address; from infra1's
//     address the same certificate gets GET /members with the cluster ID
//     and members, over infra0's peer certificate. No member logs a
//     refusal of anything but the client host.
//  7. TLS, automatic certificates: the three commands as printed form a
//     cluster that etcdctl 3.4 reaches with --insecure-transport=false
//     --insecure-skip-tls-verify (etcdctl 3.4 ignores the latter without
//     the former), with the same member list and put/get checks; each
//     member serves its client and peer URLs with the certificate it made
//     at <name>.etcd/fixtures/{client,peer}/cert.pem (next to key.pem) and
//     does not serve plain HTTP there.
//  8. When Debian's etcd 3.4 is installed, the same commands run against it
//     in fresh namespaces: its member list must show the same IDs as the
//     binary under test, for the static, self-signed and automatic sets
//     alike, and the other TLS checks hold for it too. etcd 3.4 does not
//     print the guide's error texts (it refuses the first case's https
//     listener without certificates and words the second differently, and
//     it keeps running in the third), so for the error cases, and for the
//     self-signed infra0 as printed, the test asserts only what etcd 3.4
//     shares with the guide — exit status 1 for the first two and for
//     infra0, and the same local and remote cluster IDs in its mismatch
//     log line for the third — and logs the texts side by side. It logs
//     refused TLS connections as "rejected connection from"; the test
//     logs, but does not require, infra0's line for the client host.
//  9. Discovery. The sections' "$ curl" and "$ etcd" blocks are split as
//     in 1, except that a curl word may hold the glob characters * ? [
//     outside quotes, which sh passes on unchanged when they match no
//     file: the test checks that they match none in the fresh working
//     directory curl runs in. Blocks that do not start with "$ " are
//     fragments (the discovery URL as ETCD_DISCOVERY and as a flag),
//     checked to name the members' URL. The guide's two host names are
//     services the test runs, each on an address of the subnet no command
//     uses, in a namespace of its own: myetcd.local (10.0.1.20), a
//     one-member cluster of the binary under test with flags of the
//     test's, serving https on 443 without client certificates, and
//     discovery.etcd.io (10.0.1.21), `<binary> discovery` over it, with
//     https on 443 and --host https://discovery.etcd.io. Their server
//     certificates come from one CA made with `cairnctl cert`. Every
//     namespace of the network gets a hosts file, /etc/netns/<ns>/hosts
//     (which `ip netns exec` mounts on /etc/hosts), mapping both names to
//     those addresses, and the test checks with getent(1) that they
//     resolve so in each; the files, and /etc/netns when the test made
//     it, are removed at cleanup (and for a dead test binary, as in 4).
//     The namespaces have no default route (2), so neither name can
//     reach anything outside them. Members, services and curl find the
//     CA through SSL_CERT_FILE (Go) and CURL_CA_BUNDLE (curl), and get
//     NO_PROXY=*; the commands are unchanged. What is asserted: the
//     custom section's curl, run from infra0's host, sets _config/size
//     to 3 under the members' discovery path; the public section's curl
//     prints https://discovery.etcd.io/<32 hex> and the service has size
//     3 under that token; the error case, the public infra0 command run
//     while the guide's token has no size, exits 1 within 30 s with the
//     guide's text (its typographic apostrophe read as the ASCII one
//     that compat.md §3 and etcd use) as the last line of stderr; after
//     the test sets the guide's token's size to 3 through the service,
//     each section's three members form a cluster whose member list
//     shows the member and cluster IDs etcd computes with the discovery
//     URL as token, and which serves a put through infra0 read through
//     infra2. With Debian's etcd as the members (the services stay the
//     binary under test), the IDs must be the same; for its error case
//     only exit status 1 is asserted. The discovery tests skip when the
//     binary under test is the reference etcd, or curl or getent is
//     missing.
//  10. DNS discovery. The section's "$ dig" blocks give the records: their
//     answer lines, parsed as zone-file records, are what a DNS server the
//     test runs answers (NXDOMAIN for other names, an empty answer for other
//     types of a known name), plus an A record for a fourth host,
//     infra3.example.com at the client host 10.0.1.13. The server's UDP and
//     TCP sockets are made inside the namespace of 10.0.1.53, an address no
//     command uses, and every namespace of the network gets
//     /etc/netns/<ns>/resolv.conf naming only that server. What is asserted:
//     each dig command, run verbatim from the client host, prints the
//     guide's answer (blanks folded, lines sorted); the three host-name
//     commands, and then the three address commands, each form a cluster
//     whose member list shows infra0..2 with the SRV host names as peer URLs
//     and the IDs etcd computes for them with the token (the two variants
//     agree), serving a put through infra0 read through infra2; etcdctl 3.4
//     with --discovery-srv example.com finds the members from the client
//     host; `<binary> gateway start --discovery-srv example.com
//     --insecure-discovery` (the records are http) on the client host serves
//     etcdctl, also after the member behind one of its connections is killed
//     with SIGKILL (a write that fails while the others elect a new leader
//     is retried for up to 30 s, as an etcd client would). A fourth member
//     joins a host-name cluster as etcd's runtime-configuration guide has
//     it: `member add infra3`, then an _etcd-server record for
//     infra3.example.com (the client host), then infra0's host-name command
//     with the name and host changed and --initial-cluster-state existing;
//     the four then serve etcdctl. The error cases, each infra0's host-name
//     command changed in one respect, exit 1 with etcd's text as the last
//     line of stderr: an unknown domain (both services' lookup errors), a
//     member the records do not list (infra3), a scheme mismatch (https
//     advertised, with --peer-auto-tls; the mismatch is logged and the
//     member is not found), and a listen host name that resolves to another
//     host's address. TLS, a variation of the test's: the records moved to
//     _etcd-server-ssl and _etcd-client-ssl, every URL https, each member
//     with a `cairnctl cert` peer certificate for its client and peer sides
//     and the CA trusted through SSL_CERT_FILE: with certificates that carry
//     example.com the cluster forms, etcdctl finds it by SRV, and a gateway
//     that checks what it discovers (--trusted-ca-file, no
//     --insecure-discovery) keeps all three members and serves a put; with
//     certificates for the host names alone and no --peer-trusted-ca-file a
//     member logs the peer certificate refused for not carrying example.com,
//     and no put succeeds; the same certificates with --peer-trusted-ca-file
//     form a cluster. Debian's etcd 3.4 cannot run the section (it stops
//     when the _etcd-server-ssl lookup fails, and refuses host names in
//     listen URLs): its exit and last line are logged.
//
// The TLS checks that the test process makes itself (plain HTTP, GET
// /members, the certificate a port presents) dial from a thread that
// enters the namespace for the dial (setns) and leaves it after.
package seed
