package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cairn.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const fullFile = `
name: infra0
data-dir: /var/lib/cairn/infra0
wal-dir: /wal
snapshot-count: 5000
heartbeat-interval: 200
election-timeout: 2000
quota-backend-bytes: 8589934592
max-request-bytes: 2097152
listen-peer-urls: http://10.0.1.10:2380
listen-client-urls: http://10.0.1.10:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://10.0.1.10:2380
advertise-client-urls: http://10.0.1.10:2379
initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380
initial-cluster-state: existing
initial-cluster-token: etcd-cluster-1
strict-reconfig-check: false
pre-vote: false
enable-pprof: true
grpc-keepalive-min-time: 1000000000
grpc-keepalive-interval: 90m
log-outputs: [stderr, /var/log/cairn.log]
log-level: debug
cipher-suites: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
cors: "*"
auto-compaction-mode: revision
auto-compaction-retention: "1000"
client-transport-security:
  cert-file: /c/server.crt
  key-file: /c/server.key
  client-cert-auth: true
  trusted-ca-file: /c/ca.crt
  auto-tls: false
  crl-file: /c/crl.pem
  allowed-hostname: [client.example.com]
peer-transport-security:
  cert-file: /p/peer.crt
  key-file: /p/peer.key
  client-cert-file: /p/client.crt
  client-key-file: /p/client.key
  client-cert-auth: true
  trusted-ca-file: /p/ca.crt
  auto-tls: true
  allowed-cn: [infra0, infra1]
  crl-file: /p/crl.pem
  skip-client-san-verification: true
`

func TestConfigFile(t *testing.T) {
	p := writeFile(t, fullFile)
	c := mustParse(t, []string{"--config-file", p}, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"ConfigFile", c.ConfigFile, p},
		{"Name", c.Name, "infra0"},
		{"DataDir", c.DataDir, "/var/lib/cairn/infra0"},
		{"WALDir", c.WALDir, "/wal"},
		{"SnapshotCount", c.SnapshotCount, uint64(5000)},
		{"HeartbeatMs", c.HeartbeatMs, uint(200)},
		{"ElectionMs", c.ElectionMs, uint(2000)},
		{"QuotaBackendBytes", c.QuotaBackendBytes, int64(8589934592)},
		{"MaxRequestBytes", c.MaxRequestBytes, int64(2097152)},
		{"ListenPeerURLs", c.ListenPeerURLs, urls(t, "http://10.0.1.10:2380")},
		{"ListenClientURLs", c.ListenClientURLs, urls(t, "http://10.0.1.10:2379", "http://127.0.0.1:2379")},
		{"AdvertisePeerURLs", c.AdvertisePeerURLs, urls(t, "http://10.0.1.10:2380")},
		{"AdvertiseClientURLs", c.AdvertiseClientURLs, urls(t, "http://10.0.1.10:2379")},
		{"InitialCluster", c.InitialCluster, "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380"},
		{"InitialClusterState", c.InitialClusterState, "existing"},
		{"InitialClusterToken", c.InitialClusterToken, "etcd-cluster-1"},
		{"StrictReconfigCheck", c.StrictReconfigCheck, false},
		{"PreVote", c.PreVote, false},
		{"EnablePprof", c.EnablePprof, true},
		{"GRPCKeepAliveMinTime", c.GRPCKeepAliveMinTime, time.Second},
		{"GRPCKeepAliveInterval", c.GRPCKeepAliveInterval, 90 * time.Minute},
		{"LogOutputs", c.LogOutputs, []string{"stderr", "/var/log/cairn.log"}},
		{"LogLevel", c.LogLevel, "debug"},
		{"CipherSuites", c.CipherSuites, []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}},
		{"CORS", c.CORS, []string{"*"}},
		{"AutoCompactionMode", c.AutoCompactionMode, "revision"},
		{"AutoCompactionRetention", c.AutoCompactionRetention, "1000"},
		{"ClientTLS", c.ClientTLS, TLSInfo{
			CertFile: "/c/server.crt", KeyFile: "/c/server.key", ClientCertAuth: true,
			TrustedCAFile: "/c/ca.crt", CRLFile: "/c/crl.pem", AllowedHostnames: []string{"client.example.com"},
		}},
		{"PeerTLS", c.PeerTLS, TLSInfo{
			CertFile: "/p/peer.crt", KeyFile: "/p/peer.key", ClientCertFile: "/p/client.crt", ClientKeyFile: "/p/client.key",
			ClientCertAuth: true, TrustedCAFile: "/p/ca.crt", AutoTLS: true, AllowedCNs: []string{"infra0", "infra1"},
			CRLFile: "/p/crl.pem", SkipClientSANVerify: true,
		}},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	for _, f := range []string{"config-file", "name", "cert-file", "client-crl-file", "peer-cert-allowed-cn", "peer-auto-tls", "peer-skip-client-san-verification"} {
		if !c.IsSet(f) {
			t.Errorf("IsSet(%q) = false", f)
		}
	}
	if c.IsSet("auto-compaction-retention") != true || c.IsSet("max-txn-ops") {
		t.Error("IsSet wrong for file keys")
	}
	// The file's TLS sections are supported.
	if err := c.Unsupported(); err != nil {
		t.Errorf("Unsupported() = %v", err)
	}
}

