package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// fileSections maps the keys of the config file's two TLS sections to the
// flags they set.
var fileSections = map[string]map[string]string{
	"client-transport-security": {
		"cert-file":        "cert-file",
		"key-file":         "key-file",
		"client-cert-file": "client-cert-file",
		"client-key-file":  "client-key-file",
		"client-cert-auth": "client-cert-auth",
		"trusted-ca-file":  "trusted-ca-file",
		"crl-file":         "client-crl-file",
		"auto-tls":         "auto-tls",
		"allowed-cn":       "client-cert-allowed-cn",
		"allowed-hostname": "client-cert-allowed-hostname",
	},
	"peer-transport-security": {
		"cert-file":                    "peer-cert-file",
		"key-file":                     "peer-key-file",
		"client-cert-file":             "peer-client-cert-file",
		"client-key-file":              "peer-client-key-file",
		"client-cert-auth":             "peer-client-cert-auth",
		"trusted-ca-file":              "peer-trusted-ca-file",
		"crl-file":                     "peer-crl-file",
		"auto-tls":                     "peer-auto-tls",
		"allowed-cn":                   "peer-cert-allowed-cn",
		"allowed-hostname":             "peer-cert-allowed-hostname",
		"skip-client-san-verification": "peer-skip-client-san-verification",
	},
}

// sectionOf tells, for a flag set through a TLS section, which section and
// key set it: the config file does not take those flags at the top level.
var sectionOf = func() map[string][2]string {
	m := make(map[string][2]string)
	for sec, keys := range fileSections {
		for key, name := range keys {
			m[name] = [2]string{sec, key}
		}
	}
	return m
}()

// applyFile sets flags from a YAML config file: flag names as keys, lists
// as comma-separated strings or YAML sequences, durations as Go duration
// strings or (like etcd) integer nanoseconds, TLS settings in the two
// *-transport-security sections. A key that is no flag is an error.
func (c *Config) applyFile(data []byte, path string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("config file %s: %s", path, oneLine(fmt.Sprintf(format, args...)))
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fail("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil && !errors.Is(err, io.EOF) {
		return fail("%v", err)
	}
	if top == nil {
		return nil // an empty file leaves every default
	}
	m, ok := top.(map[string]any)
	if !ok {
		return fail("expected a mapping of flag names to values")
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		val := m[key]
		if keys, ok := fileSections[key]; ok {
			if val == nil {
				continue
			}
			sm, ok := val.(map[string]any)
			if !ok {
				return fail("%s must be a mapping", key)
			}
			for _, sk := range slices.Sorted(maps.Keys(sm)) {
				name, ok := keys[sk]
				if !ok {
					return fail("unknown key %q", key+"."+sk)
				}
				if err := c.setFromFile(name, key+"."+sk, sm[sk]); err != nil {
					return fail("%v", err)
				}
			}
			continue
		}
		d, ok := flagIndex[key]
		if !ok || d.fileOnly || key == "config-file" || key == "version" {
			return fail("unknown key %q", key)
		}
		if s, ok := sectionOf[key]; ok {
			return fail("key %q belongs under %s as %q", key, s[0], s[1])
		}
		if err := c.setFromFile(key, key, val); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// setFromFile sets flag name from the decoded YAML value v found at key.
func (c *Config) setFromFile(name, key string, v any) error {
	if v == nil {
		return nil // "key:" with no value keeps the default
	}
	val := flagIndex[name].bind(c)
	s, err := fileText(val, v)
	if err != nil {
		return fmt.Errorf("invalid value for %s: %v", key, err)
	}
	if _, isURLs := val.(urlsValue); isURLs && strings.TrimSpace(s) == "" {
		return nil // etcd's config file keeps the default URLs for ""
	}
	if err := val.Set(s); err != nil {
		return fmt.Errorf("invalid value %q for %s: %v", s, key, err)
	}
	c.explicit[name] = true
	return nil
}

// fileText turns a decoded YAML value into the flag syntax of val.
func fileText(val flag.Value, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		if _, ok := val.(durationKind); ok {
			n, err := v.Int64()
			if err != nil {
				return "", fmt.Errorf("%s is not a duration", v)
			}
			return time.Duration(n).String(), nil
		}
		return v.String(), nil
	case []any:
		if _, ok := val.(listValue); !ok {
			return "", errors.New("expected a single value, not a list")
		}
		items := make([]string, 0, len(v))
		for _, it := range v {
			switch it.(type) {
			case string, bool, json.Number:
			default:
				return "", errors.New("list items must be plain values")
			}
			s, err := fileText(val, it)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		return strings.Join(items, ","), nil
	default:
		return "", errors.New("expected a value, not a mapping")
	}
}
