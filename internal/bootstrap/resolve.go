package bootstrap

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"

	"github.com/cairn-db/cairn/internal/membership"
)

// Resolver looks host names up; *net.Resolver satisfies it, and tests give
// one pointed at their own DNS server.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// SameURLs reports whether two lists of peer URLs name the same endpoints.
// Equal lists (after normalising) match at once. Otherwise each URL's host
// is resolved and the lists are compared as sets of scheme://ip:port, so
// that an advertised http://10.0.1.10:2380 matches an SRV record's
// http://infra0.example.com:2380 that resolves there (the guide's DNS
// section, IP variant), as etcd's URL comparison does. A nil r uses the
// system resolver. A lookup failure is returned with the URL it concerns.
func SameURLs(ctx context.Context, r Resolver, a, b []string) (bool, error) {
	na, nb := membership.NormalizeURLs(a), membership.NormalizeURLs(b)
	slices.Sort(na)
	slices.Sort(nb)
	if slices.Equal(na, nb) {
		return true, nil
	}
	if len(na) != len(nb) {
		return false, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ra, err := resolveURLs(ctx, r, na)
	if err != nil {
		return false, err
	}
	rb, err := resolveURLs(ctx, r, nb)
	if err != nil {
		return false, err
	}
	return slices.Equal(ra, rb), nil
}

// resolveURLs rewrites each URL's host to the address it resolves to (the
// first IPv4 one, else the first, as net.ResolveTCPAddr picks) and sorts
// the result. unix URLs are kept as they are.
func resolveURLs(ctx context.Context, r Resolver, urls []string) ([]string, error) {
	out := make([]string, 0, len(urls))
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			out = append(out, s)
			continue
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		if _, err := strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("%s: bad port %q", s, port)
		}
		ip, err := resolveHost(ctx, r, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", s, err)
		}
		u.Host = net.JoinHostPort(ip, port)
		out = append(out, u.String())
	}
	slices.Sort(out)
	return out, nil
}

// resolveHost returns an IP literal as it is, else the name's first IPv4
// address, else its first address.
func resolveHost(ctx context.Context, r Resolver, host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP.String(), nil
		}
	}
	return addrs[0].IP.String(), nil
}
