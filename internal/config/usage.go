package config

import (
	"fmt"
	"strings"
)

const usageHeader = `Usage:

  cairn [flags]
    Start a Cairn member.

  cairn --version
    Print the version and exit.

  cairn -h | --help
    Print this help and exit.

  cairn --config-file <path>
    Read every setting from a YAML file (flag names as keys); command-line
    flags and ETCD_* variables are then ignored.

  cairn gateway start
    Run the TCP pass-through gateway (not supported yet).

  cairn grpc-proxy start
    Run the caching gRPC proxy (not supported yet).

  cairn discovery
    Run a discovery service for v2 discovery tokens (not supported yet).

Every flag can also come from the environment as ETCD_<FLAG>, upper case
with '-' as '_' (--initial-cluster-token is ETCD_INITIAL_CLUSTER_TOKEN).
Giving one flag both ways is an error.
`

const usageFooter = `
The experimental-* names of etcd 3.5 for the tuning flags and for
--max-learners, --snapshot-catchup-entries and
--peer-skip-client-san-verification are accepted as deprecated aliases.
`

// Usage returns the --help text: the flags grouped as etcd groups them,
// each with its default and what it does.
func Usage() string {
	var b strings.Builder
	b.WriteString(usageHeader)
	for g := groupMember; g < groupHidden; g++ {
		fmt.Fprintf(&b, "\n%s:\n", groupTitles[g])
		for i := range flagTable {
			d := &flagTable[i]
			if d.group != g {
				continue
			}
			def := d.def
			if d.show != "" {
				def = d.show
			}
			fmt.Fprintf(&b, "  --%s '%s'\n    %s\n", d.name, def, d.usage)
		}
	}
	b.WriteString(usageFooter)
	return b.String()
}
