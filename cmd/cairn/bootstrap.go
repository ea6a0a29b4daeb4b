package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/cairn-db/cairn/internal/bootstrap"
	"github.com/cairn-db/cairn/internal/config"
	"github.com/cairn-db/cairn/internal/membership"
)

// remoteTimeout bounds asking running peers for their member list.
const remoteTimeout = 5 * time.Second

// alreadyBootstrappedTimeout bounds the check that a new member is not
// already part of a running cluster; peers of a cluster being founded are
// usually not up yet, so this must stay short (etcd waits about a second).
const alreadyBootstrappedTimeout = time.Second

// bootstrapMember decides, for an empty data dir, which cluster this member
// founds or joins: the founding members and this member for a new cluster,
// or this member, the current members and the cluster ID for a join.
func bootstrapMember(cfg *config.Config, clusterMap map[string][]string, peerTLS *tls.Config) (members []*membership.Member, self *membership.Member, joinClusterID uint64, err error) {
	advertise := urlStrings(cfg.AdvertisePeerURLs)
	client := &http.Client{Timeout: remoteTimeout, Transport: &http.Transport{TLSClientConfig: peerTLS}}
	if cfg.InitialClusterState == "existing" {
		ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
		defer cancel()
		remote, err := bootstrap.FetchCluster(ctx, client, bootstrap.PeerURLsExcept(clusterMap, cfg.Name))
		if err != nil {
			return nil, nil, 0, err
		}
		self, err := bootstrap.Join(cfg.Name, clusterMap, advertise, remote)
		if err != nil {
			return nil, nil, 0, err
		}
		return remote.Members, self, remote.ID, nil
	}
	members, self, err = bootstrap.Static(cfg.Name, clusterMap, advertise, cfg.InitialClusterToken)
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
	if cfg.InitialClusterState != "new" || dataDirHasMember(cfg.DataDir) {
		return nil
	}
	clusterMap, err := cfg.InitialClusterMap()
	if err != nil {
		return err
	}
	_, _, err = bootstrap.Static(cfg.Name, clusterMap, urlStrings(cfg.AdvertisePeerURLs), cfg.InitialClusterToken)
	return err
}
