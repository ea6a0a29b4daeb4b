package v3gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// httpStatus maps a gRPC code to the HTTP status of etcd's gateway. It is
// grpc-gateway v2's table except where etcd (built on grpc-gateway v1)
// answers differently: Canceled is 408 and FailedPrecondition 412.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.Canceled:
		return http.StatusRequestTimeout
	case codes.FailedPrecondition:
		return http.StatusPreconditionFailed
	}
	return runtime.HTTPStatusFromCode(c)
}

// writeError answers a failed unary call (or a stream that failed before
// its first message) with {"error","message","code"}.
func writeError(ctx context.Context, mux *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
	hs := 0
	var se *runtime.HTTPStatusError
	if errors.As(err, &se) {
		hs = se.HTTPStatus
		err = se.Err
	}
	st := status.Convert(err)
	if hs == 0 {
		hs = httpStatus(st.Code())
	}
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		for k, vs := range md.HeaderMD {
			for _, v := range vs {
				h.Add(runtime.MetadataHeaderPrefix+k, v)
			}
		}
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(hs)
	_, _ = w.Write(errorJSON(st.Code(), st.Message()))
}

// routingError answers a request that matched no gateway route the way
// net/http does: text/plain "Not Found" or "Method Not Allowed".
func routingError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, code int) {
	http.Error(w, http.StatusText(code), code)
}
