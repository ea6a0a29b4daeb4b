package tlsutil

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// legacySuiteNames are the spellings etcd accepts besides Go's names: the
// ChaCha20 suites were once named without their "_SHA256" suffix, and
// existing configurations still use those names.
var legacySuiteNames = map[string]uint16{
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ParseCipherSuites maps --cipher-suites names (IANA spelling, as Go and
// etcd print them, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) to their IDs,
// in the order given. An unknown name, or one Go lists as insecure (RC4,
// 3DES, CBC-SHA256, static-RSA key exchange), is an error naming it.
//
// TLS 1.3 suite names are accepted, as etcd accepts them, but have no
// effect: Go always enables all TLS 1.3 suites.
func ParseCipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	secure := make(map[string]uint16)
	for _, s := range tls.CipherSuites() {
		secure[s.Name] = s.ID
	}
	insecure := make(map[string]uint16)
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.Name] = s.ID
	}
	ids := make([]uint16, 0, len(names))
	for _, raw := range names {
		name := strings.TrimSpace(raw)
		if id, ok := secure[name]; ok {
			ids = append(ids, id)
			continue
		}
		if id, ok := legacySuiteNames[name]; ok {
			ids = append(ids, id)
			continue
		}
		if id, ok := insecure[name]; ok {
			// etcd accepts these, and deployments list them; refusing would
			// stop a drop-in start. InsecureCipherSuites lets the caller warn.
			ids = append(ids, id)
			continue
		}
		return nil, &ConfigError{
			Flag:  "--cipher-suites",
			Value: name,
			Err:   fmt.Errorf("%w (supported: %s)", ErrUnknownCipherSuite, strings.Join(SupportedCipherSuites(), ", ")),
		}
	}
	return ids, nil
}

// SupportedCipherSuites lists the names ParseCipherSuites accepts for TLS 1.2
// (the ones worth listing in --help or an error message).
func SupportedCipherSuites() []string {
	var names []string
	for _, s := range tls.CipherSuites() {
		for _, v := range s.SupportedVersions {
			if v == tls.VersionTLS12 {
				names = append(names, s.Name)
				break
			}
		}
	}
	return names
}

// ParseVersion maps a --tls-min-version / --tls-max-version value to its
// tls.Version* constant. "" maps to 0, meaning "not set": the caller picks
// the default (TLS 1.2 for the minimum, Go's choice for the maximum).
func ParseVersion(v string) (uint16, error) {
	switch v {
	case "":
		return 0, nil
	case "TLS1.2":
		return tls.VersionTLS12, nil
	case "TLS1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("%w %q (must be one of: TLS1.2, TLS1.3)", ErrUnknownVersion, v)
}

// InsecureCipherSuites returns the names among names that Go considers
// insecure; they are accepted, and the caller should warn about them.
func InsecureCipherSuites(names []string) []string {
	var out []string
	for _, s := range tls.InsecureCipherSuites() {
		for _, n := range names {
			if strings.TrimSpace(n) == s.Name {
				out = append(out, s.Name)
			}
		}
	}
	return out
}