func TestConfigFileReplacesFlagsAndEnv(t *testing.T) {
	p := writeFile(t, "name: from-file\n")
	c := mustParse(t, []string{"--config-file=" + p, "--name", "from-flag", "--snapshot-count", "1"},
		[]string{"ETCD_NAME=from-env", "ETCD_HEARTBEAT_INTERVAL=0", "ETCD_FOO=1"})
	if c.Name != "from-file" || c.SnapshotCount != 10000 || c.HeartbeatMs != 100 {
		t.Errorf("Name=%q SnapshotCount=%d HeartbeatMs=%d", c.Name, c.SnapshotCount, c.HeartbeatMs)
	}
	if c.IsSet("snapshot-count") {
		t.Error("ignored flag reported as set")
	}
	if c.InitialCluster != "from-file=http://localhost:2380" || c.DataDir != "from-file.etcd" {
		t.Errorf("derived: InitialCluster=%q DataDir=%q", c.InitialCluster, c.DataDir)
	}
	want := []string{
		"ignoring command-line flags because a config file is given: --name --snapshot-count",
		"ignoring environment variables because a config file is given: ETCD_NAME ETCD_HEARTBEAT_INTERVAL",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, want)
	}

	// ETCD_CONFIG_FILE works too, and --config-file beats it.
	c = mustParse(t, nil, []string{"ETCD_CONFIG_FILE=" + p})
	if c.Name != "from-file" || c.ConfigFile != p || !c.IsSet("config-file") {
		t.Errorf("ETCD_CONFIG_FILE: Name=%q ConfigFile=%q", c.Name, c.ConfigFile)
	}
	c = mustParse(t, []string{"--config-file", p}, []string{"ETCD_CONFIG_FILE=/nonexistent"})
	if c.Name != "from-file" {
		t.Errorf("--config-file did not win: %q", c.Name)
	}
}

