package config

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, args []string, environ []string) *Config {
	t.Helper()
	c, err := Parse(args, environ)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", args, environ, err)
	}
	return c
}

func urls(t *testing.T, ss ...string) []url.URL {
	t.Helper()
	var out []url.URL
	for _, s := range ss {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *u)
	}
	return out
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, nil, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Name", c.Name, "default"},
		{"DataDir", c.DataDir, "default.etcd"},
		{"WALDir", c.WALDir, ""},
		{"SnapshotCount", c.SnapshotCount, uint64(10000)},
		{"SnapshotCatchUpEntries", c.SnapshotCatchUpEntries, uint64(5000)},
		{"HeartbeatMs", c.HeartbeatMs, uint(100)},
		{"ElectionMs", c.ElectionMs, uint(1000)},
		{"InitialElectionTickAdvance", c.InitialElectionTickAdvance, true},
		{"ListenPeerURLs", c.ListenPeerURLs, urls(t, "http://localhost:2380")},
		{"ListenClientURLs", c.ListenClientURLs, urls(t, "http://localhost:2379")},
		{"ListenClientHTTPURLs", c.ListenClientHTTPURLs, []url.URL(nil)},
		{"AdvertisePeerURLs", c.AdvertisePeerURLs, urls(t, "http://localhost:2380")},
		{"AdvertiseClientURLs", c.AdvertiseClientURLs, urls(t, "http://localhost:2379")},
		{"ListenMetricsURLs", c.ListenMetricsURLs, []url.URL(nil)},
		{"InitialCluster", c.InitialCluster, "default=http://localhost:2380"},
		{"InitialClusterState", c.InitialClusterState, "new"},
		{"InitialClusterToken", c.InitialClusterToken, "etcd-cluster"},
		{"QuotaBackendBytes", c.QuotaBackendBytes, int64(0)},
		{"MaxRequestBytes", c.MaxRequestBytes, int64(1572864)},
		{"MaxTxnOps", c.MaxTxnOps, uint(128)},
		{"MaxLearners", c.MaxLearners, 1},
		{"MaxConcurrentStreams", c.MaxConcurrentStreams, uint32(4294967295)},
		{"AutoCompactionMode", c.AutoCompactionMode, "periodic"},
		{"AutoCompactionRetention", c.AutoCompactionRetention, "0"},
		{"StrictReconfigCheck", c.StrictReconfigCheck, true},
		{"PreVote", c.PreVote, true},
		{"EnablePprof", c.EnablePprof, false},
		{"EnableGRPCGateway", c.EnableGRPCGateway, true},
		{"GRPCKeepAliveMinTime", c.GRPCKeepAliveMinTime, 5 * time.Second},
		{"GRPCKeepAliveInterval", c.GRPCKeepAliveInterval, 2 * time.Hour},
		{"GRPCKeepAliveTimeout", c.GRPCKeepAliveTimeout, 20 * time.Second},
		{"RaftReadTimeout", c.RaftReadTimeout, 5 * time.Second},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "json"},
		{"LogOutputs", c.LogOutputs, []string{"default"}},
		{"Logger", c.Logger, "zap"},
		{"Metrics", c.Metrics, "basic"},
		{"SelfSignedCertValidity", c.SelfSignedCertValidity, uint(1)},
		{"TLSMinVersion", c.TLSMinVersion, "TLS1.2"},
		{"TLSMaxVersion", c.TLSMaxVersion, ""},
		{"CORS", c.CORS, []string{"*"}},
		{"HostWhitelist", c.HostWhitelist, []string{"*"}},
		{"Proxy", c.Proxy, "off"},
		{"ProxyFailureWaitMs", c.ProxyFailureWaitMs, uint(5000)},
		{"ProxyRefreshIntervalMs", c.ProxyRefreshIntervalMs, uint(30000)},
		{"ProxyDialTimeoutMs", c.ProxyDialTimeoutMs, uint(1000)},
		{"ProxyWriteTimeoutMs", c.ProxyWriteTimeoutMs, uint(5000)},
		{"ProxyReadTimeoutMs", c.ProxyReadTimeoutMs, uint(0)},
		{"DiscoveryFallback", c.DiscoveryFallback, "exit"},
		{"DiscoveryInsecureTransport", c.DiscoveryInsecureTransport, true},
		{"DiscoveryDialTimeout", c.DiscoveryDialTimeout, 2 * time.Second},
		{"DiscoveryRequestTimeout", c.DiscoveryRequestTimeout, 5 * time.Second},
		{"DiscoveryKeepAliveTime", c.DiscoveryKeepAliveTime, 2 * time.Second},
		{"DiscoveryKeepAliveTimeout", c.DiscoveryKeepAliveTimeout, 6 * time.Second},
		{"AuthToken", c.AuthToken, "simple"},
		{"BcryptCost", c.BcryptCost, uint(10)},
		{"AuthTokenTTL", c.AuthTokenTTL, uint(300)},
		{"CompactionBatchLimit", c.CompactionBatchLimit, 1000},
		{"CompactionSleepInterval", c.CompactionSleepInterval, 10 * time.Millisecond},
		{"WatchProgressNotifyInterval", c.WatchProgressNotifyInterval, 10 * time.Minute},
		{"WarningApplyDuration", c.WarningApplyDuration, 100 * time.Millisecond},
		{"WarningUnaryRequestDuration", c.WarningUnaryRequestDuration, 300 * time.Millisecond},
		{"CompactHashCheckTime", c.CompactHashCheckTime, time.Minute},
		{"DowngradeCheckTime", c.DowngradeCheckTime, 5 * time.Second},
		{"ShowHelp", c.ShowHelp, false},
		{"ShowVersion", c.ShowVersion, false},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", c.Warnings)
	}
	for _, d := range flagTable {
		if c.IsSet(d.name) {
			t.Errorf("IsSet(%q) with no input", d.name)
		}
	}
	if err := c.Unsupported(); err != nil {
		t.Errorf("Unsupported() on defaults: %v", err)
	}
}

