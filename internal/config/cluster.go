package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cairn-db/cairn/internal/membership"
)

// InitialClusterMap parses --initial-cluster into member name → peer URLs
// (normalised, sorted). A name listed several times gets all its URLs.
// Errors carry etcd's texts: a malformed URL gives "error setting up
// initial cluster: <URL error>", a URL listed twice (under one name or
// two) gives "initial cluster <name=url,...> has duplicate url".
func (c *Config) InitialClusterMap() (map[string][]string, error) {
	raw := make(map[string][]string)
	for entry := range strings.SplitSeq(c.InitialCluster, ",") {
		if entry == "" {
			continue
		}
		name, u, _ := strings.Cut(entry, "=")
		raw[name] = append(raw[name], u)
	}

	out := make(map[string][]string, len(raw))
	for name, ins := range raw {
		var urls []string
		for _, in := range ins {
			u, err := parseURL(in)
			if err != nil {
				return nil, fmt.Errorf("error setting up initial cluster: %s", oneLine(err.Error()))
			}
			urls = append(urls, u.String())
		}
		slices.Sort(urls)
		out[name] = urls
	}

	seen := make(map[string]bool)
	for _, urls := range out {
		for _, u := range urls {
			if seen[u] {
				return nil, fmt.Errorf("initial cluster %s has duplicate url", membership.FormatInitialCluster(out))
			}
			seen[u] = true
		}
	}
	return out, nil
}

// initialClusterFromName is etcd's default --initial-cluster for a member
// named name: name=u for each advertise peer URL u.
func initialClusterFromName(name string, advertise []url.URL) string {
	if name == "" {
		name = defaultName
	}
	pairs := make([]string, len(advertise))
	for i := range advertise {
		pairs[i] = name + "=" + advertise[i].String()
	}
	return strings.Join(pairs, ",")
}
