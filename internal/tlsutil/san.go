package tlsutil

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// checkClientSAN refuses a client certificate whose IP/DNS SANs do not
// cover the address the connection comes from: etcd's peer-port rule,
// which stops a stolen member certificate from being used elsewhere.
//
//   - No IP and no DNS SANs: accepted.
//   - An IP SAN equal to the remote IP: accepted.
//   - Otherwise, with DNS SANs: accepted when a reverse lookup of the
//     remote IP gives one of them (a "*.example.com" SAN matches any name
//     ending in ".example.com", as in etcd), or a forward lookup of one of
//     them gives the remote IP.
func checkClientSAN(ctx context.Context, r Resolver, tc *tls.Conn) error {
	cs := tc.ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	cert := cs.PeerCertificates[0]
	if len(cert.IPAddresses) == 0 && len(cert.DNSNames) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(tc.RemoteAddr().String())
	if err != nil {
		// Not an IP transport (a unix socket): there is no address to match.
		return nil
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	remote = remote.Unmap()
	for _, ip := range cert.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == remote {
			return nil
		}
	}
	var lookupErr error
	if len(cert.DNSNames) > 0 {
		var ok bool
		ok, lookupErr = dnsMatches(ctx, r, remote, cert.DNSNames)
		if ok {
			return nil
		}
	}
	msg := fmt.Sprintf("remote address %s matches none of the client certificate's SANs (IPs %v, DNS names %q)",
		remote, cert.IPAddresses, cert.DNSNames)
	if lookupErr != nil {
		msg += " (lookup: " + lookupErr.Error() + ")"
	}
	return &refusal{kind: ErrSANMismatch, msg: msg, cert: cert}
}

func dnsMatches(ctx context.Context, r Resolver, remote netip.Addr, sans []string) (bool, error) {
	var names, suffixes []string
	for _, s := range sans {
		if rest, ok := strings.CutPrefix(s, "*"); ok && strings.HasPrefix(rest, ".") {
			suffixes = append(suffixes, strings.ToLower(rest))
		} else {
			names = append(names, strings.ToLower(s))
		}
	}
	var lastErr error
	ptrs, err := r.LookupAddr(ctx, remote.String())
	if err != nil {
		lastErr = err
	}
	for _, p := range ptrs {
		p = strings.ToLower(strings.TrimSuffix(p, "."))
		for _, n := range names {
			if p == n {
				return true, nil
			}
		}
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				return true, nil
			}
		}
	}
	for _, n := range names {
		addrs, err := r.LookupHost(ctx, n)
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range addrs {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Unmap() == remote {
				return true, nil
			}
		}
	}
	return false, lastErr
}
