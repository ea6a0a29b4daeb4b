package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// maxElectionMs is etcd's upper bound on --election-timeout.
const maxElectionMs = 50000

// validate checks the rules that span flags. Texts are etcd's where etcd
// has one; each error is one line and names the flag.
func (c *Config) validate() error {
	if len(c.PeerTLS.AllowedCNs) > 0 && len(c.PeerTLS.AllowedHostnames) > 0 {
		return fmt.Errorf("--peer-cert-allowed-cn and --peer-cert-allowed-hostname are mutually exclusive (cns=%q, hostnames=%q)",
			c.PeerTLS.AllowedCNs, c.PeerTLS.AllowedHostnames)
	}
	if len(c.ClientTLS.AllowedCNs) > 0 && len(c.ClientTLS.AllowedHostnames) > 0 {
		return fmt.Errorf("client-transport-security allowed-cn and --client-cert-allowed-hostname are mutually exclusive (cns=%q, hostnames=%q)",
			c.ClientTLS.AllowedCNs, c.ClientTLS.AllowedHostnames)
	}

	if err := checkHostURLs(c.AdvertisePeerURLs); err != nil {
		return fmt.Errorf(`--initial-advertise-peer-urls %q must be "host:port" (%v)`, joinURLs(c.AdvertisePeerURLs), err)
	}
	if err := checkHostURLs(c.AdvertiseClientURLs); err != nil {
		return fmt.Errorf(`--advertise-client-urls %q must be "host:port" (%v)`, joinURLs(c.AdvertiseClientURLs), err)
	}

	if err := c.validateBootstrap(); err != nil {
		return err
	}

	if c.HeartbeatMs == 0 {
		return fmt.Errorf("--heartbeat-interval must be >0 (set to %dms)", c.HeartbeatMs)
	}
	if c.ElectionMs == 0 {
		return fmt.Errorf("--election-timeout must be >0 (set to %dms)", c.ElectionMs)
	}
	if c.HeartbeatMs > c.ElectionMs/5 {
		return fmt.Errorf("--election-timeout[%vms] should be at least as 5 times as --heartbeat-interval[%vms]", c.ElectionMs, c.HeartbeatMs)
	}
	if c.ElectionMs > maxElectionMs {
		return fmt.Errorf("--election-timeout[%vms] is too long, and should be set less than %vms", c.ElectionMs, maxElectionMs)
	}

	if len(c.ListenClientURLs) > 0 && len(c.AdvertiseClientURLs) == 0 {
		return errors.New("--advertise-client-urls is required when --listen-client-urls is set explicitly")
	}

	if err := c.validateCompaction(); err != nil {
		return err
	}
	if err := c.validateLogging(); err != nil {
		return err
	}

	if c.TLSMinVersion != "" && c.TLSMaxVersion != "" && c.TLSMinVersion > c.TLSMaxVersion {
		return fmt.Errorf("min version (%s) is greater than max version (%s)", c.TLSMinVersion, c.TLSMaxVersion)
	}
	if c.TLSMinVersion == "TLS1.3" && len(c.CipherSuites) > 0 {
		return errors.New("cipher suites cannot be configured when only TLS1.3 is enabled")
	}
	return nil
}

// checkHostURLs refuses an http(s) URL with an empty host.
func checkHostURLs(us []url.URL) error {
	for i := range us {
		u := &us[i]
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			continue
		}
		host, _, err := net.SplitHostPort(u.Host)
		if err != nil {
			return err
		}
		if host == "" {
			return fmt.Errorf("unexpected empty host (%s)", u.String())
		}
	}
	return nil
}

// validateBootstrap checks that one bootstrap method at most is chosen.
func (c *Config) validateBootstrap() error {
	n := 0
	for _, set := range []bool{c.InitialCluster != "", c.Discovery != "", c.DiscoverySRV != "", len(c.DiscoveryEndpoints) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New(`multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery", "discovery-endpoints" or "discovery-srv"`)
	}
	v2 := c.Discovery != "" || c.DiscoveryProxy != ""
	v3 := len(c.DiscoveryEndpoints) > 0 || c.DiscoveryToken != "" || c.DiscoveryCert != "" ||
		c.DiscoveryKey != "" || c.DiscoveryCACert != "" || c.DiscoveryUser != "" || c.DiscoveryPassword != ""
	if v2 && v3 {
		return errors.New("both v2 discovery settings (discovery, discovery-proxy) and v3 discovery settings " +
			"(discovery-token, discovery-endpoints, discovery-cert, discovery-key, discovery-cacert, discovery-user, discovery-password) are set")
	}
	if (c.DiscoveryToken != "") != (len(c.DiscoveryEndpoints) > 0) {
		return errors.New("both --discovery-token and --discovery-endpoints must be set")
	}
	return nil
}

// validateCompaction checks --auto-compaction-mode and its retention:
// periodic takes whole hours or a Go duration, revision a count.
func (c *Config) validateCompaction() error {
	switch c.AutoCompactionMode {
	case "periodic", "revision":
	case "":
		return errors.New("undefined auto-compaction-mode")
	default:
		return fmt.Errorf("unknown auto-compaction-mode %q", c.AutoCompactionMode)
	}
	r := c.AutoCompactionRetention
	if n, err := strconv.ParseInt(r, 10, 64); err == nil && n >= 0 {
		return nil
	}
	if c.AutoCompactionMode == "revision" {
		return fmt.Errorf("--auto-compaction-retention %q must be a number of revisions in revision mode", r)
	}
	if d, err := time.ParseDuration(r); err != nil || d < 0 {
		return fmt.Errorf("--auto-compaction-retention %q must be a number of hours or a duration such as 30m", r)
	}
	return nil
}

func (c *Config) validateLogging() error {
	if c.Logger != "zap" {
		return fmt.Errorf("unknown logger option %q", c.Logger)
	}
	if c.EnableLogRotation {
		if len(c.LogOutputs) != 1 {
			return errors.New("--log-outputs requires a single file path when --log-rotate-config-json is defined")
		}
		switch c.LogOutputs[0] {
		case "default", "stderr", "stdout":
			return errors.New("--log-outputs requires a single file path when --log-rotate-config-json is defined")
		}
		var rot struct {
			MaxSize    int  `json:"maxsize"`
			MaxAge     int  `json:"maxage"`
			MaxBackups int  `json:"maxbackups"`
			LocalTime  bool `json:"localtime"`
			Compress   bool `json:"compress"`
		}
		if err := json.Unmarshal([]byte(c.LogRotationConfigJSON), &rot); err != nil {
			return fmt.Errorf("improperly formatted log rotation config: %s", oneLine(err.Error()))
		}
	}
	return nil
}
