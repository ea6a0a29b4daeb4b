package config

import (
	"strings"
	"testing"
	"time"
)

// checkResult holds for every successful parse: the result is usable and
// its derived defaults are filled in.
func checkResult(t *testing.T, c *Config, err error) {
	t.Helper()
	if err != nil {
		if c != nil {
			t.Fatalf("both a Config and an error (%v)", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	if c.ShowHelp || c.ShowVersion {
		return
	}
	if c.DataDir == "" || c.HeartbeatMs == 0 || c.ElectionMs < 5*c.HeartbeatMs {
		t.Fatalf("accepted an invalid config: %+v", c)
	}
	_ = c.Unsupported()
	_, _ = c.InitialClusterMap()
}

// FuzzParse feeds Parse command lines: the input is split into arguments
// at NUL bytes, and environment entries follow a "\x00ENV\x00" marker.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"--name\x00infra0\x00--initial-advertise-peer-urls\x00http://10.0.1.10:2380",
		"-name=x\x00--pre-vote=false\x00--snapshot-count\x00abc",
		"--listen-client-urls\x00http://127.0.0.1:2379\x00--advertise-client-urls\x00unix://a",
		"--initial-cluster\x00a=http://1.2.3.4:1,a=http://1.2.3.4:1\x00--discovery\x00x",
		"--experimental-max-learners=3\x00--max-learners\x003",
		"--heartbeat-interval\x0018446744073709551615\x00--election-timeout\x0018446744073709551615",
		"bar\x00--help",
		"--name\x00y\x00ENV\x00ETCD_NAME=x\x00ETCD_FOO=1",
		"ENV\x00ETCD_CONFIG_FILE=\x00ETCD_INITIAL_CLUSTER_STATE=existing",
		"--auto-compaction-mode\x00revision\x00--auto-compaction-retention\x005m",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		parts := strings.Split(in, "\x00")
		var args, env []string
		inEnv := false
		for _, p := range parts {
			switch {
			case p == "ENV":
				inEnv = true
			case strings.HasPrefix(p, "--config-file") || strings.HasPrefix(p, "-config-file") || strings.HasPrefix(p, "ETCD_CONFIG_FILE="):
				// Keep the fuzzer off the file system.
			case inEnv:
				env = append(env, p)
			default:
				args = append(args, p)
			}
		}
		c, err := Parse(args, env)
		checkResult(t, c, err)
	})
}

// FuzzConfigFile feeds the config-file reader arbitrary YAML.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte(fullFile))
	for _, seed := range []string{
		"",
		"name: a\n",
		"grpc-keepalive-min-time: 5000000000\n",
		"log-outputs: [a, b]\nlisten-peer-urls: http://127.0.0.1:2380,http://[::1]:2380\n",
		"client-transport-security:\n  allowed-cn: [a]\n  allowed-hostname: b\n",
		"initial-cluster: a=http://1.2.3.4:1\ndiscovery-srv: example.com\n",
		"&a [*a]\n",
		"snapshot-count: 1e400\n",
		"? [a]\n: b\n",
		"heartbeat-interval: 100\nelection-timeout: 499\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		c, err := parseFile(data, "fuzz.yaml")
		if d := time.Since(start); d > time.Second {
			t.Fatalf("slow: %v for %q", d, data)
		}
		checkResult(t, c, err)
	})
}
