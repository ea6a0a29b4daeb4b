package srv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Resolver is what the package needs from DNS; *net.Resolver satisfies it.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// ServerOptions describe the member that bootstraps with --discovery-srv.
type ServerOptions struct {
	// Domain is --discovery-srv. Required.
	Domain string
	// ServiceName is --discovery-srv-name; when set, "-ServiceName" is
	// appended to the service names. Default "" (no suffix).
	ServiceName string
	// Name is --name, given to the record that is this member. Required.
	Name string
	// AdvertisePeerURLs is --initial-advertise-peer-urls. Required.
	AdvertisePeerURLs []string
	// Logger receives the discovered entries and the lookups that failed.
	// Default: a no-op logger.
	Logger *zap.Logger
}

// EnsureDefaults fills the fields left at their zero value.
func (o *ServerOptions) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// Validate reports options that cannot work.
func (o *ServerOptions) Validate() error {
	switch {
	case o.Domain == "":
		return errors.New("srv: empty discovery domain")
	case o.Name == "":
		return errors.New("srv: empty member name")
	case len(o.AdvertisePeerURLs) == 0:
		return errors.New("srv: no advertise peer URLs")
	}
	return nil
}

// ServerCluster builds --initial-cluster for a member bootstrapping with
// --discovery-srv; see the package comment for the rules and error texts.
func ServerCluster(ctx context.Context, r Resolver, o ServerOptions) (initialCluster string, err error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return "", err
	}
	lg := o.Logger

	var parts []string
	var errs []error
	for _, s := range []struct{ scheme, base string }{
		{"https", "etcd-server-ssl"},
		{"http", "etcd-server"},
	} {
		service := serviceName(s.base, o.ServiceName)
		p, err := serviceCluster(ctx, r, lg, s.scheme, service, o.Name, o.Domain, o.AdvertisePeerURLs)
		lg.Info("get cluster for SRV service",
			zap.String("service", service), zap.String("domain", o.Domain),
			zap.Strings("cluster", p), zap.Error(err))
		if err != nil {
			errs = append(errs, err)
		}
		parts = append(parts, p...)
	}
	if len(parts) == 0 {
		if len(errs) == 0 {
			// Both lookups answered with no records at all.
			return "", fmt.Errorf("no SRV records found for _%s._tcp.%s or _%s._tcp.%s",
				serviceName("etcd-server-ssl", o.ServiceName), o.Domain,
				serviceName("etcd-server", o.ServiceName), o.Domain)
		}
		return "", joinErrors(errs)
	}
	if len(errs) > 0 {
		lg.Warn("failed to resolve during SRV discovery", zap.Error(joinErrors(errs)))
	}
	found := false
	for _, p := range parts {
		lg.Info("got bootstrap from DNS for etcd-server", zap.String("node", p))
		if name, _, _ := strings.Cut(p, "="); name == o.Name {
			found = true
		}
	}
	if !found {
		return "", fmt.Errorf("cannot find local etcd member %q in SRV records", o.Name)
	}
	return strings.Join(parts, ","), nil
}

