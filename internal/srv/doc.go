// Package srv turns DNS SRV records into bootstrap information, as etcd's
// --discovery-srv does (compat §6).
//
// Everything goes through a Resolver, which *net.Resolver satisfies; tests
// point one at an in-process DNS server.
//
// Server side (ServerCluster), for a member started with --discovery-srv D
// [--discovery-srv-name S]:
//
//  1. Resolve each --initial-advertise-peer-urls host to ip:port (first IPv4
//     address, else the first address, as net.ResolveTCPAddr picks). A
//     failure here fails both services and is returned as is.
//  2. Look up _etcd-server-ssl[-S]._tcp.D (scheme https), then
//     _etcd-server[-S]._tcp.D (scheme http). For each record, resolve
//     target:port the same way; a record that does not resolve is skipped.
//     The record whose ip:port equals an advertised one is this member, named
//     --name; the others are named "0", "1", … — the counter restarts for each
//     service, as in etcd, so a mixed ssl+plain set can repeat a name, and the
//     --initial-cluster parser then merges those URLs into one member, exactly
//     as etcd does. Every URL is scheme://<target without trailing dot>:<port>
//     (the SRV host name, not the IP nor the advertised URL). A matching record
//     whose scheme differs from the advertised URL's is skipped with etcd's
//     text "bootstrap at <url> from DNS for <service> has scheme mismatch with
//     expected peer <advertised url>"; like any per-record error it is only
//     returned when the service yields no member at all, wrapped as
//     "error querying DNS SRV records for _<service> <err>".
//  3. The union of both services is the result; it fails only when both
//     yield nothing (the error names both services, joined with "; " as
//     etcd's multierr does). If this member is not in it:
//     `cannot find local etcd member "<name>" in SRV records`.
//
// The result is an --initial-cluster string (name=url pairs joined by ","),
// hashed by the caller with --initial-cluster-token like a static
// bootstrap. Within each service the records are sorted by priority, target
// and port before names are given, so the output is deterministic (etcd
// keeps the resolver's weight-shuffled order; only the temporary names of
// the other members can differ, never a URL or an ID).
//
// Caller duties that stay outside this package:
//
//   - If the members speak https to each other and --peer-trusted-ca-file
//     is empty, set the peer TLS server name to D: peer certificates must
//     then carry D in their SANs.
//   - The advertised URLs may be IPs while the result holds host names (the
//     guide's second example); comparing them must resolve host names, as
//     etcd's netutil.URLStringsEqual does, not compare strings.
//
// Client side (ClientRecords), for the gateway, and later grpc-proxy and
// cairnctl:
// _etcd-client-ssl[-S]._tcp.D (https) then _etcd-client[-S]._tcp.D (http),
// in the resolver's order, union; it fails only when both lookups fail, with
// etcd's text "dns lookup errors: <https err> and <http err>". As in etcd the
// endpoint keeps the target's trailing dot (https://infra0.example.com.:2379).
// Each endpoint comes beside the *net.SRV it came from, for callers that
// weigh endpoints by the records' priority and weight (the gateway).
package srv