func TestConfigFileEtcdQuirks(t *testing.T) {
	// The file keeps the default advertise client URL, and "" keeps the
	// default for URL keys, as etcd's file reader does.
	p := writeFile(t, "listen-client-urls: http://127.0.0.1:2379\nadvertise-client-urls: \"\"\n")
	c := mustParse(t, []string{"--config-file", p}, nil)
	if !reflect.DeepEqual(c.AdvertiseClientURLs, urls(t, "http://localhost:2379")) {
		t.Errorf("AdvertiseClientURLs = %v", c.AdvertiseClientURLs)
	}
	// An empty file, a null key and an empty section leave the defaults.
	for _, body := range []string{"", "---\n", "name:\n", "client-transport-security:\n", "# comment only\n"} {
		c := mustParse(t, []string{"--config-file", writeFile(t, body)}, nil)
		if c.Name != "default" || c.InitialCluster != "default=http://localhost:2380" {
			t.Errorf("%q: Name=%q", body, c.Name)
		}
	}
	// Booleans and numbers may also be written as strings.
	c = mustParse(t, []string{"--config-file", writeFile(t, "pre-vote: \"false\"\nsnapshot-count: \"7\"\nname: 12\n")}, nil)
	if c.PreVote || c.SnapshotCount != 7 || c.Name != "12" {
		t.Errorf("PreVote=%v SnapshotCount=%d Name=%q", c.PreVote, c.SnapshotCount, c.Name)
	}
	// Deprecated aliases work in the file as well.
	c = mustParse(t, []string{"--config-file", writeFile(t, "experimental-max-learners: 3\n")}, nil)
	if c.MaxLearners != 3 || len(c.Warnings) != 1 {
		t.Errorf("MaxLearners=%d Warnings=%q", c.MaxLearners, c.Warnings)
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		body string
		want string // after "config file <path>: "
	}{
		{"foo-bar: 1\n", `unknown key "foo-bar"`},
		{"config-file: x\n", `unknown key "config-file"`},
		{"version: true\n", `unknown key "version"`},
		{"client-cert-allowed-cn: x\n", `unknown key "client-cert-allowed-cn"`},
		{"client-transport-security:\n  cert: x\n", `unknown key "client-transport-security.cert"`},
		{"peer-transport-security:\n  foo: 1\n", `unknown key "peer-transport-security.foo"`},
		{"client-transport-security:\n  skip-client-san-verification: true\n", `unknown key "client-transport-security.skip-client-san-verification"`},
		{"cert-file: /x\n", `key "cert-file" belongs under client-transport-security as "cert-file"`},
		{"peer-cert-allowed-cn: a\n", `key "peer-cert-allowed-cn" belongs under peer-transport-security as "allowed-cn"`},
		{"peer-transport-security: x\n", `peer-transport-security must be a mapping`},
		{"snapshot-count: abc\n", `invalid value "abc" for snapshot-count: parse error`},
		{"snapshot-count: -1\n", `invalid value "-1" for snapshot-count: parse error`},
		{"snapshot-count: 1.5\n", `invalid value "1.5" for snapshot-count: parse error`},
		{"pre-vote: maybe\n", `invalid value "maybe" for pre-vote: parse error`},
		{"name: [a, b]\n", `invalid value for name: expected a single value, not a list`},
		{"name: {a: b}\n", `invalid value for name: expected a value, not a mapping`},
		{"log-outputs: [[a]]\n", `invalid value for log-outputs: list items must be plain values`},
		{"grpc-keepalive-min-time: 1.5\n", `invalid value for grpc-keepalive-min-time: 1.5 is not a duration`},
		{"grpc-keepalive-min-time: soon\n", `invalid value "soon" for grpc-keepalive-min-time: parse error`},
		{"listen-client-urls: ftp://x\n", `invalid value "ftp://x" for listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://x`},
		{"initial-cluster-state: old\n", `invalid value "old" for initial-cluster-state: valid values are "new", "existing"`},
		{"peer-transport-security:\n  client-cert-auth: maybe\n", `invalid value "maybe" for peer-transport-security.client-cert-auth: parse error`},
		{"- a\n- b\n", `expected a mapping of flag names to values`},
		{"name: [\n", ``}, // YAML syntax error; text comes from the YAML library
	}
	for _, tt := range tests {
		p := writeFile(t, tt.body)
		_, err := Parse([]string{"--config-file", p}, nil)
		if err == nil {
			t.Errorf("%q: no error", tt.body)
			continue
		}
		prefix := "config file " + p + ": "
		if !strings.HasPrefix(err.Error(), prefix) || (tt.want != "" && err.Error() != prefix+tt.want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.body, err, prefix+tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines", tt.body)
		}
	}

	// Validation still applies to the file's values.
	p := writeFile(t, "heartbeat-interval: 0\n")
	if _, err := Parse([]string{"--config-file", p}, nil); err == nil || err.Error() != "--heartbeat-interval must be >0 (set to 0ms)" {
		t.Errorf("validation: %v", err)
	}

	_, err := Parse([]string{"--config-file", "/nonexistent/cairn.yaml"}, nil)
	if err == nil || err.Error() != "--config-file: open /nonexistent/cairn.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}

// TestConfigFileEtcdSampleKeys reads a file with every key of etcd's sample
// configuration, empty keys included.
func TestConfigFileEtcdSampleKeys(t *testing.T) {
	body := `name: 'default'
data-dir:
wal-dir:
snapshot-count: 10000
heartbeat-interval: 100
election-timeout: 1000
quota-backend-bytes: 0
listen-peer-urls: http://localhost:2380
listen-client-urls: http://localhost:2379
max-snapshots: 5
max-wals: 5
cors:
initial-advertise-peer-urls: http://localhost:2380
advertise-client-urls: http://localhost:2379
discovery:
discovery-fallback: 'proxy'
discovery-proxy:
discovery-srv:
initial-cluster:
initial-cluster-token: 'etcd-cluster'
initial-cluster-state: 'new'
strict-reconfig-check: false
enable-pprof: true
proxy: 'off'
proxy-failure-wait: 5000
proxy-refresh-interval: 30000
proxy-dial-timeout: 1000
proxy-write-timeout: 5000
proxy-read-timeout: 0
client-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
peer-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
self-signed-cert-validity: 1
log-level: debug
logger: zap
log-outputs: [stderr]
force-new-cluster: false
auto-compaction-mode: periodic
auto-compaction-retention: "1"
cipher-suites: [
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
]
tls-min-version: 'TLS1.2'
tls-max-version: 'TLS1.3'
`
	c := mustParse(t, []string{"--config-file", writeFile(t, body)}, nil)
	if c.InitialCluster != "default=http://localhost:2380" || c.DataDir != "default.etcd" || c.LogLevel != "debug" ||
		c.DiscoveryFallback != "proxy" || !reflect.DeepEqual(c.CORS, []string{"*"}) || len(c.CipherSuites) != 2 {
		t.Errorf("unexpected: %+v", c)
	}
}