func TestFlagSyntax(t *testing.T) {
	for _, args := range [][]string{
		{"-name", "infra0"},
		{"--name", "infra0"},
		{"-name=infra0"},
		{"--name=infra0"},
	} {
		c := mustParse(t, args, nil)
		if c.Name != "infra0" || !c.IsSet("name") || !c.IsSet("--name") {
			t.Errorf("%q: Name = %q, IsSet = %v", args, c.Name, c.IsSet("name"))
		}
	}
}

func TestBoolSyntax(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"--enable-pprof"}, true},
		{[]string{"-enable-pprof"}, true},
		{[]string{"--enable-pprof=true"}, true},
		{[]string{"--enable-pprof=1"}, true},
		{[]string{"--enable-pprof=false"}, false},
		{[]string{"-enable-pprof=false"}, false},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.args, nil)
		if c.EnablePprof != tt.want || !c.IsSet("enable-pprof") {
			t.Errorf("%q: EnablePprof = %v, want %v", tt.args, c.EnablePprof, tt.want)
		}
	}
	// A bool flag followed by a word does not take it as its value.
	_, err := Parse([]string{"--pre-vote", "false"}, nil)
	if err == nil || err.Error() != "'false' is not a valid flag" {
		t.Errorf("--pre-vote false: %v", err)
	}
	c := mustParse(t, []string{"--pre-vote=false", "--strict-reconfig-check=false", "--initial-election-tick-advance=false"}, nil)
	if c.PreVote || c.StrictReconfigCheck || c.InitialElectionTickAdvance {
		t.Errorf("bools not turned off: %+v", c)
	}
}

