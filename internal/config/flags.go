package config

import (
	"flag"
	"net/url"
	"strings"
	"time"
)

// group is a heading of the --help text.
type group int

const (
	groupMember group = iota
	groupClustering
	groupSecurity
	groupAuth
	groupMonitoring
	groupLogging
	groupProxy
	groupTuning
	groupUnsafe
	groupCompat // accepted for etcd compatibility, no effect in Cairn
	groupHidden // not listed by --help
)

var groupTitles = [...]string{
	groupMember:     "Member",
	groupClustering: "Clustering",
	groupSecurity:   "Security",
	groupAuth:       "Auth",
	groupMonitoring: "Profiling and Monitoring",
	groupLogging:    "Logging",
	groupProxy:      "v2 Proxy",
	groupTuning:     "Tuning",
	groupUnsafe:     "Unsafe (these can break the guarantees of consensus)",
	groupCompat:     "Accepted for etcd compatibility, no effect in Cairn",
}

// binder returns the flag.Value that reads into and prints c's field.
type binder func(c *Config) flag.Value

// flagDef is one row of the flag table: the single source of every flag's
// name, default, help text and destination.
type flagDef struct {
	name  string
	group group
	def   string // default in flag syntax, parsed into every new Config
	show  string // default as --help prints it, when it is not def
	usage string
	bind  binder
	// alias, when set, makes this row a deprecated spelling of the flag
	// named alias; it shares that flag's field and is hidden from --help.
	alias string
	// fileOnly rows exist only as config-file keys (no flag, no ETCD_*).
	fileOnly bool
}

// noEffect reports whether Cairn accepts the flag but does nothing with it.
func (d *flagDef) noEffect() bool { return d.group == groupCompat }

const (
	defaultName                = "default"
	defaultListenPeerURLs      = "http://localhost:2380"
	defaultListenClientURLs    = "http://localhost:2379"
	defaultAdvertisePeerURLs   = "http://localhost:2380"
	defaultAdvertiseClientURLs = "http://localhost:2379"
	defaultLogRotationJSON     = `{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}`
)

// defaultInitialCluster is --initial-cluster's default, as etcd builds it
// from the default name and the default advertise peer URL.
const defaultInitialCluster = defaultName + "=" + defaultAdvertisePeerURLs

