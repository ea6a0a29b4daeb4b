package gateway

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is one upstream address with the SRV priority and weight it was
// published with (RFC 2782): the lowest priority is used first, and weight
// shares the load within one priority. Endpoints given with --endpoints
// have both zero.
type Endpoint struct {
	Addr     string // host:port
	Priority uint16
	Weight   uint16
}

// ParseEndpoints turns the --endpoints values into host:port addresses:
// a URL's scheme and path are dropped (the gateway proxies TCP, whatever
// the endpoint speaks) and a port is required.
func ParseEndpoints(list []string) ([]Endpoint, error) {
	var eps []Endpoint
	for _, ep := range list {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			ep = u.Host
		}
		host, port, err := net.SplitHostPort(ep)
		if err != nil {
			return nil, fmt.Errorf("gateway: bad endpoint %q: %v", ep, errText(err))
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("gateway: bad endpoint %q: bad port %q", ep, port)
		}
		eps = append(eps, Endpoint{Addr: net.JoinHostPort(host, port)})
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("gateway: no endpoints found")
	}
	return eps, nil
}

// errText is an AddrError's reason without the address repeated.
func errText(err error) string {
	if ae, ok := err.(*net.AddrError); ok {
		return ae.Err
	}
	return err.Error()
}

// Resolver looks host names up, as net.LookupHost does; tests give a fake.
type Resolver interface {
	LookupHost(host string) ([]string, error)
}

type defaultResolver struct{}

func (defaultResolver) LookupHost(host string) ([]string, error) { return net.LookupHost(host) }

// CheckSelfLoop refuses endpoints, given or found by SRV, that resolve to
// the gateway's own listen address, which would proxy each connection back
// to the gateway forever.
// An endpoint loops when its port is the listen port and one of its
// addresses is one of the listen host's; a listen host of 0.0.0.0 or ::
// covers the loopback and this machine's interface addresses. A nil r uses
// the system resolver.
func CheckSelfLoop(listenAddr string, endpoints []Endpoint, r Resolver) error {
	if r == nil {
		r = defaultResolver{}
	}
	lhost, lport, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("gateway: failed to validate listen address %q: %v", listenAddr, errText(err))
	}
	local := make(map[string]bool)
	wildcard := isUnspecified(lhost)
	if wildcard {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					local[n.IP.String()] = true
				}
			}
		}
	} else {
		addrs, err := r.LookupHost(lhost)
		if err != nil {
			return fmt.Errorf("gateway: failed to resolve listen host %q: %v", lhost, err)
		}
		for _, a := range addrs {
			local[canonIP(a)] = true
		}
	}
	loops := func(a string) bool {
		ip := net.ParseIP(a)
		return local[canonIP(a)] || (wildcard && ip != nil && (ip.IsLoopback() || ip.IsUnspecified()))
	}
	for _, e := range endpoints {
		ep := e.Addr
		host, port, err := net.SplitHostPort(ep)
		if err != nil {
			return fmt.Errorf("gateway: bad endpoint %q: %v", ep, errText(err))
		}
		addrs, err := r.LookupHost(host)
		if err != nil {
			return fmt.Errorf("gateway: failed to resolve endpoint host %q: %v", host, err)
		}
		if port != lport {
			continue
		}
		for _, a := range addrs {
			if loops(a) {
				return fmt.Errorf("gateway: SRV or endpoint (%s->%s) should not resolve to the gateway listen addr (%s)",
					ep, net.JoinHostPort(a, port), listenAddr)
			}
		}
	}
	return nil
}

func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// canonIP writes an IP address one way, so that ::ffff:127.0.0.1 and
// 127.0.0.1 compare equal.
func canonIP(a string) string {
	if ip := net.ParseIP(a); ip != nil {
		return ip.String()
	}
	return a
}