func TestTypedValues(t *testing.T) {
	c := mustParse(t, []string{
		"--snapshot-count", "5",
		"--heartbeat-interval", "50", "--election-timeout", "500",
		"--quota-backend-bytes", "8589934592",
		"--max-request-bytes", "10485760",
		"--max-txn-ops", "1024",
		"--max-learners", "3",
		"--grpc-keepalive-min-time", "1s",
		"--listen-peer-urls", "http://10.0.1.10:2380,http://127.0.0.1:2380,http://10.0.1.10:2380",
		"--listen-client-urls", "http://infra0.example.com:2379,unix://localhost:4001",
		"--advertise-client-urls", "http://10.0.1.10:2379",
		"--log-outputs", "stderr,/var/log/cairn.log,stderr",
		"--cors", "http://a.example:80,*",
		"--discovery-fallback", "proxy",
		"--initial-cluster-state", "new",
		"--proxy-read-timeout", "7",
	}, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"SnapshotCount", c.SnapshotCount, uint64(5)},
		{"HeartbeatMs", c.HeartbeatMs, uint(50)},
		{"ElectionMs", c.ElectionMs, uint(500)},
		{"QuotaBackendBytes", c.QuotaBackendBytes, int64(8589934592)},
		{"MaxRequestBytes", c.MaxRequestBytes, int64(10485760)},
		{"MaxTxnOps", c.MaxTxnOps, uint(1024)},
		{"MaxLearners", c.MaxLearners, 3},
		{"GRPCKeepAliveMinTime", c.GRPCKeepAliveMinTime, time.Second},
		{"ListenPeerURLs (deduplicated, sorted)", c.ListenPeerURLs, urls(t, "http://10.0.1.10:2380", "http://127.0.0.1:2380")},
		{"ListenClientURLs (host names kept)", c.ListenClientURLs, urls(t, "http://infra0.example.com:2379", "unix://localhost:4001")},
		{"LogOutputs", c.LogOutputs, []string{"stderr", "/var/log/cairn.log"}},
		{"CORS", c.CORS, []string{"http://a.example:80", "*"}},
		{"DiscoveryFallback", c.DiscoveryFallback, "proxy"},
		{"ProxyReadTimeoutMs", c.ProxyReadTimeoutMs, uint(7)},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"--foo"}, "flag provided but not defined: -foo", true},
		{[]string{"-foo=1"}, "flag provided but not defined: -foo", true},
		{[]string{"--name"}, "flag needs an argument: -name", true},
		{[]string{"bar"}, "'bar' is not a valid flag", false},
		{[]string{"--name", "x", "bar", "--pre-vote"}, "'bar' is not a valid flag", false},
		{[]string{"--snapshot-count", "abc"}, `invalid value "abc" for flag -snapshot-count: parse error`, true},
		{[]string{"--snapshot-count", "-1"}, `invalid value "-1" for flag -snapshot-count: parse error`, true},
		{[]string{"--max-txn-ops", "-1"}, `invalid value "-1" for flag -max-txn-ops: parse error`, true},
		{[]string{"--max-request-bytes", "-1"}, `invalid value "-1" for flag -max-request-bytes: parse error`, true},
		{[]string{"--max-concurrent-streams", "4294967296"}, `invalid value "4294967296" for flag -max-concurrent-streams: value out of range`, true},
		{[]string{"--heartbeat-interval", "1.5"}, `invalid value "1.5" for flag -heartbeat-interval: parse error`, true},
		{[]string{"--grpc-keepalive-timeout", "20"}, `invalid value "20" for flag -grpc-keepalive-timeout: parse error`, true},
		{[]string{"--strict-reconfig-check=maybe"}, `invalid boolean value "maybe" for -strict-reconfig-check: parse error`, true},
		{[]string{"--initial-cluster-state", "x"}, `invalid value "x" for flag -initial-cluster-state: valid values are "new", "existing"`, true},
		{[]string{"--discovery-fallback", "x"}, `invalid value "x" for flag -discovery-fallback: valid values are "exit", "proxy"`, true},
		{[]string{"--proxy", "x"}, `invalid value "x" for flag -proxy: valid values are "off", "readonly", "on"`, true},
		{[]string{"--log-level", "loud"}, `invalid value "loud" for flag -log-level: valid values are "debug", "info", "warn", "error", "panic", "fatal"`, true},
		{[]string{"--log-format", "xml"}, `invalid value "xml" for flag -log-format: valid values are "json", "console"`, true},
		{[]string{"--metrics", "all"}, `invalid value "all" for flag -metrics: valid values are "basic", "extensive"`, true},
		{[]string{"--tls-min-version", "TLS1.1"}, `invalid value "TLS1.1" for flag -tls-min-version: valid values are "TLS1.2", "TLS1.3"`, true},
		{[]string{"--listen-peer-urls", "ftp://127.0.0.1:2380"}, `invalid value "ftp://127.0.0.1:2380" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:2380`, true},
		{[]string{"--listen-peer-urls", "http://127.0.0.1"}, `invalid value "http://127.0.0.1" for flag -listen-peer-urls: URL address does not have the form "host:port": http://127.0.0.1`, true},
		{[]string{"--listen-peer-urls", "http://127.0.0.1:2380/x"}, `invalid value "http://127.0.0.1:2380/x" for flag -listen-peer-urls: URL must not contain a path: http://127.0.0.1:2380/x`, true},
		{[]string{"--advertise-client-urls", "http://a:1,"}, `invalid value "http://a:1," for flag -advertise-client-urls: URL scheme must be http, https, unix, or unixs: `, true},
		{[]string{"--cors", "example.com"}, `invalid value "example.com" for flag -cors: URL scheme must be http, https, unix, or unixs: example.com`, true},
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
		if errors.Is(err, ErrUsage) != tt.usage {
			t.Errorf("%q: errors.Is(err, ErrUsage) = %v", tt.args, !tt.usage)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", tt.args, err)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args          []string
		help, version bool
	}{
		{[]string{"-h"}, true, false},
		{[]string{"--help"}, true, false},
		{[]string{"-help"}, true, false},
		{[]string{"--version"}, false, true},
		{[]string{"-version"}, false, true},
		{[]string{"--version=true"}, false, true},
		{[]string{"--name", "x", "--foo", "--help"}, true, false},
		{[]string{"bad", "--version", "--snapshot-count=x"}, false, true},
		{[]string{"--help", "--version"}, true, true},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.args, []string{"ETCD_NAME=x"})
		if c.ShowHelp != tt.help || c.ShowVersion != tt.version {
			t.Errorf("%q: ShowHelp=%v ShowVersion=%v, want %v %v", tt.args, c.ShowHelp, c.ShowVersion, tt.help, tt.version)
		}
	}
	// --version=false is an ordinary flag.
	c := mustParse(t, []string{"--version=false"}, nil)
	if c.ShowVersion || c.ShowHelp {
		t.Errorf("--version=false: %+v", c)
	}
	// After "--" nothing is a flag.
	if _, err := Parse([]string{"--", "--help"}, nil); err == nil || err.Error() != "'--help' is not a valid flag" {
		t.Errorf("-- --help: %v", err)
	}
}

