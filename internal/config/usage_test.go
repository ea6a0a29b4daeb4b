package config

import (
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	u := Usage()
	// Groups appear in etcd's order.
	last := -1
	for g := groupMember; g < groupHidden; g++ {
		i := strings.Index(u, "\n"+groupTitles[g]+":\n")
		if i < 0 {
			t.Errorf("group %q missing", groupTitles[g])
			continue
		}
		if i < last {
			t.Errorf("group %q out of order", groupTitles[g])
		}
		last = i
	}
	for _, d := range flagTable {
		line := "\n  --" + d.name + " '"
		n := strings.Count(u, line)
		visible := d.group != groupHidden
		if visible && n != 1 {
			t.Errorf("--%s listed %d times", d.name, n)
		}
		if !visible && n != 0 {
			t.Errorf("hidden --%s is listed", d.name)
		}
	}
	for _, want := range []string{
		"  --name 'default'\n",
		"  --data-dir '${name}.etcd'\n",
		"  --snapshot-count '10000'\n",
		"  --heartbeat-interval '100'\n",
		"  --election-timeout '1000'\n",
		"  --listen-peer-urls 'http://localhost:2380'\n",
		"  --listen-client-urls 'http://localhost:2379'\n",
		"  --initial-advertise-peer-urls 'http://localhost:2380'\n",
		"  --advertise-client-urls 'http://localhost:2379'\n",
		"  --initial-cluster-state 'new'\n",
		"  --initial-cluster-token 'etcd-cluster'\n",
		"  --max-request-bytes '1572864'\n",
		"  --max-txn-ops '128'\n",
		"  --max-learners '1'\n",
		"  --strict-reconfig-check 'true'\n",
		"  --pre-vote 'true'\n",
		"  --grpc-keepalive-min-time '5s'\n",
		"  --grpc-keepalive-interval '2h'\n",
		"  --grpc-keepalive-timeout '20s'\n",
		"  --log-level 'info'\n",
		"  --logger 'zap'\n",
		"  --log-outputs 'default'\n",
		"  --metrics 'basic'\n",
		"  --self-signed-cert-validity '1'\n",
		"  --tls-min-version 'TLS1.2'\n",
		"  --proxy 'off'\n",
		"  --discovery-fallback 'exit'\n",
		"cairn --config-file",
		"ETCD_INITIAL_CLUSTER_TOKEN",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("Usage() lacks %q", want)
		}
	}
}
