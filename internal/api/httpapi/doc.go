// Package httpapi serves the plain-HTTP endpoints of the client port:
// /health, /livez, /readyz, /version and /metrics (and /debug/pprof when
// enabled). The caller mounts Handler next to the gRPC server.
package httpapi
