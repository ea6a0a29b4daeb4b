package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/api/httpapi"
	"github.com/cairn-db/cairn/internal/api/v2keys"
	"github.com/cairn-db/cairn/internal/api/v3gateway"
	"github.com/cairn-db/cairn/internal/api/v3rpc"
	"github.com/cairn-db/cairn/internal/config"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/raftnode"
	"github.com/cairn-db/cairn/internal/server"
	"github.com/cairn-db/cairn/internal/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/soheilhy/cmux"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"
)

func urlStrings(us []url.URL) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.String())
	}
	return out
}

func runMember(cfg *config.Config) error {
	lg, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer lg.Sync()
	for _, w := range cfg.Warnings {
		lg.Warn(w)
	}

	clusterMap, err := cfg.InitialClusterMap()
	if err != nil {
		return err
	}
	sec, err := setupTLS(cfg, lg)
	if err != nil {
		return err
	}
	if cfg.DiscoverySRV != "" && sec.peerDial != nil && cfg.PeerTLS.TrustedCAFile == "" {
		// Peers found through DNS and verified against the system's roots
		// must prove the discovery domain, not just the host name a
		// (possibly forged) SRV record points at: etcd's rule, which the
		// guide states. Cairn keeps it after a restart too.
		sec.peerDial.ServerName = cfg.DiscoverySRV
	}
	var (
		members       []*membership.Member
		self          *membership.Member
		joinClusterID uint64
	)
	if dataDirHasMember(cfg.DataDir) {
		// A restarted member: bootstrap flags are ignored.
		self = &membership.Member{Name: cfg.Name}
		if cfg.Discovery != "" {
			lg.Warn("discovery token ignored since a cluster has already been initialized. Valid log found at " + cfg.DataDir)
		}
	} else if members, self, joinClusterID, err = bootstrapMember(cfg, clusterMap, sec.peerDial, lg); err != nil {
		return err
	}

	// Listeners first, so a busy port fails start-up before any data is
	// written.
	if cfg.MemoryMlock {
		// Keep the member's memory resident: a page fault on the raft path
		// under memory pressure costs an election (etcd's --memory-mlock).
		if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
			return fmt.Errorf("--memory-mlock: %w", err)
		}
	}
	autoCompaction, err := server.ParseAutoCompaction(cfg.AutoCompactionMode, cfg.AutoCompactionRetention)
	if err != nil {
		return err
	}

	// Listeners are closed on every way out; closing one that an HTTP
	// server already closed is harmless.
	lo := listenOptions{reusePort: cfg.SocketReusePort, reuseAddress: cfg.SocketReuseAddress}
	clientLns, err := listenAll(cfg.ListenClientURLs, lo, sec.client)
	if err != nil {
		return err
	}
	defer closeAll(clientLns)
	peerLns, err := listenAll(cfg.ListenPeerURLs, lo, sec.peer)
	if err != nil {
		return err
	}
	defer closeAll(peerLns)
	metricsLns, err := listenAll(cfg.ListenMetricsURLs, lo, sec.client)
	if err != nil {
		return err
	}
	defer closeAll(metricsLns)

	srv, err := server.New(server.Options{
		Name:                        cfg.Name,
		DataDir:                     cfg.DataDir,
		WALDir:                      cfg.WALDir,
		InitialMembers:              members,
		Self:                        self,
		JoinClusterID:               joinClusterID,
		PeerTLS:                     sec.peerDial,
		StrictReconfigCheck:         cfg.StrictReconfigCheck,
		MaxLearners:                 cfg.MaxLearners,
		ClientURLs:                  urlStrings(cfg.AdvertiseClientURLs),
		TickInterval:                time.Duration(cfg.HeartbeatMs) * time.Millisecond,
		ElectionTimeout:             time.Duration(cfg.ElectionMs) * time.Millisecond,
		InitialElectionTickAdvance:  cfg.InitialElectionTickAdvance,
		PreVote:                     cfg.PreVote,
		SnapshotCount:               cfg.SnapshotCount,
		MaxTxnOps:                   int(cfg.MaxTxnOps),
		MaxRequestBytes:             int(cfg.MaxRequestBytes),
		QuotaBackendBytes:           cfg.QuotaBackendBytes,
		AutoCompaction:              autoCompaction,
		WatchProgressNotifyInterval: cfg.WatchProgressNotifyInterval,
		CatchUpEntries:              cfg.SnapshotCatchUpEntries,
		UnsafeNoFsync:               cfg.UnsafeNoFsync,
		Logger:                      lg,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		srv.Stop()
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(raftnode.Collectors()...)
	reg.MustRegister(transport.Collectors()...)
	if err := httpapi.RegisterMetrics(reg, srv); err != nil {
		srv.Stop()
		return err
	}

	// Peers first: the member becomes ready only once a quorum can talk.
	var httpServers []*http.Server
	for _, ln := range peerLns {
		hs := &http.Server{Handler: peerHandler(srv), ReadHeaderTimeout: 10 * time.Second}
		httpServers = append(httpServers, hs)
		go hs.Serve(ln)
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)
	select {
	case <-srv.ReadyNotify():
	case sig := <-sigc:
		// Still waiting for a quorum: stop without serving.
		lg.Info("received signal before the member was ready; shutting down", zap.String("signal", sig.String()))
		for _, hs := range httpServers {
			hs.Close()
		}
		srv.Stop()
		return nil
	case <-srv.StopNotify():
		for _, hs := range httpServers {
			hs.Close()
		}
		srv.Stop()
		return srv.Err()
	}

	gs := v3rpc.NewGRPCServer(srv, v3rpc.Options{
		KeepAliveMinTime:     cfg.GRPCKeepAliveMinTime,
		KeepAliveInterval:    cfg.GRPCKeepAliveInterval,
		KeepAliveTimeout:     cfg.GRPCKeepAliveTimeout,
		MaxConcurrentStreams: cfg.MaxConcurrentStreams,
		SlowRequest:          cfg.WarningUnaryRequestDuration,
		Logger:               lg,
	})
	httpHandler := httpapi.Handler(srv, httpapi.Options{EnablePprof: cfg.EnablePprof, Gatherer: reg})
	// The /v3 JSON gateway and the /v2 keys API call this member's gRPC
	// server in process: the HTTP request already passed the client
	// listener's TLS checks, so no second handshake (and no client
	// certificate of the member's own) is needed.
	selfLn := bufconn.Listen(1 << 20)
	go gs.Serve(selfLn)
	selfDialer := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return selfLn.DialContext(ctx) })
	clientHandler := httpHandler
	if cfg.EnableGRPCGateway {
		gw, gwClose, err := v3gateway.New(context.Background(), "passthrough:///cairn-self", selfDialer)
		if err != nil {
			srv.Stop()
			return fmt.Errorf("grpc gateway: %w", err)
		}
		defer gwClose()
		clientHandler = v3gateway.Route(gw, httpHandler)
	}
	selfClient, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"127.0.0.1:1"}, // never dialed: selfDialer replaces the dialer
		DialOptions: []grpc.DialOption{selfDialer},
		DialTimeout: 5 * time.Second,
		Logger:      lg.Named("self-client"),
	})
	if err != nil {
		srv.Stop()
		return fmt.Errorf("in-process client: %w", err)
	}
	defer selfClient.Close()
	withV2 := http.NewServeMux()
	withV2.Handle("/v2/", v2keys.New(selfClient, v2keys.Options{ClusterID: srv.ClusterID, Logger: lg.Named("v2")}))
	withV2.Handle("/", clientHandler)
	clientHandler = withV2
	for i, ln := range clientLns {
		h := clientHandler
		if u := cfg.ListenClientURLs[i]; u.Scheme == "https" || u.Scheme == "unixs" {
			httpServers = append(httpServers, serveClientTLS(ln, gs, h))
		} else {
			httpServers = append(httpServers, serveClient(lg, ln, gs, h))
		}
	}
	for _, ln := range metricsLns {
		hs := &http.Server{Handler: httpapi.MetricsHandler(srv, reg), ReadHeaderTimeout: 10 * time.Second}
		httpServers = append(httpServers, hs)
		go hs.Serve(ln)
	}
	lg.Info("serving client traffic",
		zap.String("name", cfg.Name),
		zap.String("member-id", membership.FormatID(srv.ID())),
		zap.String("cluster-id", membership.FormatID(srv.ClusterID())),
		zap.Strings("listen-client-urls", urlStrings(cfg.ListenClientURLs)),
		zap.Strings("advertise-client-urls", urlStrings(cfg.AdvertiseClientURLs)))

	var runErr error
	select {
	case sig := <-sigc:
		lg.Info("received signal; shutting down", zap.String("signal", sig.String()))
	case <-srv.StopNotify():
		runErr = srv.Err()
	}
	srv.HandOverLeadership()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		gs.Stop()
	}
	for _, hs := range httpServers {
		hs.Close()
	}
	srv.Stop()
	return runErr
}

