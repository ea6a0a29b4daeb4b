// Package gateway is Cairn's L4 gateway, the engine of `cairn gateway
// start`: a TCP pass-through in front of a cluster's client endpoints, with
// the contract of etcd's gateway (etcd's proxy/tcpproxy).
//
// The proxy keeps no state about the requests it carries. For each
// accepted client connection it:
//
//  1. picks the next live endpoint in round-robin order (etcd's policy for
//     plain endpoints, which carry no SRV priority or weight);
//  2. dials it; a failed dial marks the endpoint failed (one log line) and
//     the next live endpoint is tried, each at most once per connection;
//  3. closes the client connection (one log line) when no endpoint is
//     live or all the live ones failed;
//  4. copies bytes both ways until either side ends, then closes both.
//
// A failed endpoint is skipped for Options.RetryDelay. After that it counts
// as live again, and the next dial to it is its re-probe: success brings it
// back, failure skips it for another delay.
//
// The caller's duties:
//
//  1. parse endpoints with ParseEndpoints (URL schemes are stripped);
//  2. refuse a configuration whose endpoint is the gateway's own listen
//     address with CheckSelfLoop, before listening;
//  3. hand the listener to New and run Serve;
//  4. call Close to stop: it closes the listener and every proxied
//     connection, cancels dials in flight, and waits for the proxy's
//     goroutines to end.
package gateway