func TestDerivedDefaults(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantCluster string
		wantDataDir string
	}{
		{"defaults", nil, "default=http://localhost:2380", "default.etcd"},
		{"name alone", []string{"--name", "infra0"}, "infra0=http://localhost:2380", "infra0.etcd"},
		{"name and advertise", []string{"--name", "infra0", "--initial-advertise-peer-urls", "http://10.0.1.10:2380,http://10.0.1.11:2380"},
			"infra0=http://10.0.1.10:2380,infra0=http://10.0.1.11:2380", "infra0.etcd"},
		{"advertise without name", []string{"--initial-advertise-peer-urls", "http://10.0.1.10:2380"},
			"default=http://localhost:2380", "default.etcd"},
		{"explicit cluster kept", []string{"--name", "infra0", "--initial-cluster", "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380"},
			"infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380", "infra0.etcd"},
		// etcd compares the value, so the default text is rewritten even when given.
		{"default text rewritten", []string{"--name", "infra0", "--initial-cluster", "default=http://localhost:2380"},
			"infra0=http://localhost:2380", "infra0.etcd"},
		{"data-dir given", []string{"--name", "a", "--data-dir", "/var/lib/cairn"}, "a=http://localhost:2380", "/var/lib/cairn"},
		{"discovery clears", []string{"--discovery", "http://d.example:80/t"}, "", "default.etcd"},
		{"discovery-srv clears", []string{"--name", "a", "--discovery-srv", "example.com"}, "", "a.etcd"},
		{"v3 discovery clears", []string{"--discovery-endpoints", "http://127.0.0.1:2379", "--discovery-token", "t"}, "", "default.etcd"},
		{"empty advertise", []string{"--name", "a", "--initial-advertise-peer-urls", ""}, "", "a.etcd"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.args, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.InitialCluster != tt.wantCluster {
			t.Errorf("%s: InitialCluster = %q, want %q", tt.name, c.InitialCluster, tt.wantCluster)
		}
		if c.DataDir != tt.wantDataDir {
			t.Errorf("%s: DataDir = %q, want %q", tt.name, c.DataDir, tt.wantDataDir)
		}
	}
}

func TestListenClientNeedsAdvertise(t *testing.T) {
	_, err := Parse([]string{"--listen-client-urls", "http://127.0.0.1:2379"}, nil)
	want := "--advertise-client-urls is required when --listen-client-urls is set explicitly"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if errors.Is(err, ErrUsage) {
		t.Error("validation error marked as usage error")
	}
	c := mustParse(t, []string{"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379"}, nil)
	if !reflect.DeepEqual(c.AdvertiseClientURLs, urls(t, "http://127.0.0.1:2379")) {
		t.Errorf("AdvertiseClientURLs = %v", c.AdvertiseClientURLs)
	}
	// The environment counts as explicit too.
	_, err = Parse(nil, []string{"ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379"})
	if err == nil || err.Error() != want {
		t.Errorf("from env: got %v, want %q", err, want)
	}
	// --listen-peer-urls alone keeps the default advertise peer URL, as in etcd.
	c = mustParse(t, []string{"--listen-peer-urls", "http://127.0.0.1:2380"}, nil)
	if !reflect.DeepEqual(c.AdvertisePeerURLs, urls(t, "http://localhost:2380")) {
		t.Errorf("AdvertisePeerURLs = %v", c.AdvertisePeerURLs)
	}
}

