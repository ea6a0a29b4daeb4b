package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cairn-db/cairn/internal/srv"
	"github.com/cairn-db/cairn/internal/tlsutil"
)

// DiscoveryOptions are the gateway's DNS SRV discovery flags.
type DiscoveryOptions struct {
	// Domain is --discovery-srv. Default "": no discovery, ResolveEndpoints
	// uses the --endpoints list. DiscoverSRV requires it.
	Domain string
	// ServiceName is --discovery-srv-name: "-ServiceName" is appended to
	// the SRV service names. Default "" (no suffix).
	ServiceName string
	// Insecure is --insecure-discovery: use every record found, unchecked.
	// Default false: keep only the https endpoints that complete a TLS
	// handshake for Domain.
	Insecure bool
	// TrustedCAFile is --trusted-ca-file, the CA bundle the endpoints'
	// certificates must chain to when Insecure is false. Default "": the
	// system roots.
	TrustedCAFile string
	// DialTimeout bounds the check of one endpoint, connection and
	// handshake together. Default DefaultDialTimeout (etcd's 5 s).
	DialTimeout time.Duration
	// Logger receives what was found, kept and dropped. Default: no
	// logging.
	Logger *zap.Logger
}

// EnsureDefaults fills in the zero fields with their defaults.
func (o *DiscoveryOptions) EnsureDefaults() {
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// Validate reports options discovery cannot run with.
func (o *DiscoveryOptions) Validate() error {
	if o.DialTimeout < 0 {
		return fmt.Errorf("gateway: negative dial timeout %v", o.DialTimeout)
	}
	return nil
}

// ResolveEndpoints gives the proxy's upstreams as the gateway's flags
// describe them: with o.Domain set, those DiscoverSRV keeps; without it,
// or when discovery keeps none (as in etcd), the --endpoints list, parsed
// by ParseEndpoints. A failed SRV lookup is an error, not a fallback.
func ResolveEndpoints(ctx context.Context, r srv.Resolver, o DiscoveryOptions, endpoints []string) ([]Endpoint, error) {
	o.EnsureDefaults()
	if o.Domain != "" {
		eps, err := DiscoverSRV(ctx, r, o)
		if err != nil {
			return nil, err
		}
		if len(eps) > 0 {
			return eps, nil
		}
		o.Logger.Warn("no usable endpoint discovered from SRV; using --endpoints",
			zap.String("srv-server", o.Domain), zap.Strings("endpoints", endpoints))
	}
	return ParseEndpoints(endpoints)
}

// DiscoverSRV looks up the client SRV records of o.Domain (srv.ClientRecords:
// _etcd-client-ssl then _etcd-client, with the o.ServiceName suffix) and
// returns the endpoints to proxy to, each with its record's priority and
// weight. The addresses are target:port, the target's trailing dot kept.
//
// With o.Insecure every record is used. Otherwise an http endpoint is
// dropped as insecure, and an https one is kept only if a TLS handshake
// with it succeeds, verifying its certificate for the name o.Domain (not
// the target: the guide's certificates carry the discovery domain) against
// o.TrustedCAFile or the system roots. Dropped endpoints are logged; none
// kept is not an error here (see ResolveEndpoints).
//
// etcd's gateway only dials TCP at this step, so it keeps an https
// endpoint whose certificate would not verify; Cairn completes the
// handshake, which is what the check is for.
func DiscoverSRV(ctx context.Context, r srv.Resolver, o DiscoveryOptions) ([]Endpoint, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Domain == "" {
		return nil, errors.New("gateway: empty discovery domain")
	}
	lg := o.Logger
	found, err := srv.ClientRecords(ctx, r, o.Domain, o.ServiceName)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	lg.Info("discovered cluster from SRV",
		zap.String("srv-server", o.Domain), zap.Strings("endpoints", found.Endpoints))

	if o.Insecure {
		if o.TrustedCAFile != "" {
			lg.Warn("--trusted-ca-file is not used with --insecure-discovery",
				zap.String("trusted-ca-file", o.TrustedCAFile))
		}
		eps := make([]Endpoint, len(found.SRVs))
		for i, rec := range found.SRVs {
			eps[i] = srvEndpoint(rec)
		}
		return eps, nil
	}

	// A CA file that cannot be read is a configuration error; etcd would
	// drop every endpoint and silently fall back to --endpoints.
	info := tlsutil.Info{TrustedCAFile: o.TrustedCAFile, ServerName: o.Domain}
	cfg, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	lg.Info("validating discovered SRV endpoints",
		zap.String("srv-server", o.Domain), zap.Strings("endpoints", found.Endpoints))
	var (
		eps     []Endpoint
		kept    []string
		dropped []string
	)
	for i, u := range found.Endpoints {
		ep := srvEndpoint(found.SRVs[i])
		if !strings.HasPrefix(u, "https://") {
			dropped = append(dropped, fmt.Sprintf("%q is insecure", u))
			continue
		}
		if err := handshake(ctx, r, cfg, ep.Addr, o.DialTimeout); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("gateway: validating %s: %w", u, ctx.Err())
			}
			dropped = append(dropped, fmt.Sprintf("%q failed TLS handshake (%v)", u, err))
			continue
		}
		eps = append(eps, ep)
		kept = append(kept, u)
	}
	if len(dropped) > 0 {
		lg.Warn("dropped discovered SRV endpoints",
			zap.String("srv-server", o.Domain), zap.Strings("reasons", dropped))
	}
	lg.Info("using validated discovered SRV endpoints",
		zap.String("srv-server", o.Domain), zap.Strings("endpoints", kept))
	return eps, nil
}

// srvEndpoint is the proxy's view of a client SRV record.
func srvEndpoint(rec *net.SRV) Endpoint {
	return Endpoint{
		Addr:     net.JoinHostPort(rec.Target, strconv.Itoa(int(rec.Port))),
		Priority: rec.Priority,
		Weight:   rec.Weight,
	}
}

// handshake completes a TLS handshake with addr, resolving its host with r
// (the resolver the records came from) and trying its addresses in order.
func handshake(ctx context.Context, r srv.Resolver, cfg *tls.Config, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	var ips []string
	if net.ParseIP(host) != nil {
		ips = []string{host}
	} else {
		addrs, err := r.LookupIPAddr(ctx, host)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			ips = append(ips, a.String())
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("no address for %s", host)
	}
	d := tls.Dialer{Config: cfg}
	for _, ip := range ips {
		var c net.Conn
		if c, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip, port)); err == nil {
			c.Close()
			return nil
		}
	}
	return err
}
