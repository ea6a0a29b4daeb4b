package v3rpc

import (
	"context"
	"math"
	"time"

	"github.com/cairn-db/cairn/internal/server"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// grpcOverheadBytes is the room above --max-request-bytes that gRPC framing
// may take before a message is refused at the transport (etcd's margin).
const grpcOverheadBytes = 512 * 1024

// Options configure the gRPC server.
type Options struct {
	KeepAliveMinTime  time.Duration // --grpc-keepalive-min-time
	KeepAliveInterval time.Duration // --grpc-keepalive-interval
	KeepAliveTimeout  time.Duration // --grpc-keepalive-timeout
	// MaxConcurrentStreams is --max-concurrent-streams; 0 means unlimited.
	MaxConcurrentStreams uint32
	// SlowRequest is --warning-unary-request-duration: slower unary calls
	// are logged with their method.
	SlowRequest time.Duration
	Logger      *zap.Logger
}

// NewGRPCServer builds a gRPC server with every v3 service registered.
func NewGRPCServer(s *server.Server, opts Options) *grpc.Server {
	maxRecv := s.Options().MaxRequestBytes + grpcOverheadBytes
	gopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecv),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.ForceServerCodecV2(newCodec()),
	}
	streams := opts.MaxConcurrentStreams
	if streams == 0 {
		streams = math.MaxUint32
	}
	gopts = append(gopts, grpc.MaxConcurrentStreams(streams))
	if opts.KeepAliveMinTime > 0 {
		gopts = append(gopts, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             opts.KeepAliveMinTime,
			PermitWithoutStream: false,
		}))
	}
	if opts.KeepAliveInterval > 0 || opts.KeepAliveTimeout > 0 {
		gopts = append(gopts, grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    opts.KeepAliveInterval,
			Timeout: opts.KeepAliveTimeout,
		}))
	}
	unary := []grpc.UnaryServerInterceptor{learnerUnaryGuard(s)}
	if opts.SlowRequest > 0 && opts.Logger != nil {
		unary = append(unary, slowRequestLogger(opts.Logger, opts.SlowRequest))
	}
	gopts = append(gopts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(learnerStreamGuard(s)))
	g := grpc.NewServer(gopts...)
	pb.RegisterKVServer(g, newKVServer(s))
	pb.RegisterLeaseServer(g, newLeaseServer(s))
	pb.RegisterClusterServer(g, newClusterServer(s))
	pb.RegisterMaintenanceServer(g, newMaintenanceServer(s))
	pb.RegisterWatchServer(g, NewWatchServer(s.Hub(), s.Header, s.Options().MaxRequestBytes))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	return g
}

// slowRequestLogger logs unary calls that take longer than limit, the way
// etcd warns about slow requests; it adds one time.Now per call.
func slowRequestLogger(lg *zap.Logger, limit time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		if d := time.Since(start); d > limit {
			lg.Warn("request took too long", zap.String("method", info.FullMethod),
				zap.Duration("took", d), zap.Duration("expected-duration", limit), zap.Error(err))
		}
		return resp, err
	}
}

// learnerUnaryGuard refuses what a learner cannot answer, as etcd does: a
// learner is not in the quorum, so it serves only serializable reads and
// its own status.
func learnerUnaryGuard(s *server.Server) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if s.IsLearner() && !learnerMayServe(req) {
			return nil, toGRPC(server.ErrNotSupportedForLearner)
		}
		return handler(ctx, req)
	}
}

func learnerMayServe(req any) bool {
	switch r := req.(type) {
	case *pb.StatusRequest:
		return true
	case *pb.RangeRequest:
		return r.Serializable
	}
	return false
}

// learnerStreamGuard refuses watch and keep-alive streams on a learner.
func learnerStreamGuard(s *server.Server) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if s.IsLearner() {
			return toGRPC(server.ErrNotSupportedForLearner)
		}
		return handler(srv, ss)
	}
}
