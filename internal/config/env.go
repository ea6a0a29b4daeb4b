package config

import (
	"fmt"
	"slices"
	"strings"
)

// envIgnored are ETCD_* variables that are not flags but that etcd or its
// tooling reads elsewhere; they draw no warning.
var envIgnored = map[string]bool{
	"ETCD_UNSUPPORTED_ARCH": true, // etcd's check for unsupported platforms
	"ETCD_VERIFY":           true, // etcd's test-time consistency checks
}

// environMap turns os.Environ() form into a map; a later entry wins.
// Entries without "=" are dropped.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// applyEnv sets every flag not given on the command line from its ETCD_*
// variable. A variable that is present (even empty) for a flag given on the
// command line is an error, as in etcd; an empty variable otherwise counts
// as unset. ETCD_* variables that name no flag become warnings.
func (c *Config) applyEnv(env map[string]string) error {
	known := make(map[string]bool)
	for i := range flagTable {
		d := &flagTable[i]
		if d.fileOnly {
			continue
		}
		key := envKey(d.name)
		val, ok := env[key]
		if !ok {
			continue
		}
		known[key] = true
		switch d.name {
		case "config-file":
			continue // Parse has read it already
		case "version":
			if val != "" {
				c.warnf("ignoring %s: --version cannot be set from the environment", key)
			}
			continue
		}
		if c.explicit[d.name] {
			return fmt.Errorf("conflicting environment variable %q is shadowed by corresponding command-line flag (either unset environment variable or disable flag)", key)
		}
		if val == "" {
			continue
		}
		if err := d.bind(c).Set(val); err != nil {
			return fmt.Errorf("invalid value %q for %s: %v", val, key, err)
		}
		c.explicit[d.name] = true
	}

	var unknown []string
	for key := range env {
		if strings.HasPrefix(key, "ETCD_") && !known[key] && !envIgnored[key] {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	for _, key := range unknown {
		c.warnf("unrecognized environment variable %s", key)
	}
	return nil
}
