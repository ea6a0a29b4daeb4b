// Package v3gateway serves etcd's /v3/* JSON gateway: the HTTP/JSON face of
// the v3 gRPC API that etcd exposes on its client port when
// --enable-grpc-gateway is true (the default).
//
// # Contract
//
// New dials the member's own gRPC endpoint (plain text unless the caller's
// dial options say otherwise) and returns an http.Handler that translates
// each request into one gRPC call on that connection, using the generated
// grpc-gateway handlers that ship with go.etcd.io/etcd/api/v3. Routes are
// etcd's: POST /v3/kv/{range,put,deleterange,txn,compaction}, /v3/watch,
// /v3/lease/{grant,revoke,keepalive,timetolive,leases} (and the
// /v3/kv/lease/... aliases), /v3/cluster/member/{add,remove,update,list,
// promote}, /v3/maintenance/{alarm,status,defragment,hash,hashkv,snapshot,
// transfer-leadership,downgrade} and /v3/auth/....
//
// The wire format is the one etcd 3.4 and 3.5 produce:
//
//   - request bodies are the JSON mapping of the request message; both
//     proto field names ("range_end") and JSON names ("rangeEnd") are
//     accepted, unknown fields are ignored, an empty body is the empty
//     request, bytes fields are standard base64 and 64-bit integers may be
//     strings or numbers;
//   - responses use proto field names, omit fields holding their default
//     value, print 64-bit integers as strings, bytes as standard base64 and
//     enums by name, with no insignificant white space and with <, > and &
//     escaped inside strings;
//   - a failed call answers {"error":MSG,"message":MSG,"code":GRPC_CODE}
//     with the HTTP status grpc-gateway v1 mapped the gRPC code to (for
//     example 400 for OutOfRange, 404 for NotFound, 412 for
//     FailedPrecondition);
//   - streams (watch, lease keep-alive) answer one {"result":...} object
//     per message, each followed by a newline, and a failure mid-stream as
//     {"error":{"grpc_code":N,"http_code":N,"message":MSG,"http_status":TEXT}};
//   - an unknown path under a gateway prefix is a text/plain 404
//     "Not Found", a known path with a method other than POST a 405;
//   - a WebSocket upgrade on any gateway path is accepted: each text
//     message the client sends is one request object of the stream, each
//     response line comes back as one text message.
//
// Paths lists the URL prefixes to route to the handler: "/v3/" and the
// "/v3beta/" alias that etcd 3.4 also served. etcd 3.4 already dropped
// "/v3alpha/", so Cairn does not serve it. Route combines the gateway with
// the client port's other HTTP handler.
//
// HTTP headers are passed on as gRPC metadata the way grpc-gateway does it:
// "Authorization" as "authorization" (the auth token), "Grpc-Metadata-K"
// as "k", other standard headers as "grpcgateway-<name>". Response header
// metadata comes back as "Grpc-Metadata-<key>" headers.
package v3gateway
