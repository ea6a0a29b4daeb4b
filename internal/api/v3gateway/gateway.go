package v3gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.etcd.io/etcd/api/v3/etcdserverpb/gw"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// canonicalPrefix is the prefix of every route the generated handlers know.
const canonicalPrefix = "/v3/"

// aliasPrefixes are older prefixes served as synonyms of /v3/: etcd 3.4
// served /v3beta/ next to /v3/ (and had already dropped /v3alpha/).
var aliasPrefixes = []string{"/v3beta/"}

// Paths returns the URL path prefixes the gateway handler serves; the
// caller routes every request under them to the handler from New.
func Paths() []string {
	return append([]string{canonicalPrefix}, aliasPrefixes...)
}

// Route returns a handler that sends the gateway's prefixes to gateway and
// everything else to fallback, with net/http's path cleaning (as etcd's
// client port does).
func Route(gateway, fallback http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range Paths() {
		mux.Handle(p, gateway)
	}
	mux.Handle("/", fallback)
	return mux
}

// registrars are the generated handler sets of etcd's v3 API.
var registrars = []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
	gw.RegisterKVHandler,
	gw.RegisterWatchHandler,
	gw.RegisterLeaseHandler,
	gw.RegisterClusterHandler,
	gw.RegisterMaintenanceHandler,
	gw.RegisterAuthHandler,
}

// New dials grpcTarget (the member's own client endpoint, such as
// "127.0.0.1:2379") and returns the JSON gateway handler and a function
// that closes the connection. The connection is plain text with unlimited
// message sizes unless dialOpts say otherwise: options given here are
// applied after those defaults, so transport credentials passed by the
// caller replace the plain-text ones. Cancelling ctx closes the connection
// too. Dialing is lazy: New fails only on an invalid target or options.
func New(ctx context.Context, grpcTarget string, dialOpts ...grpc.DialOption) (http.Handler, func() error, error) {
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(math.MaxInt32),
			grpc.MaxCallSendMsgSize(math.MaxInt32),
		),
	}, dialOpts...)
	conn, err := grpc.NewClient(grpcTarget, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("v3gateway: dial %s: %w", grpcTarget, err)
	}
	var (
		once     sync.Once
		closeErr error
	)
	closeFn := func() error {
		once.Do(func() { closeErr = conn.Close() })
		return closeErr
	}

	mux := newServeMux()
	for _, register := range registrars {
		if err := register(ctx, mux, conn); err != nil {
			_ = closeFn()
			return nil, nil, fmt.Errorf("v3gateway: register handlers: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = closeFn() })
	return &handler{mux: mux}, func() error {
		stop()
		return closeFn()
	}, nil
}

func newServeMux() *runtime.ServeMux {
	return runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newJSONMarshaler()),
		runtime.WithErrorHandler(writeError),
		runtime.WithRoutingErrorHandler(routingError),
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
	)
}

// handler maps alias prefixes onto /v3/, accepts WebSocket upgrades and
// hands everything to the grpc-gateway mux.
type handler struct {
	mux *runtime.ServeMux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = canonicalPath(r)
	if isWebSocket(r) {
		serveWebSocket(h.mux, w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// canonicalPath rewrites an alias prefix to /v3/.
func canonicalPath(r *http.Request) *http.Request {
	for _, p := range aliasPrefixes {
		if !strings.HasPrefix(r.URL.Path, p) {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = canonicalPrefix + strings.TrimPrefix(r.URL.Path, p)
		if r.URL.RawPath != "" && strings.HasPrefix(r.URL.RawPath, p) {
			r2.URL.RawPath = canonicalPrefix + strings.TrimPrefix(r.URL.RawPath, p)
		} else {
			r2.URL.RawPath = ""
		}
		return r2
	}
	return r
}
