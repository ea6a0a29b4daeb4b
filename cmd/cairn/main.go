// Command cairn runs a Cairn member, started exactly like etcd.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/cairn-db/cairn/internal/config"
	"github.com/cairn-db/cairn/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func run(args, environ []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "discovery":
			return runDiscoveryService(args[1:])
		case "gateway":
			return runGateway(args[1:])
		case "grpc-proxy":
			// A subcommand of a later milestone; say so rather than
			// report a bad flag.
			fatalf("not supported yet: cairn %s", args[0])
			return 1
		}
	}
	cfg, err := config.Parse(args, environ)
	if err != nil {
		fatalf("%v", err)
		if errors.Is(err, config.ErrUsage) {
			return 2 // etcd's status for a malformed command line
		}
		return 1
	}
	switch {
	case cfg.ShowHelp:
		fmt.Print(config.Usage())
		return 0
	case cfg.ShowVersion:
		fmt.Printf("cairn Version: %s\netcd API Version: %s\n", version, server.Version)
		return 0
	}
	// The guide's bootstrap mistakes are reported first, with its words,
	// even when the command also asks for something not built yet.
	if err := checkStaticBootstrap(cfg); err != nil {
		fatalf("%v", err)
		return 1
	}
	if err := cfg.Unsupported(); err != nil {
		fatalf("%v", err)
		return 1
	}
	err = runMember(cfg)
	switch {
	case errors.Is(err, server.ErrRemoved):
		// Not a failure, as with etcd: a removed member stops for good,
		// and a supervisor must not restart it into the cluster.
		fmt.Fprintln(os.Stderr, "cairn: the member has been permanently removed from the cluster")
		fmt.Fprintln(os.Stderr, "cairn: the data-dir used by this member must be removed")
		return 0
	case err != nil:
		fatalf("%v", err)
		return 1
	}
	return 0
}

// fatalf prints a start-up failure as one line on stderr.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cairn: "+format+"\n", args...)
}
