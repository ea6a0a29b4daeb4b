package config

import (
	"reflect"
	"testing"
	"time"
)

func TestEnvironment(t *testing.T) {
	c := mustParse(t, []string{"--name", "infra0"}, []string{
		"PATH=/usr/bin",
		"ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster-1",
		"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.0.1.10:2380",
		"ETCD_HEARTBEAT_INTERVAL=200",
		"ETCD_ELECTION_TIMEOUT=2000",
		"ETCD_PRE_VOTE=false",
		"ETCD_GRPC_KEEPALIVE_TIMEOUT=3s",
		"ETCD_LOG_OUTPUTS=stderr,stdout",
		"ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL=1m",
		"ETCDCTL_API=3",
		"ETCD_UNSUPPORTED_ARCH=arm",
		"ETCD_FOO=1",
		"ETCD_BAR",
	})
	checks := []struct {
		name      string
		got, want any
	}{
		{"Name", c.Name, "infra0"},
		{"InitialClusterToken", c.InitialClusterToken, "etcd-cluster-1"},
		{"AdvertisePeerURLs", c.AdvertisePeerURLs, urls(t, "http://10.0.1.10:2380")},
		{"InitialCluster", c.InitialCluster, "infra0=http://10.0.1.10:2380"},
		{"HeartbeatMs", c.HeartbeatMs, uint(200)},
		{"ElectionMs", c.ElectionMs, uint(2000)},
		{"PreVote", c.PreVote, false},
		{"GRPCKeepAliveTimeout", c.GRPCKeepAliveTimeout, 3 * time.Second},
		{"LogOutputs", c.LogOutputs, []string{"stderr", "stdout"}},
		{"WatchProgressNotifyInterval", c.WatchProgressNotifyInterval, time.Minute},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	for _, f := range []string{"initial-cluster-token", "pre-vote", "watch-progress-notify-interval", "experimental-watch-progress-notify-interval"} {
		if !c.IsSet(f) {
			t.Errorf("IsSet(%q) = false for a flag set from the environment", f)
		}
	}
	if c.IsSet("initial-cluster") {
		t.Error("derived --initial-cluster reported as set")
	}
	want := []string{
		"unrecognized environment variable ETCD_FOO",
		"--experimental-watch-progress-notify-interval is deprecated, use --watch-progress-notify-interval",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, want)
	}
}

func TestEnvironmentLastEntryWins(t *testing.T) {
	c := mustParse(t, nil, []string{"ETCD_NAME=a", "ETCD_NAME=b"})
	if c.Name != "b" {
		t.Errorf("Name = %q, want b", c.Name)
	}
}

func TestEnvironmentEmptyIsUnset(t *testing.T) {
	c := mustParse(t, nil, []string{"ETCD_NAME=", "ETCD_SNAPSHOT_COUNT="})
	if c.Name != "default" || c.SnapshotCount != 10000 || c.IsSet("name") {
		t.Errorf("empty variables used: Name=%q SnapshotCount=%d", c.Name, c.SnapshotCount)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %q", c.Warnings)
	}
}

func TestEnvironmentErrors(t *testing.T) {
	tests := []struct {
		args    []string
		environ []string
		want    string
	}{
		{[]string{"--name", "y"}, []string{"ETCD_NAME=x"},
			`conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		// Present but empty still conflicts, as in etcd.
		{[]string{"--name", "y"}, []string{"ETCD_NAME="},
			`conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{[]string{"--initial-cluster-token=t"}, []string{"ETCD_INITIAL_CLUSTER_TOKEN=t"},
			`conflicting environment variable "ETCD_INITIAL_CLUSTER_TOKEN" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{nil, []string{"ETCD_SNAPSHOT_COUNT=abc"}, `invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error`},
		{nil, []string{"ETCD_PRE_VOTE=maybe"}, `invalid value "maybe" for ETCD_PRE_VOTE: parse error`},
		{nil, []string{"ETCD_INITIAL_CLUSTER_STATE=old"}, `invalid value "old" for ETCD_INITIAL_CLUSTER_STATE: valid values are "new", "existing"`},
		{nil, []string{"ETCD_LISTEN_PEER_URLS=127.0.0.1:2380"}, `invalid value "127.0.0.1:2380" for ETCD_LISTEN_PEER_URLS: parse "127.0.0.1:2380": first path segment in URL cannot contain colon`},
		{nil, []string{"ETCD_ELECTION_TIMEOUT=400"}, "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args, tt.environ)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q %q:\n got %v\nwant %q", tt.args, tt.environ, err, tt.want)
		}
	}
}

func TestEnvironmentVersion(t *testing.T) {
	c := mustParse(t, nil, []string{"ETCD_VERSION=3.5"})
	if c.ShowVersion {
		t.Error("ETCD_VERSION turned on --version")
	}
	want := []string{"ignoring ETCD_VERSION: --version cannot be set from the environment"}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, want)
	}
}

func TestEnvironmentConfigFileEmpty(t *testing.T) {
	c := mustParse(t, []string{"--config-file="}, []string{"ETCD_CONFIG_FILE=", "ETCD_VERSION="})
	if c.ConfigFile != "" || len(c.Warnings) != 0 {
		t.Errorf("ConfigFile=%q Warnings=%q", c.ConfigFile, c.Warnings)
	}
}

func TestEnvironmentFileOnlyKeyIsUnknown(t *testing.T) {
	c := mustParse(t, nil, []string{"ETCD_CLIENT_CERT_ALLOWED_CN=x"})
	if len(c.ClientTLS.AllowedCNs) != 0 {
		t.Error("file-only setting taken from the environment")
	}
	if len(c.Warnings) != 1 || c.Warnings[0] != "unrecognized environment variable ETCD_CLIENT_CERT_ALLOWED_CN" {
		t.Errorf("Warnings = %q", c.Warnings)
	}
}
