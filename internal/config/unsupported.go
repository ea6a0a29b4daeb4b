package config

import (
	"fmt"
	"net/url"
	"sync"
)

// defaultConfig holds every default, for comparisons; never modified.
var defaultConfig = sync.OnceValue(newDefaults)

// notYetSupported lists what Cairn parses but does not implement yet. Each
// row names a flag and says when the configuration needs it. Delete a row
// in the change that implements the feature.
var notYetSupported = []struct {
	flag  string
	needs func(c *Config, flag string) bool
}{
	// TLS, client side.
	{"cert-file", changed},
	{"key-file", changed},
	{"client-cert-auth", changed},
	{"client-cert-file", changed},
	{"client-key-file", changed},
	{"client-crl-file", changed},
	{"client-cert-allowed-hostname", changed},
	{"client-cert-allowed-cn", changed},
	{"trusted-ca-file", changed},
	{"auto-tls", changed},
	// TLS, peer side.
	{"peer-cert-file", changed},
	{"peer-key-file", changed},
	{"peer-client-cert-auth", changed},
	{"peer-client-cert-file", changed},
	{"peer-client-key-file", changed},
	{"peer-crl-file", changed},
	{"peer-trusted-ca-file", changed},
	{"peer-cert-allowed-cn", changed},
	{"peer-cert-allowed-hostname", changed},
	{"peer-auto-tls", changed},
	{"peer-skip-client-san-verification", changed},
	// TLS, both sides.
	{"self-signed-cert-validity", changed},
	{"cipher-suites", changed},
	{"tls-min-version", changed},
	{"tls-max-version", changed},
	// URLs that need TLS (https, unixs) or unix sockets (unix, unixs).
	{"listen-peer-urls", urlNeedsWork},
	{"initial-advertise-peer-urls", urlNeedsWork},
	{"listen-client-urls", urlNeedsWork},
	{"advertise-client-urls", urlNeedsWork},
	{"listen-metrics-urls", urlNeedsWork},
	// Split HTTP client listener.
	{"listen-client-http-urls", changed},
	// Discovery (v2, v3, DNS SRV).
	{"discovery", changed},
	{"discovery-proxy", changed},
	{"discovery-srv", changed},
	{"discovery-srv-name", changed},
	{"discovery-endpoints", changed},
	{"discovery-token", changed},
	// v2 proxy.
	{"proxy", changed},
	// Clustering: URLs that need TLS or unix sockets.
	{"initial-cluster", clusterNeedsWork},
	// Peer transport timeouts (clustering).
	{"raft-read-timeout", changed},
	{"raft-write-timeout", changed},
	// Browser-facing HTTP policy.
	{"cors", changed},
	{"host-whitelist", changed},
	// Auth: tokens and password hashing arrive with the auth service.
	{"auth-token", changed},
	{"bcrypt-cost", changed},
	{"auth-token-ttl", changed},
	// Per-RPC latency histograms.
	{"metrics", changed},
	// Log rotation.
	{"enable-log-rotation", changed},
	{"log-rotation-config-json", changed},
	// Cross-member corruption checks and downgrades (clustering).
	{"corrupt-check-time", changed},
	{"compact-hash-check-time", changed},
	{"downgrade-check-time", changed},
	// Disaster recovery.
	{"force-new-cluster", changed},
}

// Unsupported returns "not supported yet: --flag" for the first flag in
// the table above that the configuration needs, or nil.
func (c *Config) Unsupported() error {
	for _, row := range notYetSupported {
		if row.needs(c, row.flag) {
			return fmt.Errorf("not supported yet: --%s", row.flag)
		}
	}
	return nil
}

// changed reports whether flag was set explicitly to something other than
// its default.
func changed(c *Config, flag string) bool {
	if !c.explicit[flag] {
		return false
	}
	d := flagIndex[flag]
	return d.bind(c).String() != d.bind(defaultConfig()).String()
}

// urlNeedsWork reports whether the URL list of flag has an https, unix or
// unixs URL.
func urlNeedsWork(c *Config, flag string) bool {
	us := *flagIndex[flag].bind(c).(urlsValue).p
	return hasScheme(us, "https", "unix", "unixs")
}

func hasScheme(us []url.URL, schemes ...string) bool {
	for i := range us {
		for _, s := range schemes {
			if us[i].Scheme == s {
				return true
			}
		}
	}
	return false
}

// clusterNeedsWork reports whether --initial-cluster uses URLs that need
// TLS or unix sockets. A malformed value is left for bootstrap to report.
func clusterNeedsWork(c *Config, _ string) bool {
	m, err := c.InitialClusterMap()
	if err != nil {
		return false
	}
	for _, urls := range m {
		for _, s := range urls {
			if u, err := url.Parse(s); err == nil && hasScheme([]url.URL{*u}, "https", "unix", "unixs") {
				return true
			}
		}
	}
	return false
}
