package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/gateway"
	"go.uber.org/zap"
)

const gatewayUsage = `Usage: cairn gateway start [flags]

An L4 gateway: a TCP pass-through that forwards each client connection to
one of the cluster's client endpoints, skipping failed ones: round robin
over --endpoints, or by SRV priority and weight with --discovery-srv.

Flags:
  --endpoints 127.0.0.1:2379
      comma-separated etcd cluster endpoints (URL schemes are stripped)
  --listen-addr 127.0.0.1:23790
      listen address
  --retry-delay 1m0s
      how long a failed endpoint is skipped before it is tried again
  --discovery-srv ''
      DNS domain whose _etcd-client-ssl and _etcd-client SRV records give
      the endpoints; --endpoints is used when no record is kept (a failed
      lookup stops the gateway)
  --discovery-srv-name ''
      service name to query with --discovery-srv (adds "-<name>")
  --insecure-discovery false
      accept insecure SRV records: http ones, and https ones unchecked;
      otherwise each https endpoint must pass a TLS handshake for the
      --discovery-srv domain
  --trusted-ca-file ''
      path to the client server TLS CA file for verifying the discovered
      endpoints (default: the system roots)
`

// endpointsFlag is a comma-separated list; the first use replaces the
// default, later ones append, as with etcd's string-slice flags.
type endpointsFlag struct {
	list []string
	set  bool
}

func (f *endpointsFlag) String() string { return strings.Join(f.list, ",") }

func (f *endpointsFlag) Set(v string) error {
	if !f.set {
		f.list, f.set = nil, true
	}
	f.list = append(f.list, strings.Split(v, ",")...)
	return nil
}

// runGateway runs `cairn gateway ...`; start is its only command.
func runGateway(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, gatewayUsage)
		return 2
	}
	switch args[0] {
	case "start":
	case "-h", "-help", "--help", "help":
		fmt.Print(gatewayUsage)
		return 0
	default:
		fatalf("gateway: unknown command %q (want: cairn gateway start)", args[0])
		return 2
	}
	fs := flag.NewFlagSet("cairn gateway start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	endpoints := &endpointsFlag{list: []string{"127.0.0.1:2379"}}
	fs.Var(endpoints, "endpoints", "")
	listenAddr := fs.String("listen-addr", "127.0.0.1:23790", "")
	retryDelay := fs.String("retry-delay", "1m0s", "")
	srvDomain := fs.String("discovery-srv", "", "")
	srvName := fs.String("discovery-srv-name", "", "")
	// false, as etcd's gateway (etcdctl's flag of the same name defaults
	// to true).
	insecureDiscovery := fs.Bool("insecure-discovery", false, "")
	trustedCA := fs.String("trusted-ca-file", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(gatewayUsage)
			return 0
		}
		fatalf("gateway: %v", err)
		return 2
	}
	if fs.NArg() > 0 {
		fatalf("gateway: unexpected argument %q", fs.Arg(0))
		return 2
	}
	delay, err := time.ParseDuration(*retryDelay)
	if err != nil || delay < 0 {
		fatalf("gateway: invalid --retry-delay %q (want a duration such as 1m)", *retryDelay)
		return 1
	}
	if delay == 0 {
		delay = 5 * time.Minute // etcd's tcpproxy default for a zero delay
	}
	lg, err := zap.NewProduction()
	if err != nil {
		fatalf("gateway: %v", err)
		return 1
	}
	defer lg.Sync()
	eps, err := gateway.ResolveEndpoints(context.Background(), net.DefaultResolver, gateway.DiscoveryOptions{
		Domain:        *srvDomain,
		ServiceName:   *srvName,
		Insecure:      *insecureDiscovery,
		TrustedCAFile: *trustedCA,
		Logger:        lg,
	}, endpoints.list)
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	if err := gateway.CheckSelfLoop(*listenAddr, eps, nil); err != nil {
		fatalf("%v", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listenAddr)
	if err != nil {
		fatalf("gateway: listen %s: %v", *listenAddr, err)
		return 1
	}
	p, err := gateway.New(ln, gateway.Options{Endpoints: eps, RetryDelay: delay, Logger: lg})
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	addrs := make([]string, len(eps))
	for i, ep := range eps {
		addrs[i] = ep.Addr
	}
	lg.Info("ready to proxy client requests",
		zap.String("listen-addr", ln.Addr().String()), zap.Strings("endpoints", addrs), zap.Duration("retry-delay", delay))
	errc := make(chan error, 1)
	go func() { errc <- p.Serve() }()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)
	select {
	case sig := <-sigc:
		lg.Info("stopping the gateway", zap.String("signal", sig.String()))
		p.Close()
		<-errc
		return 0
	case err := <-errc:
		p.Close()
		fatalf("%v", err)
		return 1
	}
}