// dataDirHasMember reports whether the data dir already holds a member, in
// which case bootstrap flags are ignored.
func dataDirHasMember(dir string) bool {
	_, err := os.Stat(dir + "/member/db")
	return err == nil
}

// serveClient splits one client listener into gRPC (HTTP/2 with the gRPC
// content type) and plain HTTP.
func serveClient(lg *zap.Logger, ln net.Listener, gs *grpc.Server, h http.Handler) *http.Server {
	m := cmux.New(ln)
	tlsL := m.Match(tlsClientHello)
	grpcL := m.MatchWithWriters(cmux.HTTP2MatchHeaderFieldSendSettings("content-type", "application/grpc"))
	httpL := m.Match(cmux.Any())
	go refuseTLS(lg, tlsL)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := gs.Serve(grpcL); err != nil && !errors.Is(err, grpc.ErrServerStopped) && !isClosed(err) {
			lg.Warn("gRPC serve", zap.Error(err))
		}
	}()
	go hs.Serve(httpL)
	go func() {
		if err := m.Serve(); err != nil && !isClosed(err) {
			lg.Debug("cmux serve", zap.Error(err))
		}
	}()
	return hs
}

// tlsClientHello matches a connection that opens with a TLS handshake
// record: a TLS client dialing a plain-text port.
func tlsClientHello(r io.Reader) bool {
	var b [3]byte
	n, _ := io.ReadFull(r, b[:])
	return n == 3 && b[0] == 0x16 && b[1] == 0x03
}

// refuseTLS answers TLS clients on a plain-text port with a fatal
// handshake_failure alert, so they fail at once, and logs why.
func refuseTLS(lg *zap.Logger, ln net.Listener) {
	alert := []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		lg.Warn("refused a TLS connection on a plain-text client port; the client must use http:// here, or the member must serve https",
			zap.String("remote-addr", c.RemoteAddr().String()), zap.String("local-addr", c.LocalAddr().String()))
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(alert)
		c.Close()
	}
}

// serveClientTLS serves gRPC and plain HTTP on one TLS listener through
// one http.Server, split by request: on TLS, HTTP/2 is chosen by ALPN for
// both gRPC and HTTP clients, so cmux cannot tell them apart without
// answering for the HTTP/2 server, and handlers see the client's
// certificate this way.
func serveClientTLS(ln net.Listener, gs *grpc.Server, h http.Handler) *http.Server {
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				gs.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go hs.Serve(ln)
	return hs
}

func isClosed(err error) bool {
	return err != nil && (errors.Is(err, net.ErrClosed) || errors.Is(err, cmux.ErrListenerClosed) ||
		strings.Contains(err.Error(), "use of closed network connection"))
}