// flagTable lists every flag Cairn accepts, in --help order within each
// group.
var flagTable = []flagDef{
	// Member.
	{name: "name", group: groupMember, def: defaultName, bind: strF(func(c *Config) *string { return &c.Name }),
		usage: "Human-readable name of this member; its key in --initial-cluster."},
	{name: "data-dir", group: groupMember, show: "${name}.etcd", bind: strF(func(c *Config) *string { return &c.DataDir }),
		usage: "Directory that holds this member's data."},
	{name: "wal-dir", group: groupMember, bind: strF(func(c *Config) *string { return &c.WALDir }),
		usage: "Separate directory for the write-ahead log, e.g. on its own disk."},
	{name: "snapshot-count", group: groupMember, def: "10000", bind: uint64F(func(c *Config) *uint64 { return &c.SnapshotCount }),
		usage: "Applied entries between two raft snapshots that let the log be truncated."},
	{name: "snapshot-catchup-entries", group: groupMember, def: "5000", bind: uint64F(func(c *Config) *uint64 { return &c.SnapshotCatchUpEntries }),
		usage: "Raft entries kept behind a snapshot so a slightly slow follower needs no snapshot."},
	{name: "heartbeat-interval", group: groupMember, def: "100", bind: uintF(func(c *Config) *uint { return &c.HeartbeatMs }),
		usage: "How often the leader sends heartbeats, in milliseconds."},
	{name: "election-timeout", group: groupMember, def: "1000", bind: uintF(func(c *Config) *uint { return &c.ElectionMs }),
		usage: "Milliseconds without a heartbeat before a follower calls an election (5x heartbeat up to 50000)."},
	{name: "initial-election-tick-advance", group: groupMember, def: "true", bind: boolF(func(c *Config) *bool { return &c.InitialElectionTickAdvance }),
		usage: "At start, skip most of the first election timeout so a leader is found sooner."},
	{name: "listen-peer-urls", group: groupMember, def: defaultListenPeerURLs, bind: urlsF(func(c *Config) *[]url.URL { return &c.ListenPeerURLs }),
		usage: "Comma-separated URLs on which to accept traffic from other members."},
	{name: "listen-client-urls", group: groupMember, def: defaultListenClientURLs, bind: urlsF(func(c *Config) *[]url.URL { return &c.ListenClientURLs }),
		usage: "Comma-separated URLs on which to accept client gRPC (and HTTP, unless --listen-client-http-urls is set)."},
	{name: "listen-client-http-urls", group: groupMember, bind: urlsF(func(c *Config) *[]url.URL { return &c.ListenClientHTTPURLs }),
		usage: "Comma-separated URLs that serve client HTTP only; --listen-client-urls then serves gRPC only."},
	{name: "quota-backend-bytes", group: groupMember, def: "0", bind: int64F(func(c *Config) *int64 { return &c.QuotaBackendBytes }, false),
		usage: "Database size that raises the NOSPACE alarm, after which only reads and deletes succeed (0: default quota)."},
	{name: "max-txn-ops", group: groupMember, def: "128", bind: uintF(func(c *Config) *uint { return &c.MaxTxnOps }),
		usage: "Most operations a single transaction may carry."},
	{name: "max-request-bytes", group: groupMember, def: "1572864", bind: int64F(func(c *Config) *int64 { return &c.MaxRequestBytes }, true),
		usage: "Largest client request accepted, in bytes."},
	{name: "max-concurrent-streams", group: groupMember, def: "4294967295", bind: uint32F(func(c *Config) *uint32 { return &c.MaxConcurrentStreams }),
		usage: "Most concurrent gRPC streams one client connection may open."},
	{name: "enable-grpc-gateway", group: groupMember, def: "true", bind: boolF(func(c *Config) *bool { return &c.EnableGRPCGateway }),
		usage: "Serve the JSON gateway (/v3/...) on the client URLs."},
	{name: "grpc-keepalive-min-time", group: groupMember, def: "5s", bind: durF(func(c *Config) *time.Duration { return &c.GRPCKeepAliveMinTime }),
		usage: "Shortest ping interval allowed to clients; a client pinging faster is disconnected."},
	{name: "grpc-keepalive-interval", group: groupMember, def: "2h", bind: durF(func(c *Config) *time.Duration { return &c.GRPCKeepAliveInterval }),
		usage: "How often the server pings an idle client connection to check it is alive (0 disables)."},
	{name: "grpc-keepalive-timeout", group: groupMember, def: "20s", bind: durF(func(c *Config) *time.Duration { return &c.GRPCKeepAliveTimeout }),
		usage: "How long to wait for a ping's answer before closing the connection (0 disables)."},
	{name: "socket-reuse-port", group: groupMember, def: "false", bind: boolF(func(c *Config) *bool { return &c.SocketReusePort }),
		usage: "Set SO_REUSEPORT on listeners, so several processes may bind one port."},
	{name: "socket-reuse-address", group: groupMember, def: "false", bind: boolF(func(c *Config) *bool { return &c.SocketReuseAddress }),
		usage: "Set SO_REUSEADDR on listeners, so a port in TIME_WAIT can be bound again."},
	{name: "raft-read-timeout", group: groupMember, def: "5s", bind: durF(func(c *Config) *time.Duration { return &c.RaftReadTimeout }),
		usage: "Read deadline on connections between members."},
	{name: "raft-write-timeout", group: groupMember, def: "5s", bind: durF(func(c *Config) *time.Duration { return &c.RaftWriteTimeout }),
		usage: "Write deadline on connections between members."},
	{name: "max-learners", group: groupMember, def: "1", bind: intF(func(c *Config) *int { return &c.MaxLearners }),
		usage: "Most learners (non-voting members) the cluster may hold at once."},

	// Clustering.
	{name: "initial-advertise-peer-urls", group: groupClustering, def: defaultAdvertisePeerURLs, bind: urlsF(func(c *Config) *[]url.URL { return &c.AdvertisePeerURLs }),
		usage: "Comma-separated peer URLs of this member, as announced to the other members."},
	{name: "initial-cluster", group: groupClustering, def: defaultInitialCluster, bind: strF(func(c *Config) *string { return &c.InitialCluster }),
		usage: "Members to bootstrap with, as name=peerURL pairs separated by commas (a name may repeat); given only --name, it is <name>=<initial-advertise-peer-urls>."},
	{name: "initial-cluster-state", group: groupClustering, def: "new", bind: enumF(func(c *Config) *string { return &c.InitialClusterState }, "new", "existing"),
		usage: "'new' to bootstrap a cluster, 'existing' to join a running one; ignored once the data dir is set up."},
	{name: "initial-cluster-token", group: groupClustering, def: "etcd-cluster", bind: strF(func(c *Config) *string { return &c.InitialClusterToken }),
		usage: "Token mixed into member and cluster IDs so that two clusters never mistake each other."},
	{name: "advertise-client-urls", group: groupClustering, def: defaultAdvertiseClientURLs, bind: urlsF(func(c *Config) *[]url.URL { return &c.AdvertiseClientURLs }),
		usage: "Comma-separated client URLs of this member, as published to clients; required with --listen-client-urls."},
	{name: "discovery", group: groupClustering, bind: strF(func(c *Config) *string { return &c.Discovery }),
		usage: "v2 discovery: URL of the token directory to bootstrap from."},
	{name: "discovery-fallback", group: groupClustering, def: "exit", bind: enumF(func(c *Config) *string { return &c.DiscoveryFallback }, "exit", "proxy"),
		usage: "v2 discovery: 'exit', or 'proxy' to run as a v2 proxy when the cluster is already full."},
	{name: "discovery-proxy", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryProxy }),
		usage: "v2 discovery: HTTP proxy for requests to the discovery service."},
	{name: "discovery-srv", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoverySRV }),
		usage: "DNS domain whose SRV records name the initial members."},
	{name: "discovery-srv-name", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoverySRVName }),
		usage: "Suffix added to the SRV service names looked up (_etcd-server-<suffix>)."},
	{name: "discovery-endpoints", group: groupClustering, bind: strsF(func(c *Config) *[]string { return &c.DiscoveryEndpoints }, true),
		usage: "v3 discovery: comma-separated client endpoints of the cluster holding the token."},
	{name: "discovery-token", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryToken }),
		usage: "v3 discovery: token of the cluster to bootstrap."},
	{name: "discovery-dial-timeout", group: groupClustering, def: "2s", bind: durF(func(c *Config) *time.Duration { return &c.DiscoveryDialTimeout }),
		usage: "v3 discovery: time allowed to connect to an endpoint."},
	{name: "discovery-request-timeout", group: groupClustering, def: "5s", bind: durF(func(c *Config) *time.Duration { return &c.DiscoveryRequestTimeout }),
		usage: "v3 discovery: time allowed for each request, connecting excluded."},
	{name: "discovery-keepalive-time", group: groupClustering, def: "2s", bind: durF(func(c *Config) *time.Duration { return &c.DiscoveryKeepAliveTime }),
		usage: "v3 discovery: interval of keep-alive pings on the connection."},
	{name: "discovery-keepalive-timeout", group: groupClustering, def: "6s", bind: durF(func(c *Config) *time.Duration { return &c.DiscoveryKeepAliveTimeout }),
		usage: "v3 discovery: time to wait for a keep-alive answer."},
	{name: "discovery-insecure-transport", group: groupClustering, def: "true", bind: boolF(func(c *Config) *bool { return &c.DiscoveryInsecureTransport }),
		usage: "v3 discovery: talk to the endpoints without TLS."},
	{name: "discovery-insecure-skip-tls-verify", group: groupClustering, def: "false", bind: boolF(func(c *Config) *bool { return &c.DiscoveryInsecureSkipTLSVerify }),
		usage: "v3 discovery: accept any server certificate (testing only)."},
	{name: "discovery-cert", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryCert }),
		usage: "v3 discovery: client certificate file."},
	{name: "discovery-key", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryKey }),
		usage: "v3 discovery: client key file."},
	{name: "discovery-cacert", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryCACert }),
		usage: "v3 discovery: CA bundle that verifies the endpoints' certificates."},
	{name: "discovery-user", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryUser }),
		usage: "v3 discovery: user name, or user:password."},
	{name: "discovery-password", group: groupClustering, bind: strF(func(c *Config) *string { return &c.DiscoveryPassword }),
		usage: "v3 discovery: password, when --discovery-user holds only the name."},
	{name: "strict-reconfig-check", group: groupClustering, def: "true", bind: boolF(func(c *Config) *bool { return &c.StrictReconfigCheck }),
		usage: "Refuse membership changes that could cost the cluster its quorum."},
	{name: "pre-vote", group: groupClustering, def: "true", bind: boolF(func(c *Config) *bool { return &c.PreVote }),
		usage: "Run raft's pre-vote phase so that a member coming back cannot unseat a healthy leader."},
	{name: "auto-compaction-mode", group: groupClustering, def: "periodic", bind: strF(func(c *Config) *string { return &c.AutoCompactionMode }),
		usage: "How --auto-compaction-retention reads: 'periodic' (a time span) or 'revision' (a count)."},
	{name: "auto-compaction-retention", group: groupClustering, def: "0", bind: strF(func(c *Config) *string { return &c.AutoCompactionRetention }),
		usage: "History kept by automatic compaction: hours or a duration such as 30m, or revisions; 0 disables it."},

	// Security.
	{name: "cert-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.CertFile }),
		usage: "Certificate the client URLs serve."},
	{name: "key-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.KeyFile }),
		usage: "Key of --cert-file."},
	{name: "client-cert-auth", group: groupSecurity, def: "false", bind: boolF(func(c *Config) *bool { return &c.ClientTLS.ClientCertAuth }),
		usage: "Require clients to present a certificate signed by --trusted-ca-file."},
	{name: "client-cert-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.ClientCertFile }),
		usage: "Certificate this member presents when it is itself a client (default: --cert-file)."},
	{name: "client-key-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.ClientKeyFile }),
		usage: "Key of --client-cert-file."},
	{name: "client-crl-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.CRLFile }),
		usage: "Revocation list checked against client certificates."},
	{name: "client-cert-allowed-hostname", group: groupSecurity, bind: strsF(func(c *Config) *[]string { return &c.ClientTLS.AllowedHostnames }, false),
		usage: "Comma-separated host names; a client certificate must carry one of them."},
	{name: "trusted-ca-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.ClientTLS.TrustedCAFile }),
		usage: "CA bundle for client certificates; given alone it already makes them required."},
	{name: "auto-tls", group: groupSecurity, def: "false", bind: boolF(func(c *Config) *bool { return &c.ClientTLS.AutoTLS }),
		usage: "Serve clients with a self-signed certificate made at start (ignored when --cert-file is given)."},
	{name: "peer-cert-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.CertFile }),
		usage: "Certificate the peer URLs serve and present to other members."},
	{name: "peer-key-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.KeyFile }),
		usage: "Key of --peer-cert-file."},
	{name: "peer-client-cert-auth", group: groupSecurity, def: "false", bind: boolF(func(c *Config) *bool { return &c.PeerTLS.ClientCertAuth }),
		usage: "Require members to present a certificate signed by --peer-trusted-ca-file."},
	{name: "peer-trusted-ca-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.TrustedCAFile }),
		usage: "CA bundle for member certificates."},
	{name: "peer-cert-allowed-cn", group: groupSecurity, bind: strsF(func(c *Config) *[]string { return &c.PeerTLS.AllowedCNs }, false),
		usage: "Comma-separated common names; a member certificate must carry one of them."},
	{name: "peer-cert-allowed-hostname", group: groupSecurity, bind: strsF(func(c *Config) *[]string { return &c.PeerTLS.AllowedHostnames }, false),
		usage: "Comma-separated host names; a member certificate must carry one (exclusive with --peer-cert-allowed-cn)."},
	{name: "peer-auto-tls", group: groupSecurity, def: "false", bind: boolF(func(c *Config) *bool { return &c.PeerTLS.AutoTLS }),
		usage: "Talk to members with a self-signed certificate made at start (ignored when --peer-cert-file is given)."},
	{name: "peer-client-cert-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.ClientCertFile }),
		usage: "Certificate presented when dialing other members (default: --peer-cert-file)."},
	{name: "peer-client-key-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.ClientKeyFile }),
		usage: "Key of --peer-client-cert-file."},
	{name: "peer-crl-file", group: groupSecurity, bind: strF(func(c *Config) *string { return &c.PeerTLS.CRLFile }),
		usage: "Revocation list checked against member certificates."},
	{name: "peer-skip-client-san-verification", group: groupSecurity, def: "false", bind: boolF(func(c *Config) *bool { return &c.PeerTLS.SkipClientSANVerify }),
		usage: "Do not check the SAN of a member's client certificate against its address."},
	{name: "self-signed-cert-validity", group: groupSecurity, def: "1", bind: uintF(func(c *Config) *uint { return &c.SelfSignedCertValidity }),
		usage: "Validity in years of the certificates made by --auto-tls and --peer-auto-tls."},
	{name: "cipher-suites", group: groupSecurity, bind: strsF(func(c *Config) *[]string { return &c.CipherSuites }, false),
		usage: "Comma-separated TLS cipher suites for clients and members (empty: Go's choice)."},
	{name: "tls-min-version", group: groupSecurity, def: "TLS1.2", bind: enumF(func(c *Config) *string { return &c.TLSMinVersion }, "TLS1.2", "TLS1.3"),
		usage: "Lowest TLS version accepted: TLS1.2 or TLS1.3."},
	{name: "tls-max-version", group: groupSecurity, bind: enumF(func(c *Config) *string { return &c.TLSMaxVersion }, "", "TLS1.2", "TLS1.3"),
		usage: "Highest TLS version accepted: TLS1.2 or TLS1.3 (empty: Go's choice)."},
	{name: "cors", group: groupSecurity, def: "*", bind: corsF(func(c *Config) *[]string { return &c.CORS }),
		usage: "Comma-separated origins allowed by CORS (empty or * allows all)."},
	{name: "host-whitelist", group: groupSecurity, def: "*", bind: strsF(func(c *Config) *[]string { return &c.HostWhitelist }, true),
		usage: "Comma-separated Host header values accepted on plain-HTTP client URLs (empty or * allows all)."},
	// The config file's client-transport-security may list allowed-cn;
	// etcd has no flag for it.
	{name: "client-cert-allowed-cn", group: groupHidden, fileOnly: true, bind: strsF(func(c *Config) *[]string { return &c.ClientTLS.AllowedCNs }, false)},

	// Auth.
	{name: "auth-token", group: groupAuth, def: "simple", bind: strF(func(c *Config) *string { return &c.AuthToken }),
		usage: "Kind of auth token with its options: 'simple' or 'jwt,...'."},
	{name: "bcrypt-cost", group: groupAuth, def: "10", bind: uintF(func(c *Config) *uint { return &c.BcryptCost }),
		usage: "bcrypt cost for hashing user passwords, from 4 to 31."},
	{name: "auth-token-ttl", group: groupAuth, def: "300", bind: uintF(func(c *Config) *uint { return &c.AuthTokenTTL }),
		usage: "Lifetime of a simple auth token, in seconds."},

	// Profiling and monitoring.
	{name: "enable-pprof", group: groupMonitoring, def: "false", bind: boolF(func(c *Config) *bool { return &c.EnablePprof }),
		usage: "Serve Go runtime profiles under /debug/pprof/ on the client URLs."},
	{name: "metrics", group: groupMonitoring, def: "basic", bind: enumF(func(c *Config) *string { return &c.Metrics }, "basic", "extensive"),
		usage: "Metrics detail: 'basic', or 'extensive' to add gRPC latency histograms."},
	{name: "listen-metrics-urls", group: groupMonitoring, bind: urlsF(func(c *Config) *[]url.URL { return &c.ListenMetricsURLs }),
		usage: "Extra comma-separated URLs that serve only /metrics and /health."},

	// Logging.
	{name: "logger", group: groupLogging, def: "zap", bind: strF(func(c *Config) *string { return &c.Logger }),
		usage: "Logger implementation; only 'zap' (structured logs)."},
	{name: "log-level", group: groupLogging, def: "info", bind: enumF(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error", "panic", "fatal"),
		usage: "Lowest level logged: debug, info, warn, error, panic or fatal."},
	{name: "log-format", group: groupLogging, def: "json", bind: enumF(func(c *Config) *string { return &c.LogFormat }, "json", "console"),
		usage: "Log encoding: json or console."},
	{name: "log-outputs", group: groupLogging, def: "default", bind: strsF(func(c *Config) *[]string { return &c.LogOutputs }, true),
		usage: "Comma-separated log destinations: default, stderr, stdout or file paths."},
	{name: "enable-log-rotation", group: groupLogging, def: "false", bind: boolF(func(c *Config) *bool { return &c.EnableLogRotation }),
		usage: "Rotate the log file; --log-outputs must then name a single file."},
	{name: "log-rotation-config-json", group: groupLogging, def: defaultLogRotationJSON, bind: strF(func(c *Config) *string { return &c.LogRotationConfigJSON }),
		usage: "Rotation settings as JSON: maxsize (MB), maxage (days), maxbackups, localtime, compress."},

	// v2 proxy.
	{name: "proxy", group: groupProxy, def: "off", bind: enumF(func(c *Config) *string { return &c.Proxy }, "off", "readonly", "on"),
		usage: "Run as a v2 HTTP proxy: 'off', 'readonly' or 'on'."},
	{name: "proxy-failure-wait", group: groupProxy, def: "5000", bind: uintF(func(c *Config) *uint { return &c.ProxyFailureWaitMs }),
		usage: "Milliseconds a failed endpoint is left out."},
	{name: "proxy-refresh-interval", group: groupProxy, def: "30000", bind: uintF(func(c *Config) *uint { return &c.ProxyRefreshIntervalMs }),
		usage: "Milliseconds between two refreshes of the member list."},
	{name: "proxy-dial-timeout", group: groupProxy, def: "1000", bind: uintF(func(c *Config) *uint { return &c.ProxyDialTimeoutMs }),
		usage: "Milliseconds allowed to connect to a member (0 disables)."},
	{name: "proxy-write-timeout", group: groupProxy, def: "5000", bind: uintF(func(c *Config) *uint { return &c.ProxyWriteTimeoutMs }),
		usage: "Milliseconds allowed for a write (0 disables)."},
	{name: "proxy-read-timeout", group: groupProxy, def: "0", bind: uintF(func(c *Config) *uint { return &c.ProxyReadTimeoutMs }),
		usage: "Milliseconds allowed for a read (0 disables; keep 0 for watches)."},

	// Tuning.
	{name: "compaction-batch-limit", group: groupTuning, def: "1000", bind: intF(func(c *Config) *int { return &c.CompactionBatchLimit }),
		usage: "Most revisions a compaction deletes in one batch."},
	{name: "compaction-sleep-interval", group: groupTuning, def: "10ms", bind: durF(func(c *Config) *time.Duration { return &c.CompactionSleepInterval }),
		usage: "Pause between two compaction batches."},
	{name: "watch-progress-notify-interval", group: groupTuning, def: "10m", bind: durF(func(c *Config) *time.Duration { return &c.WatchProgressNotifyInterval }),
		usage: "Period of progress notifications sent to idle watchers that asked for them."},
	{name: "warning-apply-duration", group: groupTuning, def: "100ms", bind: durF(func(c *Config) *time.Duration { return &c.WarningApplyDuration }),
		usage: "Applying an entry slower than this logs a warning."},
	{name: "warning-unary-request-duration", group: groupTuning, def: "300ms", bind: durF(func(c *Config) *time.Duration { return &c.WarningUnaryRequestDuration }),
		usage: "A unary request slower than this logs a warning."},
	{name: "corrupt-check-time", group: groupTuning, def: "0s", bind: durF(func(c *Config) *time.Duration { return &c.CorruptCheckTime }),
		usage: "Period of the cross-member data consistency check (0 disables)."},
	{name: "compact-hash-check-time", group: groupTuning, def: "1m", bind: durF(func(c *Config) *time.Duration { return &c.CompactHashCheckTime }),
		usage: "Period at which the leader compares followers' hashes at compaction points."},
	{name: "downgrade-check-time", group: groupTuning, def: "5s", bind: durF(func(c *Config) *time.Duration { return &c.DowngradeCheckTime }),
		usage: "Period of the check whether a cluster downgrade has finished."},
	{name: "memory-mlock", group: groupTuning, def: "false", bind: boolF(func(c *Config) *bool { return &c.MemoryMlock }),
		usage: "Lock the process's memory so that it is never swapped out."},

	// Unsafe.
	{name: "force-new-cluster", group: groupUnsafe, def: "false", bind: boolF(func(c *Config) *bool { return &c.ForceNewCluster }),
		usage: "Restart from the data dir as a one-member cluster, dropping every other member."},
	{name: "unsafe-no-fsync", group: groupUnsafe, def: "false", bind: boolF(func(c *Config) *bool { return &c.UnsafeNoFsync }),
		usage: "Never fsync; a crash can lose acknowledged writes. Tests only."},

	// Accepted for etcd compatibility; Cairn has nothing they would change.
	{name: "max-snapshots", group: groupCompat, def: "5", bind: noUint(), usage: "Snapshot files to keep (Cairn keeps none)."},
	{name: "max-wals", group: groupCompat, def: "5", bind: noUint(), usage: "WAL files to keep (Cairn's log is in its database)."},
	{name: "backend-bbolt-freelist-type", group: groupCompat, def: "map", bind: noString(), usage: "bbolt free-list type (Cairn does not use bbolt)."},
	{name: "backend-batch-interval", group: groupCompat, def: "0s", bind: noDuration(), usage: "bbolt commit interval."},
	{name: "backend-batch-limit", group: groupCompat, def: "0", bind: noInt(), usage: "bbolt commit batch size."},
	{name: "bootstrap-defrag-threshold-megabytes", group: groupCompat, def: "0", bind: noUint(), usage: "Defragment at start (Cairn reclaims space online)."},
	{name: "experimental-bootstrap-defrag-threshold-megabytes", group: groupCompat, def: "0", bind: noUint(), usage: "Old name of --bootstrap-defrag-threshold-megabytes."},
	{name: "enable-v2", group: groupCompat, def: "false", bind: noBool(), usage: "Cairn always serves the v2 keys API, emulated on v3."},
	{name: "v2-deprecation", group: groupCompat, def: "not-yet", bind: noString(), usage: "Stage of etcd's v2 store removal."},
	{name: "feature-gates", group: groupCompat, bind: noString(), usage: "etcd 3.6 feature gates."},
	{name: "experimental-initial-corrupt-check", group: groupCompat, def: "false", bind: noBool(), usage: "Check data consistency before serving."},
	{name: "experimental-enable-lease-checkpoint", group: groupCompat, def: "false", bind: noBool(), usage: "Cairn always keeps lease deadlines across leader changes."},
	{name: "experimental-enable-lease-checkpoint-persist", group: groupCompat, def: "false", bind: noBool(), usage: "See --experimental-enable-lease-checkpoint."},
	{name: "experimental-compact-hash-check-enabled", group: groupCompat, def: "false", bind: noBool(), usage: "Enable the compaction hash check."},
	{name: "experimental-txn-mode-write-with-shared-buffer", group: groupCompat, def: "true", bind: noBool(), usage: "bbolt read buffer sharing."},
	{name: "experimental-stop-grpc-service-on-defrag", group: groupCompat, def: "false", bind: noBool(), usage: "Cairn has no stop-the-world defragmentation."},
	{name: "experimental-enable-v2v3", group: groupCompat, bind: noString(), usage: "Cairn always serves v2 on v3."},
	{name: "experimental-backend-bbolt-freelist-type", group: groupCompat, def: "map", bind: noString(), usage: "Old name of --backend-bbolt-freelist-type."},
	{name: "enable-distributed-tracing", group: groupCompat, def: "false", bind: noBool(), usage: "OpenTelemetry tracing."},
	{name: "distributed-tracing-address", group: groupCompat, def: "localhost:4317", bind: noString(), usage: "OpenTelemetry collector address."},
	{name: "distributed-tracing-service-name", group: groupCompat, def: "etcd", bind: noString(), usage: "OpenTelemetry service name."},
	{name: "distributed-tracing-instance-id", group: groupCompat, bind: noString(), usage: "OpenTelemetry instance ID."},
	{name: "distributed-tracing-sampling-rate", group: groupCompat, def: "0", bind: noInt(), usage: "OpenTelemetry samples per million spans."},
	{name: "experimental-enable-distributed-tracing", group: groupCompat, def: "false", bind: noBool(), usage: "Old name of --enable-distributed-tracing."},
	{name: "experimental-distributed-tracing-address", group: groupCompat, def: "localhost:4317", bind: noString(), usage: "Old name of --distributed-tracing-address."},
	{name: "experimental-distributed-tracing-service-name", group: groupCompat, def: "etcd", bind: noString(), usage: "Old name of --distributed-tracing-service-name."},
	{name: "experimental-distributed-tracing-instance-id", group: groupCompat, bind: noString(), usage: "Old name of --distributed-tracing-instance-id."},
	{name: "experimental-distributed-tracing-sampling-rate", group: groupCompat, def: "0", bind: noInt(), usage: "Old name of --distributed-tracing-sampling-rate."},

	// Deprecated spellings (etcd 3.5's experimental-* names).
	{name: "experimental-max-learners", alias: "max-learners"},
	{name: "experimental-snapshot-catchup-entries", alias: "snapshot-catchup-entries"},
	{name: "experimental-compaction-batch-limit", alias: "compaction-batch-limit"},
	{name: "experimental-compaction-sleep-interval", alias: "compaction-sleep-interval"},
	{name: "experimental-watch-progress-notify-interval", alias: "watch-progress-notify-interval"},
	{name: "experimental-warning-apply-duration", alias: "warning-apply-duration"},
	{name: "experimental-warning-unary-request-duration", alias: "warning-unary-request-duration"},
	{name: "experimental-corrupt-check-time", alias: "corrupt-check-time"},
	{name: "experimental-compact-hash-check-time", alias: "compact-hash-check-time"},
	{name: "experimental-downgrade-check-time", alias: "downgrade-check-time"},
	{name: "experimental-memory-mlock", alias: "memory-mlock"},
	{name: "experimental-peer-skip-client-san-verification", alias: "peer-skip-client-san-verification"},

	// Handled by Parse itself.
	{name: "config-file", group: groupHidden, bind: strF(func(c *Config) *string { return &c.ConfigFile })},
	{name: "version", group: groupHidden, def: "false", bind: boolF(func(c *Config) *bool { return &c.ShowVersion })},
}

