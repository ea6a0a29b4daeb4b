package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--heartbeat-interval", "0"}, "--heartbeat-interval must be >0 (set to 0ms)"},
		{[]string{"--election-timeout", "0"}, "--election-timeout must be >0 (set to 0ms)"},
		{[]string{"--election-timeout", "400"}, "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
		{[]string{"--heartbeat-interval", "201", "--election-timeout", "1004"}, "--election-timeout[1004ms] should be at least as 5 times as --heartbeat-interval[201ms]"},
		{[]string{"--election-timeout", "60000"}, "--election-timeout[60000ms] is too long, and should be set less than 50000ms"},
		{[]string{"--listen-client-urls", "http://127.0.0.1:2379"}, "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{[]string{"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", ""}, "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{[]string{"--initial-advertise-peer-urls", "http://:2380"}, `--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))`},
		{[]string{"--advertise-client-urls", "http://:2379"}, `--advertise-client-urls "http://:2379" must be "host:port" (unexpected empty host (http://:2379))`},
		{[]string{"--initial-cluster", "a=http://127.0.0.1:2380", "--discovery", "http://d.example:80/t"},
			`multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery", "discovery-endpoints" or "discovery-srv"`},
		{[]string{"--discovery-srv", "example.com", "--discovery", "http://d.example:80/t"},
			`multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery", "discovery-endpoints" or "discovery-srv"`},
		{[]string{"--initial-cluster", "a=http://127.0.0.1:2380", "--discovery-endpoints", "127.0.0.1:2379", "--discovery-token", "t"},
			`multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery", "discovery-endpoints" or "discovery-srv"`},
		{[]string{"--discovery", "http://d.example:80/t", "--discovery-token", "t"},
			"both v2 discovery settings (discovery, discovery-proxy) and v3 discovery settings (discovery-token, discovery-endpoints, discovery-cert, discovery-key, discovery-cacert, discovery-user, discovery-password) are set"},
		{[]string{"--discovery-token", "t"}, "both --discovery-token and --discovery-endpoints must be set"},
		{[]string{"--discovery-endpoints", "127.0.0.1:2379"}, "both --discovery-token and --discovery-endpoints must be set"},
		{[]string{"--peer-cert-allowed-cn", "a", "--peer-cert-allowed-hostname", "b"},
			`--peer-cert-allowed-cn and --peer-cert-allowed-hostname are mutually exclusive (cns=["a"], hostnames=["b"])`},
		{[]string{"--auto-compaction-mode", "hourly"}, `unknown auto-compaction-mode "hourly"`},
		{[]string{"--auto-compaction-mode", ""}, "undefined auto-compaction-mode"},
		{[]string{"--auto-compaction-retention", "soon"}, `--auto-compaction-retention "soon" must be a number of hours or a duration such as 30m`},
		{[]string{"--auto-compaction-retention", "-1h"}, `--auto-compaction-retention "-1h" must be a number of hours or a duration such as 30m`},
		{[]string{"--auto-compaction-mode", "revision", "--auto-compaction-retention", "5m"}, `--auto-compaction-retention "5m" must be a number of revisions in revision mode`},
		{[]string{"--logger", "capnslog"}, `unknown logger option "capnslog"`},
		{[]string{"--enable-log-rotation"}, "--log-outputs requires a single file path when --log-rotate-config-json is defined"},
		{[]string{"--enable-log-rotation", "--log-outputs", "a.log,b.log"}, "--log-outputs requires a single file path when --log-rotate-config-json is defined"},
		{[]string{"--enable-log-rotation", "--log-outputs", "a.log", "--log-rotation-config-json", "{"}, "improperly formatted log rotation config: unexpected end of JSON input"},
		{[]string{"--tls-min-version", "TLS1.3", "--tls-max-version", "TLS1.2"}, "min version (TLS1.3) is greater than max version (TLS1.2)"},
		{[]string{"--tls-min-version", "TLS1.3", "--cipher-suites", "TLS_AES_128_GCM_SHA256"}, "cipher suites cannot be configured when only TLS1.3 is enabled"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args, nil)
		if err == nil {
			t.Errorf("%q: no error, want %q", tt.args, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.args, err.Error(), tt.want)
		}
		if errors.Is(err, ErrUsage) {
			t.Errorf("%q: validation error marked as usage error", tt.args)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines", tt.args)
		}
	}
}

func TestValidationAccepts(t *testing.T) {
	for _, args := range [][]string{
		{"--heartbeat-interval", "200", "--election-timeout", "1000"},
		{"--heartbeat-interval", "10000", "--election-timeout", "50000"},
		{"--auto-compaction-retention", "1"},
		{"--auto-compaction-retention", "30m"},
		{"--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"},
		{"--discovery-endpoints", "127.0.0.1:2379", "--discovery-token", "t"},
		{"--discovery", "http://d.example:80/t", "--discovery-proxy", "http://proxy:3128"},
		{"--discovery-srv", "example.com", "--discovery-srv-name", "x"},
		{"--enable-log-rotation", "--log-outputs", "/var/log/cairn.log"},
		{"--tls-min-version", "TLS1.2", "--tls-max-version", "TLS1.3", "--cipher-suites", "X"},
		{"--peer-cert-allowed-cn", "a"},
		{"--listen-peer-urls", "http://infra0.example.com:2380"},
		{"--initial-advertise-peer-urls", "unix://localhost:2380"},
	} {
		if _, err := Parse(args, nil); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}
