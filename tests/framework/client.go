package framework

import (
	"crypto/tls"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// clientConfig is the configuration of the framework's clients: 5 s dial
// timeout and a silent logger (the client's retries would otherwise flood
// the test output while a member is down on purpose).
func clientConfig(endpoints []string) clientv3.Config {
	return clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
}

// NewClient returns a clientv3 client of endpoints, closed at the test's
// cleanup. Each opt may change the configuration before the client is made.
func NewClient(t testing.TB, endpoints []string, opts ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientConfig(endpoints)
	for _, opt := range opts {
		opt(&cfg)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("framework: client of %v: %v", endpoints, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Client returns a clientv3 client of this member (over TLS when its
// client URL is https), closed at cleanup.
func (m *Member) Client(t testing.TB, opts ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	return NewClient(t, []string{m.Endpoint()}, append([]func(*clientv3.Config){WithTLS(m.cfg.ClientTLS)}, opts...)...)
}

// WithTLS makes a client speak TLS with cfg; a nil cfg changes nothing.
func WithTLS(cfg *tls.Config) func(*clientv3.Config) {
	return func(c *clientv3.Config) {
		if cfg != nil {
			c.TLS = cfg.Clone()
		}
	}
}
