// Package v3rpc serves etcd's v3 gRPC API (KV, Watch, Lease, Cluster,
// Maintenance, and grpc.health.v1) on top of internal/server.
//
// It checks requests the way etcd's API layer does before they reach raft,
// fills response headers, and maps every internal error to the etcd
// rpctypes error clients expect — in errors.go, and nowhere else.
//
// Callers: build the grpc.Server with NewGRPCServer, serve it on a
// listener, and GracefulStop it before stopping the server.
package v3rpc
