package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-db/cairn/internal/bootstrap"
	"github.com/cairn-db/cairn/internal/config"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/srv"
	"github.com/cairn-db/cairn/internal/tlsutil"
	"go.uber.org/zap"
)

// remoteTimeout bounds asking running peers for their member list.
const remoteTimeout = 5 * time.Second

// alreadyBootstrappedTimeout bounds the check that a new member is not
// already part of a running cluster; peers of a cluster being founded are
// usually not up yet, so this must stay short (etcd waits about a second).
const alreadyBootstrappedTimeout = time.Second

// srvTimeout bounds the DNS lookups of --discovery-srv.
const srvTimeout = 30 * time.Second

// bootstrapMember decides, for an empty data dir, which cluster this member
// founds or joins: the founding members and this member for a new cluster,
// or this member, the current members and the cluster ID for a join.
func bootstrapMember(cfg *config.Config, clusterMap map[string][]string, peerTLS *tls.Config, lg *zap.Logger) (members []*membership.Member, self *membership.Member, joinClusterID uint64, err error) {
	advertise := urlStrings(cfg.AdvertisePeerURLs)
	client := &http.Client{Timeout: remoteTimeout, Transport: &http.Transport{TLSClientConfig: peerTLS}}
	token := cfg.InitialClusterToken
	if cfg.DiscoverySRV != "" {
		// The SRV records replace --initial-cluster; the token stays
		// --initial-cluster-token, as in etcd.
		if clusterMap, err = srvClusterMap(cfg, advertise, lg); err != nil {
			return nil, nil, 0, err
		}
	} else if usesDiscovery(cfg) {
		// The members found by discovery replace --initial-cluster, and
		// the discovery URL (v2) or token (v3) is the cluster token, as in
		// etcd.
		var initial string
		if initial, token, err = discover(cfg, advertise, lg); err != nil {
			return nil, nil, 0, err
		}
		found := *cfg
		found.InitialCluster = initial
		if clusterMap, err = found.InitialClusterMap(); err != nil {
			return nil, nil, 0, fmt.Errorf("discovery: %w", err)
		}
	}
	if cfg.InitialClusterState == "existing" {
		ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
		defer cancel()
		remote, err := bootstrap.FetchCluster(ctx, client, bootstrap.PeerURLsExcept(clusterMap, cfg.Name))
		if err != nil {
			return nil, nil, 0, err
		}
		self, err := bootstrap.Join(ctx, nil, cfg.Name, clusterMap, advertise, remote)
		if err != nil {
			return nil, nil, 0, err
		}
		return remote.Members, self, remote.ID, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	members, self, err = bootstrap.Static(ctx, nil, cfg.Name, clusterMap, advertise, token)
	if err != nil {
		return nil, nil, 0, err
	}
	// A member whose data dir was wiped must not found a second cluster
	// with its old identity: if a running cluster already knows it as
	// started, refuse, as etcd does.
	if len(members) > 1 {
		ctx, cancel := context.WithTimeout(context.Background(), alreadyBootstrappedTimeout)
		defer cancel()
		if remote, err := bootstrap.FetchCluster(ctx, client, bootstrap.PeerURLsExcept(clusterMap, cfg.Name)); err == nil {
			if m := remote.Member(self.ID); m != nil && len(m.ClientURLs) > 0 {
				return nil, nil, 0, fmt.Errorf("member %s has already been bootstrapped", membership.FormatID(self.ID))
			}
		}
	}
	return members, self, 0, nil
}

// checkStaticBootstrap runs the static bootstrap checks that need no
// network (name listed, advertised URLs match) for a member about to
// found a new cluster.
func checkStaticBootstrap(cfg *config.Config) error {
	if cfg.InitialClusterState != "new" || dataDirHasMember(cfg.DataDir) || usesDiscovery(cfg) {
		return nil
	}
	clusterMap, err := cfg.InitialClusterMap()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	_, _, err = bootstrap.Static(ctx, nil, cfg.Name, clusterMap, urlStrings(cfg.AdvertisePeerURLs), cfg.InitialClusterToken)
	return err
}

// srvClusterMap builds the initial cluster from the DNS SRV records of
// --discovery-srv (compat §6), through the system resolver.
func srvClusterMap(cfg *config.Config, advertise []string, lg *zap.Logger) (map[string][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), srvTimeout)
	defer cancel()
	initial, err := srv.ServerCluster(ctx, net.DefaultResolver, srv.ServerOptions{
		Domain:            cfg.DiscoverySRV,
		ServiceName:       cfg.DiscoverySRVName,
		Name:              cfg.Name,
		AdvertisePeerURLs: advertise,
		Logger:            lg,
	})
	if err != nil {
		return nil, err
	}
	found := *cfg
	found.InitialCluster = initial
	return found.InitialClusterMap()
}

