// Package discoveryd is the v2 discovery service (`cairn discovery`): the
// contract of discovery.etcd.io, kept in the v2 keys API of a backing
// cluster. New returns it as an http.Handler; the command wires the flags
// --addr (DefaultAddr), --etcd (Options.Etcd) and --host (Options.Host).
//
// Routes:
//
//  1. GET /new?size=N (N defaults to 3; it must be a positive integer, else
//  400. makes a random 32-hex-digit token, creates
//     /_etcd/registry/<token>/_config/size = N on the backing cluster with
//     prevExist=false, and answers "<host>/<token>" as text/plain with no
//     trailing newline, as discovery.etcd.io does. A backing cluster that
//     does not take the write gives 502 "unable to generate token".
//  2. GET, PUT and DELETE /<token>[/...][?query] go to
//     <etcd>/v2/keys/_etcd/registry/<token>[/...]?query with the same method
//     and form body. The answer's status, body and Content-Type, X-Etcd-*
//     and X-Raft-* headers come back unchanged and are streamed, so a
//     ?wait=true long poll works through the service. A 307 from a
//     follower is followed (to the leader) with the body sent again. An
//     unreachable backing cluster gives 502, which discovery clients retry.
//     A token is 32 lower-case hex digits (what /new hands out) or 40 (the
//     form the guide's examples use); any other first segment is 404.
//  3. GET /health answers 200 "OK".
//
// The handler keeps no state of its own: tokens live only in the backing
// cluster, so several instances may serve one cluster.
package discoveryd
