package config

import (
	"net/url"
	"strings"
	"time"
)

// Config is the validated configuration of one member. Each field is one
// etcd flag; its comment names the flag and its default. Durations given in
// milliseconds by etcd (heartbeat, election, proxy timeouts) stay plain
// numbers of milliseconds here, so --heartbeat-interval 100 is 100.
type Config struct {
	// Member.

	Name                       string        // --name, "default"
	DataDir                    string        // --data-dir, "<name>.etcd"
	WALDir                     string        // --wal-dir, "" (inside the data dir)
	SnapshotCount              uint64        // --snapshot-count, 10000
	SnapshotCatchUpEntries     uint64        // --snapshot-catchup-entries, 5000
	HeartbeatMs                uint          // --heartbeat-interval, 100
	ElectionMs                 uint          // --election-timeout, 1000
	InitialElectionTickAdvance bool          // --initial-election-tick-advance, true
	ListenPeerURLs             []url.URL     // --listen-peer-urls, http://localhost:2380
	ListenClientURLs           []url.URL     // --listen-client-urls, http://localhost:2379
	ListenClientHTTPURLs       []url.URL     // --listen-client-http-urls, none
	QuotaBackendBytes          int64         // --quota-backend-bytes, 0 (the default quota)
	MaxTxnOps                  uint          // --max-txn-ops, 128
	MaxRequestBytes            int64         // --max-request-bytes, 1572864
	MaxConcurrentStreams       uint32        // --max-concurrent-streams, 4294967295
	EnableGRPCGateway          bool          // --enable-grpc-gateway, true
	GRPCKeepAliveMinTime       time.Duration // --grpc-keepalive-min-time, 5s
	GRPCKeepAliveInterval      time.Duration // --grpc-keepalive-interval, 2h
	GRPCKeepAliveTimeout       time.Duration // --grpc-keepalive-timeout, 20s
	SocketReusePort            bool          // --socket-reuse-port, false
	SocketReuseAddress         bool          // --socket-reuse-address, false
	RaftReadTimeout            time.Duration // --raft-read-timeout, 5s
	RaftWriteTimeout           time.Duration // --raft-write-timeout, 5s
	MaxLearners                int           // --max-learners, 1

	// Clustering.

	AdvertisePeerURLs              []url.URL     // --initial-advertise-peer-urls, http://localhost:2380
	InitialCluster                 string        // --initial-cluster, "<name>=<advertise peer URLs>"
	InitialClusterState            string        // --initial-cluster-state, "new" (or "existing")
	InitialClusterToken            string        // --initial-cluster-token, "etcd-cluster"
	AdvertiseClientURLs            []url.URL     // --advertise-client-urls, http://localhost:2379
	Discovery                      string        // --discovery, ""
	DiscoveryFallback              string        // --discovery-fallback, "exit" (or "proxy")
	DiscoveryProxy                 string        // --discovery-proxy, ""
	DiscoverySRV                   string        // --discovery-srv, ""
	DiscoverySRVName               string        // --discovery-srv-name, ""
	DiscoveryEndpoints             []string      // --discovery-endpoints, none
	DiscoveryToken                 string        // --discovery-token, ""
	DiscoveryDialTimeout           time.Duration // --discovery-dial-timeout, 2s
	DiscoveryRequestTimeout        time.Duration // --discovery-request-timeout, 5s
	DiscoveryKeepAliveTime         time.Duration // --discovery-keepalive-time, 2s
	DiscoveryKeepAliveTimeout      time.Duration // --discovery-keepalive-timeout, 6s
	DiscoveryInsecureTransport     bool          // --discovery-insecure-transport, true
	DiscoveryInsecureSkipTLSVerify bool          // --discovery-insecure-skip-tls-verify, false
	DiscoveryCert                  string        // --discovery-cert, ""
	DiscoveryKey                   string        // --discovery-key, ""
	DiscoveryCACert                string        // --discovery-cacert, ""
	DiscoveryUser                  string        // --discovery-user, ""
	DiscoveryPassword              string        // --discovery-password, ""
	StrictReconfigCheck            bool          // --strict-reconfig-check, true
	PreVote                        bool          // --pre-vote, true
	AutoCompactionMode             string        // --auto-compaction-mode, "periodic" (or "revision")
	AutoCompactionRetention        string        // --auto-compaction-retention, "0" (off)

	// Security.

	ClientTLS              TLSInfo  // --cert-file, --key-file, --trusted-ca-file, --auto-tls, ...
	PeerTLS                TLSInfo  // --peer-cert-file, --peer-key-file, --peer-auto-tls, ...
	SelfSignedCertValidity uint     // --self-signed-cert-validity, 1 (years)
	CipherSuites           []string // --cipher-suites, none (Go's choice)
	TLSMinVersion          string   // --tls-min-version, "TLS1.2"
	TLSMaxVersion          string   // --tls-max-version, "" (Go's choice)
	CORS                   []string // --cors, ["*"]
	HostWhitelist          []string // --host-whitelist, ["*"]

	// Auth.

	AuthToken    string // --auth-token, "simple"
	BcryptCost   uint   // --bcrypt-cost, 10
	AuthTokenTTL uint   // --auth-token-ttl, 300 (seconds)

	// Profiling and monitoring.

	EnablePprof       bool      // --enable-pprof, false
	Metrics           string    // --metrics, "basic" (or "extensive")
	ListenMetricsURLs []url.URL // --listen-metrics-urls, none

	// Logging.

	Logger                string   // --logger, "zap"
	LogLevel              string   // --log-level, "info"
	LogFormat             string   // --log-format, "json" (or "console")
	LogOutputs            []string // --log-outputs, ["default"]
	EnableLogRotation     bool     // --enable-log-rotation, false
	LogRotationConfigJSON string   // --log-rotation-config-json, see Usage

	// v2 proxy.

	Proxy                  string // --proxy, "off" (or "readonly", "on")
	ProxyFailureWaitMs     uint   // --proxy-failure-wait, 5000
	ProxyRefreshIntervalMs uint   // --proxy-refresh-interval, 30000
	ProxyDialTimeoutMs     uint   // --proxy-dial-timeout, 1000
	ProxyWriteTimeoutMs    uint   // --proxy-write-timeout, 5000
	ProxyReadTimeoutMs     uint   // --proxy-read-timeout, 0

	// Tuning (etcd 3.6 names; the experimental-* spellings are aliases).

	CompactionBatchLimit        int           // --compaction-batch-limit, 1000
	CompactionSleepInterval     time.Duration // --compaction-sleep-interval, 10ms
	WatchProgressNotifyInterval time.Duration // --watch-progress-notify-interval, 10m
	WarningApplyDuration        time.Duration // --warning-apply-duration, 100ms
	WarningUnaryRequestDuration time.Duration // --warning-unary-request-duration, 300ms
	CorruptCheckTime            time.Duration // --corrupt-check-time, 0 (off)
	CompactHashCheckTime        time.Duration // --compact-hash-check-time, 1m
	DowngradeCheckTime          time.Duration // --downgrade-check-time, 5s
	MemoryMlock                 bool          // --memory-mlock, false

	// Unsafe.

	ForceNewCluster bool // --force-new-cluster, false
	UnsafeNoFsync   bool // --unsafe-no-fsync, false

	// ConfigFile is --config-file (or ETCD_CONFIG_FILE). When it is set, the
	// file was the only source: command-line flags and ETCD_* variables
	// were ignored.
	ConfigFile string

	ShowHelp    bool // -h, --help: print Usage() and exit 0
	ShowVersion bool // --version: print the version and exit 0

	// Warnings are things the caller should log once the logger is up:
	// unknown ETCD_* variables, deprecated or ineffective flags, ignored
	// flags beside --config-file.
	Warnings []string

	// explicit holds the flags set by the command line, the environment or
	// the config file, under their canonical names.
	explicit map[string]bool
	// fromFile is true when the config file was the source.
	fromFile bool
}

// TLSInfo is one side's TLS settings: the client side (--cert-file, ...)
// or the peer side (--peer-cert-file, ...). In the config file they are
// the keys of client-transport-security and peer-transport-security.
type TLSInfo struct {
	CertFile            string   // cert-file
	KeyFile             string   // key-file
	ClientCertFile      string   // client-cert-file: certificate used when dialing out
	ClientKeyFile       string   // client-key-file
	ClientCertAuth      bool     // client-cert-auth
	TrustedCAFile       string   // trusted-ca-file
	CRLFile             string   // crl-file (--client-crl-file / --peer-crl-file)
	AutoTLS             bool     // auto-tls
	AllowedCNs          []string // allowed-cn (--peer-cert-allowed-cn)
	AllowedHostnames    []string // allowed-hostname (--client-cert-allowed-hostname / --peer-cert-allowed-hostname)
	SkipClientSANVerify bool     // skip-client-san-verification (peer side)
}

// IsSet reports whether flag (with or without leading dashes) was set
// explicitly by the command line, an ETCD_* variable or the config file.
// A deprecated alias counts for the flag it stands for.
func (c *Config) IsSet(flag string) bool {
	return c.explicit[strings.TrimLeft(flag, "-")]
}
