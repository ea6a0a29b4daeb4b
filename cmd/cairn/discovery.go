package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/discoveryd"
	"github.com/cairn-db/cairn/internal/tlsutil"
	"go.uber.org/zap"
)

// runDiscoveryService runs `cairn discovery`: a discovery service with
// discovery.etcd.io's contract, keeping its tokens in the v2 keys API of a
// backing cluster.
func runDiscoveryService(args []string) int {
	fs := flag.NewFlagSet("cairn discovery", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", discoveryd.DefaultAddr, "web service address")
	etcd := fs.String("etcd", discoveryd.DefaultEtcd, "client URL of the backing cluster")
	host := fs.String("host", "", "URL prefix of the token URLs handed out (default: the request's own scheme and host)")
	certFile := fs.String("cert-file", "", "serve https with this certificate (PEM)")
	keyFile := fs.String("key-file", "", "the key of --cert-file (PEM)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(`Usage: cairn discovery [--addr :8087] [--etcd http://127.0.0.1:2379] [--host URL]
                       [--cert-file FILE --key-file FILE]

A discovery service: GET /new?size=N hands out a discovery URL; members
started with --discovery <that URL> meet there. Tokens are kept in the
v2 keys API of the backing cluster (--etcd).
`)
			return 0
		}
		fatalf("discovery: %v", err)
		return 2
	}
	if fs.NArg() > 0 {
		fatalf("discovery: unexpected argument %q", fs.Arg(0))
		return 2
	}
	lg, err := zap.NewProduction()
	if err != nil {
		fatalf("discovery: %v", err)
		return 1
	}
	defer lg.Sync()
	h, err := discoveryd.New(discoveryd.Options{Etcd: *etcd, Host: *host, Logger: lg})
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	if (*certFile == "") != (*keyFile == "") {
		fatalf("discovery: --cert-file and --key-file go together")
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fatalf("discovery: listen %s: %v", *addr, err)
		return 1
	}
	if *certFile != "" {
		info := &tlsutil.Info{CertFile: *certFile, KeyFile: *keyFile, Logger: lg}
		if ln, err = info.NewListener(ln); err != nil {
			fatalf("discovery: %v", err)
			return 1
		}
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	lg.Info("serving the discovery service", zap.String("addr", ln.Addr().String()), zap.String("etcd", *etcd))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigc:
		hs.Close()
		return 0
	case err := <-errc:
		fatalf("discovery: %v", err)
		return 1
	}
}
