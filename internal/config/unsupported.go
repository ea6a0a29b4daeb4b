package config

import (
	"fmt"
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
	// Split HTTP client listener.
	{"listen-client-http-urls", changed},
	// Discovery.
	// --discovery-fallback=proxy needs the v2 proxy.
	{"discovery-fallback", changed},
	// v2 proxy.
	{"proxy", changed},
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