func TestAliases(t *testing.T) {
	c := mustParse(t, []string{"--experimental-max-learners", "4", "--experimental-compaction-batch-limit=7"}, nil)
	if c.MaxLearners != 4 || c.CompactionBatchLimit != 7 {
		t.Errorf("MaxLearners=%d CompactionBatchLimit=%d", c.MaxLearners, c.CompactionBatchLimit)
	}
	if !c.IsSet("max-learners") || !c.IsSet("experimental-max-learners") {
		t.Error("alias does not mark its flag as set")
	}
	wantWarn := []string{
		"--experimental-max-learners is deprecated, use --max-learners",
		"--experimental-compaction-batch-limit is deprecated, use --compaction-batch-limit",
	}
	if !reflect.DeepEqual(c.Warnings, wantWarn) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, wantWarn)
	}
	_, err := Parse([]string{"--experimental-max-learners", "4", "--max-learners", "2"}, nil)
	want := "cannot set --experimental-max-learners and --max-learners at the same time, please use --max-learners only"
	if err == nil || err.Error() != want {
		t.Errorf("both: got %v, want %q", err, want)
	}
	_, err = Parse([]string{"--max-learners", "2"}, []string{"ETCD_EXPERIMENTAL_MAX_LEARNERS=3"})
	if err == nil || err.Error() != want {
		t.Errorf("flag and env alias: got %v, want %q", err, want)
	}
}

func TestNoEffectFlags(t *testing.T) {
	c := mustParse(t, []string{"--max-wals", "3", "--enable-v2", "--experimental-initial-corrupt-check=true"}, nil)
	want := []string{
		"--max-wals has no effect in Cairn (accepted for etcd compatibility)",
		"--enable-v2 has no effect in Cairn (accepted for etcd compatibility)",
		"--experimental-initial-corrupt-check has no effect in Cairn (accepted for etcd compatibility)",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, want)
	}
	if _, err := Parse([]string{"--max-wals", "x"}, nil); err == nil {
		t.Error("no-effect flag with a bad value accepted")
	}
}

func TestOtherDerivations(t *testing.T) {
	c := mustParse(t, []string{"--bcrypt-cost", "2", "--self-signed-cert-validity", "0"}, nil)
	if c.BcryptCost != 10 || c.SelfSignedCertValidity != 1 {
		t.Errorf("BcryptCost=%d SelfSignedCertValidity=%d", c.BcryptCost, c.SelfSignedCertValidity)
	}
	if len(c.Warnings) != 1 || c.Warnings[0] != "--bcrypt-cost 2 is outside 4..31, using 10" {
		t.Errorf("Warnings = %q", c.Warnings)
	}
}

// TestTableIntegrity checks the flag table: every default parses, shows in
// --help, and every exported setting of Config is reachable by some flag.
func TestTableIntegrity(t *testing.T) {
	envs := make(map[string]string)
	for _, d := range flagTable {
		if d.alias == "" && d.group != groupHidden && d.usage == "" {
			t.Errorf("--%s has no help text", d.name)
		}
		k := envKey(d.name)
		if other, dup := envs[k]; dup {
			t.Errorf("--%s and --%s share %s", d.name, other, k)
		}
		envs[k] = d.name
	}

	// Setting each flag to a non-default value must change some field.
	base := newDefaults()
	for _, d := range flagTable {
		if d.alias != "" || d.noEffect() {
			continue
		}
		c := newDefaults()
		v := d.bind(c)
		var alt string
		switch v := v.(type) {
		case boolValue:
			alt = "true"
			if d.def == "true" {
				alt = "false"
			}
		case urlsValue:
			alt = "http://192.0.2.1:1"
		case corsValue:
			alt = "http://192.0.2.1:1"
		case enumValue:
			for _, w := range v.valid {
				if w != d.def {
					alt = w
					break
				}
			}
		case durationValue:
			alt = "17s"
		case stringValue, stringsValue:
			alt = "x17"
		default:
			alt = "17"
		}
		if err := v.Set(alt); err != nil {
			t.Errorf("--%s: Set(%q): %v", d.name, alt, err)
			continue
		}
		if reflect.DeepEqual(c, base) {
			t.Errorf("--%s changes no field", d.name)
		}
	}
}