// serviceCluster gives the name=url entries found under one SRV service. As
// in etcd, an error is returned only when the service yields no entry.
func serviceCluster(ctx context.Context, r Resolver, lg *zap.Logger, scheme, service, name, domain string, advertise []string) ([]string, error) {
	// This member's advertised addresses, by resolved ip:port.
	local := make(map[string]*url.URL, len(advertise))
	for _, s := range advertise {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		addr, err := resolveTCP(ctx, r, u.Host)
		if err != nil {
			return nil, err
		}
		local[addr] = u
	}

	_, records, err := r.LookupSRV(ctx, service, "tcp", domain)
	if err != nil {
		return nil, fmt.Errorf("error querying DNS SRV records for _%s %w", service, err)
	}
	records = slices.Clone(records)
	slices.SortStableFunc(records, func(a, b *net.SRV) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority),
			cmp.Compare(a.Target, b.Target), cmp.Compare(a.Port, b.Port))
	})

	var (
		parts   []string
		lastErr error
		next    int // the next temporary name
	)
	for _, rec := range records {
		port := strconv.Itoa(int(rec.Port))
		addr, err := resolveTCP(ctx, r, net.JoinHostPort(rec.Target, port))
		if err != nil {
			lg.Warn("cannot resolve SRV target", zap.String("service", service),
				zap.String("target", rec.Target), zap.Error(err))
			lastErr = err
			continue
		}
		adv, isLocal := local[addr]
		n := name
		if !isLocal {
			n = strconv.Itoa(next)
			next++
		}
		// SRV targets end with a dot; URLs must not.
		u := scheme + "://" + net.JoinHostPort(strings.TrimSuffix(rec.Target, "."), port)
		if isLocal && adv.Scheme != scheme {
			lastErr = fmt.Errorf("bootstrap at %s from DNS for %s has scheme mismatch with expected peer %s", u, service, adv.String())
			lg.Warn("skipping SRV record", zap.Error(lastErr))
			continue
		}
		parts = append(parts, n+"="+u)
	}
	if len(parts) == 0 && lastErr != nil {
		return nil, fmt.Errorf("error querying DNS SRV records for _%s %w", service, lastErr)
	}
	return parts, nil
}

// ClientSRVs are the client endpoints found in DNS with the records they
// came from: SRVs[i] gave Endpoints[i]. The gateway balances by the
// records' priority and weight.
type ClientSRVs struct {
	Endpoints []string   // scheme://target:port, target's trailing dot kept
	SRVs      []*net.SRV // as the resolver returned them
}

// ClientRecords lists the client endpoints of the _etcd-client-ssl and
// _etcd-client SRV records of domain, each beside its record (gateway,
// and later grpc-proxy and cairnctl).
func ClientRecords(ctx context.Context, r Resolver, domain, svcName string) (ClientSRVs, error) {
	var c ClientSRVs
	collect := func(scheme, service string) error {
		_, records, err := r.LookupSRV(ctx, service, "tcp", domain)
		if err != nil {
			return err
		}
		for _, rec := range records {
			// etcd keeps the target's trailing dot here.
			u := url.URL{Scheme: scheme, Host: net.JoinHostPort(rec.Target, strconv.Itoa(int(rec.Port)))}
			c.Endpoints = append(c.Endpoints, u.String())
			c.SRVs = append(c.SRVs, rec)
		}
		return nil
	}
	errHTTPS := collect("https", serviceName("etcd-client-ssl", svcName))
	errHTTP := collect("http", serviceName("etcd-client", svcName))
	if errHTTPS != nil && errHTTP != nil {
		return ClientSRVs{}, fmt.Errorf("dns lookup errors: %w and %w", errHTTPS, errHTTP)
	}
	return c, nil
}

// serviceName appends the --discovery-srv-name suffix.
func serviceName(base, suffix string) string {
	if suffix == "" {
		return base
	}
	return base + "-" + suffix
}

// resolveTCP resolves host:port to ip:port the way net.ResolveTCPAddr does
// for "tcp": an IP literal is kept, a name takes its first IPv4 address,
// else its first address.
func resolveTCP(ctx context.Context, r Resolver, hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "tcp", port)
	if err != nil {
		return "", err
	}
	port = strconv.Itoa(p)
	if host == "" {
		return net.JoinHostPort("", port), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(ip.String(), port), nil
	}
	ips, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return "", err
	}
	if len(ips) == 0 {
		return "", &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	pick := ips[0]
	for _, ip := range ips {
		if ip.IP.To4() != nil {
			pick = ip
			break
		}
	}
	ap := net.TCPAddr{IP: pick.IP, Port: p, Zone: pick.Zone}
	return ap.String(), nil
}

// joinErrors joins errors with "; ", as etcd's multierr.Combine prints them.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return multiError(errs)
}

type multiError []error

func (m multiError) Error() string {
	s := make([]string, len(m))
	for i, e := range m {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (m multiError) Unwrap() []error { return m }