// flagIndex finds a row of flagTable by flag name.
var flagIndex = func() map[string]*flagDef {
	m := make(map[string]*flagDef, len(flagTable))
	for i := range flagTable {
		d := &flagTable[i]
		if _, dup := m[d.name]; dup {
			panic("config: flag listed twice: " + d.name)
		}
		m[d.name] = d
	}
	for _, d := range m {
		if d.alias == "" {
			continue
		}
		target, ok := m[d.alias]
		if !ok || target.alias != "" {
			panic("config: bad alias " + d.name)
		}
		d.group, d.bind, d.def = groupHidden, target.bind, target.def
	}
	return m
}()

// envKey is the ETCD_* variable of a flag.
func envKey(name string) string {
	return "ETCD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Binders. Each wraps a field selector into the flag.Value kind.

func strF(f func(*Config) *string) binder {
	return func(c *Config) flag.Value { return stringValue{f(c)} }
}

func enumF(f func(*Config) *string, valid ...string) binder {
	return func(c *Config) flag.Value { return enumValue{f(c), valid} }
}

func boolF(f func(*Config) *bool) binder {
	return func(c *Config) flag.Value { return boolValue{f(c)} }
}

func uintF(f func(*Config) *uint) binder {
	return func(c *Config) flag.Value { return uintValue{f(c)} }
}

func uint32F(f func(*Config) *uint32) binder {
	return func(c *Config) flag.Value { return uint32Value{f(c)} }
}

func uint64F(f func(*Config) *uint64) binder {
	return func(c *Config) flag.Value { return uint64Value{f(c)} }
}

func intF(f func(*Config) *int) binder {
	return func(c *Config) flag.Value { return intValue{f(c)} }
}

func int64F(f func(*Config) *int64, nonNegative bool) binder {
	return func(c *Config) flag.Value { return int64Value{f(c), nonNegative} }
}

func durF(f func(*Config) *time.Duration) binder {
	return func(c *Config) flag.Value { return durationValue{f(c)} }
}

func urlsF(f func(*Config) *[]url.URL) binder {
	return func(c *Config) flag.Value { return urlsValue{f(c)} }
}

func strsF(f func(*Config) *[]string, unique bool) binder {
	return func(c *Config) flag.Value { return stringsValue{f(c), unique} }
}

func corsF(f func(*Config) *[]string) binder {
	return func(c *Config) flag.Value { return corsValue{f(c)} }
}

// The no* binders check a value's syntax and then drop it.

func noString() binder { return func(*Config) flag.Value { return stringValue{new(string)} } }
func noBool() binder   { return func(*Config) flag.Value { return boolValue{new(bool)} } }
func noUint() binder   { return func(*Config) flag.Value { return uintValue{new(uint)} } }
func noInt() binder    { return func(*Config) flag.Value { return intValue{new(int)} } }
func noDuration() binder {
	return func(*Config) flag.Value { return durationValue{new(time.Duration)} }
}