// discover runs v2 (--discovery) or v3 (--discovery-token) discovery and
// returns the initial cluster and the cluster token.
func discover(cfg *config.Config, advertise []string, lg *zap.Logger) (initial, token string, err error) {
	if cfg.DiscoveryToken != "" {
		initial, err = discoverV3(cfg, advertise, lg)
		return initial, cfg.DiscoveryToken, err
	}
	lg.Info("bootstrapping through discovery", zap.String("discovery-url", cfg.Discovery))
	initial, err = bootstrap.Discover(context.Background(), bootstrap.DiscoveryOptions{
		URL:      cfg.Discovery,
		Proxy:    cfg.DiscoveryProxy,
		Name:     cfg.Name,
		MemberID: membership.MemberID(advertise, cfg.Discovery, nil),
		PeerURLs: advertise,
		Logger:   lg.Named("discovery"),
	})
	return initial, cfg.Discovery, err
}

// discoverV3 runs v3 discovery against --discovery-endpoints and returns
// the initial cluster it found.
func discoverV3(cfg *config.Config, advertise []string, lg *zap.Logger) (string, error) {
	ccfg := clientv3.Config{
		Endpoints:            cfg.DiscoveryEndpoints,
		DialTimeout:          cfg.DiscoveryDialTimeout,
		DialKeepAliveTime:    cfg.DiscoveryKeepAliveTime,
		DialKeepAliveTimeout: cfg.DiscoveryKeepAliveTimeout,
		Username:             cfg.DiscoveryUser,
		Password:             cfg.DiscoveryPassword,
		Logger:               lg.Named("discovery-client"),
	}
	secure := cfg.DiscoveryCert != "" || cfg.DiscoveryCACert != "" || cfg.DiscoveryInsecureSkipTLSVerify
	for _, e := range cfg.DiscoveryEndpoints {
		secure = secure || strings.HasPrefix(e, "https://")
	}
	if secure {
		info := &tlsutil.Info{CertFile: cfg.DiscoveryCert, KeyFile: cfg.DiscoveryKey, TrustedCAFile: cfg.DiscoveryCACert,
			InsecureSkipVerify: cfg.DiscoveryInsecureSkipTLSVerify, Logger: lg}
		tc, err := info.ClientConfig()
		if err != nil {
			return "", err
		}
		ccfg.TLS = tc
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	defer cli.Close()
	lg.Info("bootstrapping through v3 discovery", zap.Strings("endpoints", cfg.DiscoveryEndpoints), zap.String("token", cfg.DiscoveryToken))
	return bootstrap.DiscoverV3(context.Background(), bootstrap.V3DiscoveryOptions{
		Client:         cli,
		Token:          cfg.DiscoveryToken,
		Name:           cfg.Name,
		MemberID:       membership.MemberID(advertise, cfg.DiscoveryToken, nil),
		PeerURLs:       advertise,
		RequestTimeout: cfg.DiscoveryRequestTimeout,
		Logger:         lg.Named("discovery"),
	})
}

// usesDiscovery reports whether the member finds its cluster through
// discovery instead of --initial-cluster.
func usesDiscovery(cfg *config.Config) bool {
	return cfg.Discovery != "" || cfg.DiscoveryToken != "" || cfg.DiscoverySRV != ""
}
