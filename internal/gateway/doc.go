// Package gateway is Cairn's L4 gateway, the engine of `cairn gateway
// start`: a TCP pass-through in front of a cluster's client endpoints, with
// the contract of etcd's gateway (etcd's proxy/tcpproxy).
//
// Endpoints come from --endpoints, or from DNS SRV records with
// --discovery-srv (compat §6, §8). Each is an Endpoint: an address and the
// SRV priority and weight it was published with (both 0 for --endpoints).
//
// The proxy keeps no state about the requests it carries. For each
// accepted client connection it:
//
//  1. picks an endpoint among the live ones, by etcd's rule:
//     a. take the live endpoints of the lowest priority;
//     b. if some of them have a weight > 0, pick one of those at random in
//     proportion to weight — but one time in a hundred, if that priority
//     also has weight-0 endpoints, pick one of them instead, round robin;
//     c. if none of them has a weight, pick round robin over every live
//     endpoint, whatever its priority (etcd applies priority only with
//     weights). Plain --endpoints always take this path: round robin in
//     the order given;
//  2. dials it; a failed dial marks the endpoint failed (one log line) and
//     step 1 is repeated without it, each endpoint tried at most once per
//     connection;
//  3. closes the client connection (one log line) when no endpoint is
//     live or all the live ones failed;
//  4. copies bytes both ways until either side ends, then closes both.
//
// A failed endpoint is skipped for Options.RetryDelay. After that it counts
// as live again, and the next dial to it is its re-probe: success brings it
// back, failure skips it for another delay.
//
// SRV discovery (DiscoverSRV) looks up _etcd-client-ssl[-S]._tcp.D and
// _etcd-client[-S]._tcp.D (internal/srv) and logs "discovered cluster from
// SRV". With --insecure-discovery every record is used. Without it (etcd's
// default) an http record is dropped as insecure and an https one is kept
// only if a TLS handshake with it verifies a certificate for the name D,
// against --trusted-ca-file or the system roots; etcd only dials TCP at
// this step. A lookup that fails is an error; lookups that keep nothing
// fall back to --endpoints, as in etcd.
//
// The caller's duties:
//
//  1. get the endpoints with ResolveEndpoints (SRV discovery, else
//     ParseEndpoints, which strips URL schemes), and stop on its error;
//  2. refuse endpoints, given or discovered, that resolve to the gateway's
//     own listen address with CheckSelfLoop, before listening;
//  3. hand the listener to New and run Serve;
//  4. call Close to stop: it closes the listener and every proxied
//     connection, cancels dials in flight, and waits for the proxy's
//     goroutines to end.
package gateway
