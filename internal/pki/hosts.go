package pki

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// sans are the subject alternative names parsed from IssueOptions.Hosts.
type sans struct {
	dnsNames []string
	ips      []net.IP
}

// parseHosts sorts hosts into IP addresses and DNS names, in the order
// given, without duplicates. It rejects rather than repairs anything that
// is neither, because a wrong SAN only shows up later as a failed TLS
// handshake on another machine.
func parseHosts(hosts []string) (sans, error) {
	var s sans
	seen := make(map[string]bool, len(hosts))
	for _, raw := range hosts {
		h := strings.TrimSpace(raw)
		if h == "" {
			return sans{}, fmt.Errorf("%w: empty host in %q", ErrInvalidHost, hosts)
		}
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
			key := "ip:" + ip.String()
			if !seen[key] {
				seen[key] = true
				s.ips = append(s.ips, ip)
			}
			continue
		}
		name, err := normalizeDNSName(h)
		if err != nil {
			return sans{}, fmt.Errorf("%w %q: %v", ErrInvalidHost, raw, err)
		}
		key := "dns:" + name
		if !seen[key] {
			seen[key] = true
			s.dnsNames = append(s.dnsNames, name)
		}
	}
	return s, nil
}

// normalizeDNSName checks h as a host name (RFC 1123 labels, an optional
// leading "*." wildcard) and returns it lower-cased without a trailing dot.
func normalizeDNSName(h string) (string, error) {
	if host, port, err := net.SplitHostPort(h); err == nil {
		return "", fmt.Errorf("looks like host:port; give the host %q without the port %q", host, port)
	}
	name := strings.ToLower(strings.TrimSuffix(h, "."))
	if len(name) > 253 {
		return "", errors.New("longer than 253 bytes")
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "*" && i == 0 {
			if len(labels) < 3 {
				return "", errors.New("a wildcard needs at least two labels after it, as in *.cairn.example")
			}
			continue
		}
		if err := checkLabel(l); err != nil {
			return "", err
		}
	}
	// "10.0.1.256" is a mistyped IP address, not a name: no top-level
	// domain is all digits.
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "", errors.New("not an IP address, and a DNS name cannot end in a numeric label")
	}
	return name, nil
}

func checkLabel(l string) error {
	if l == "" {
		return errors.New("empty label")
	}
	if len(l) > 63 {
		return fmt.Errorf("label %q is longer than 63 bytes", l)
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return fmt.Errorf("label %q starts or ends with '-'", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("character %q is not allowed in a host name", c)
		}
	}
	return nil
}
