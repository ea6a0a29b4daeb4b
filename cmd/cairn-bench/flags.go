package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// globals are the flags every subcommand shares.
type globals struct {
	endpoints      []string      // --endpoints
	conns          int           // --conns: clientv3 clients, one gRPC connection each
	clients        int           // --clients: goroutines issuing requests
	total          int           // --total: requests to send
	keySize        int           // --key-size: key length in bytes
	valSize        int           // --val-size: value length in bytes
	sequentialKeys bool          // --sequential-keys
	keySpaceSize   int           // --key-space-size: distinct keys written
	consistency    string        // --consistency: l or s
	targetLeader   bool          // --target-leader
	rate           float64       // --rate: requests per second, 0 unlimited
	dialTimeout    time.Duration // --dial-timeout
	requestTimeout time.Duration // --request-timeout
	json           bool          // --json
	cacert         string        // --cacert
	cert, key      string        // --cert, --key
	insecureTLS    bool          // --insecure-skip-tls-verify
	user, password string        // --user, --password

	stderr io.Writer // where the progress bar goes, when it is a terminal
}

// register adds the flags to root's persistent flags, which every
// subcommand inherits.
func (g *globals) register(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.StringSliceVar(&g.endpoints, "endpoints", []string{"127.0.0.1:2379"}, "comma-separated gRPC endpoints (host:port, http:// or https:// URLs)")
	fs.IntVar(&g.conns, "conns", 1, "gRPC connections; connection i talks to endpoint i mod len(endpoints)")
	fs.IntVar(&g.clients, "clients", 1, "concurrent client goroutines, spread over the connections")
	fs.IntVar(&g.total, "total", 10000, "requests to send")
	fs.IntVar(&g.keySize, "key-size", 8, "key size in bytes: keys are the key number in decimal, zero-padded to this width")
	fs.IntVar(&g.valSize, "val-size", 8, "value size in bytes")
	fs.BoolVar(&g.sequentialKeys, "sequential-keys", false, "write keys 0, 1, 2, … (mod --key-space-size) instead of random ones")
	fs.IntVar(&g.keySpaceSize, "key-space-size", 1, "number of distinct keys written")
	fs.StringVar(&g.consistency, "consistency", "l", "read consistency: l (linearizable) or s (serializable)")
	fs.BoolVar(&g.targetLeader, "target-leader", false, "find the leader among --endpoints with Status and send every request to it")
	fs.Float64Var(&g.rate, "rate", 0, "limit on requests per second over all clients; 0 is unlimited")
	fs.DurationVar(&g.dialTimeout, "dial-timeout", 5*time.Second, "how long to wait for each endpoint to answer before starting")
	fs.DurationVar(&g.requestTimeout, "request-timeout", 10*time.Second, "deadline of each request; one that passes it counts as an error")
	fs.BoolVar(&g.json, "json", false, "print the results as one JSON object")
	fs.StringVar(&g.cacert, "cacert", "", "verify servers with this CA bundle (PEM)")
	fs.StringVar(&g.cert, "cert", "", "client certificate (PEM), with --key")
	fs.StringVar(&g.key, "key", "", "client private key (PEM), with --cert")
	fs.BoolVar(&g.insecureTLS, "insecure-skip-tls-verify", false, "speak TLS without verifying the server's certificate")
	fs.StringVar(&g.user, "user", "", "authenticate as this user: name or name:password")
	fs.StringVar(&g.password, "password", "", "password of --user (when it has no :password)")
}

// validate checks the flags against each other; its errors are usage
// errors.
func (g *globals) validate() error {
	switch {
	case len(g.endpoints) == 0:
		return usagef("--endpoints is empty")
	case g.conns < 1:
		return usagef("--conns must be at least 1")
	case g.clients < 1:
		return usagef("--clients must be at least 1")
	case g.total < 1:
		return usagef("--total must be at least 1")
	case g.valSize < 0:
		return usagef("--val-size must not be negative")
	case g.rate < 0 || math.IsNaN(g.rate):
		return usagef("--rate must be a number, at least 0")
	case g.consistency != "l" && g.consistency != "s":
		return usagef("--consistency must be l or s, not %q", g.consistency)
	case (g.cert == "") != (g.key == ""):
		return usagef("--cert and --key go together")
	case g.password != "" && g.user == "":
		return usagef("--password needs --user")
	case g.dialTimeout <= 0 || g.requestTimeout <= 0:
		return usagef("--dial-timeout and --request-timeout must be positive")
	}
	for _, ep := range g.endpoints {
		if strings.TrimSpace(ep) == "" {
			return usagef("--endpoints has an empty entry")
		}
	}
	if g.user != "" {
		if _, _, err := g.credentials(); err != nil {
			return err
		}
	}
	if _, err := newKeyspace(g.keySize, g.keySpaceSize, g.sequentialKeys); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// credentials splits --user name:password, or pairs --user with
// --password. A benchmark never prompts: it may run unattended.
func (g *globals) credentials() (user, password string, err error) {
	user, password = g.user, g.password
	if name, pw, ok := strings.Cut(g.user, ":"); ok {
		if g.password != "" {
			return "", "", usagef("give the password either in --user name:password or in --password, not both")
		}
		user, password = name, pw
	}
	if user == "" || password == "" {
		return "", "", usagef("--user needs a name and a password (--user name:password, or --user name --password pw)")
	}
	return user, password, nil
}

// serializable reports whether reads are to be served by any member
// without a round through the leader.
func (g *globals) serializable() bool { return g.consistency == "s" }

// usesTLS reports whether the clients dial with TLS: when a TLS flag is
// given or an endpoint is an https URL.
func (g *globals) usesTLS() bool {
	if g.cacert != "" || g.cert != "" || g.insecureTLS {
		return true
	}
	for _, ep := range g.endpoints {
		if strings.HasPrefix(ep, "https://") {
			return true
		}
	}
	return false
}

// tlsConfig builds the clients' TLS configuration from the flags, or nil
// for plaintext.
func (g *globals) tlsConfig() (*tls.Config, error) {
	if !g.usesTLS() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: g.insecureTLS}
	if g.cacert != "" {
		pem, err := os.ReadFile(g.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate in it", g.cacert)
		}
		cfg.RootCAs = pool
	}
	if g.cert != "" {
		pair, err := tls.LoadX509KeyPair(g.cert, g.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// clientConfig is the configuration of a client of endpoints.
func (g *globals) clientConfig(endpoints []string, tlsCfg *tls.Config) clientv3.Config {
	cfg := clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: g.dialTimeout,
		TLS:         tlsCfg,
		// Failed requests are counted and their texts reported; the
		// client's own retry warnings would only garble the output.
		Logger: zap.NewNop(),
	}
	if g.user != "" {
		cfg.Username, cfg.Password, _ = g.credentials() // checked by validate
	}
	return cfg
}
