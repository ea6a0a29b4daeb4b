package main

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/cairn-db/cairn/internal/config"
	"github.com/cairn-db/cairn/internal/tlsutil"
	"go.uber.org/zap"
)

// security is the member's TLS setup: one side for clients, one for peers.
// A side's Info is nil when no URL of that side needs TLS.
type security struct {
	client, peer *tlsutil.Info
	// peerDial dials other members (raft streams, forwarded calls,
	// bootstrap); nil when peers speak plain http.
	peerDial *tls.Config
}

// setupTLS builds both sides from the flags, makes auto-TLS certificates
// when asked, and checks every file, so a bad certificate stops start-up
// with a message naming the flag and file.
func setupTLS(cfg *config.Config, lg *zap.Logger) (*security, error) {
	if bad := tlsutil.InsecureCipherSuites(cfg.CipherSuites); len(bad) > 0 {
		lg.Warn("--cipher-suites lists suites Go considers insecure", zap.Strings("suites", bad))
	}
	sec := &security{}
	var err error
	clientURLs := append(append([]url.URL(nil), cfg.ListenClientURLs...), cfg.ListenMetricsURLs...)
	if sec.client, err = side(cfg, lg, tlsutil.SideClient, cfg.ClientTLS, clientURLs, "client"); err != nil {
		return nil, err
	}
	peerNeeds := append(append([]url.URL(nil), cfg.ListenPeerURLs...), cfg.AdvertisePeerURLs...)
	if clusterMap, err := cfg.InitialClusterMap(); err == nil {
		for _, urls := range clusterMap {
			for _, s := range urls {
				if u, err := url.Parse(s); err == nil {
					peerNeeds = append(peerNeeds, *u)
				}
			}
		}
	}
	if sec.peer, err = side(cfg, lg, tlsutil.SidePeer, cfg.PeerTLS, peerNeeds, "peer"); err != nil {
		return nil, err
	}
	if sec.peer != nil {
		if sec.peerDial, err = sec.peer.ClientConfig(); err != nil {
			return nil, err
		}
		// The peer protocol is HTTP/1.1 (long-lived streams).
		sec.peerDial.NextProtos = []string{"http/1.1"}
	}
	return sec, nil
}

// side builds one side's Info, or nil when none of urls is https/unixs.
func side(cfg *config.Config, lg *zap.Logger, name string, t config.TLSInfo, urls []url.URL, fixtures string) (*tlsutil.Info, error) {
	info := &tlsutil.Info{
		Side:                name,
		CertFile:            t.CertFile,
		KeyFile:             t.KeyFile,
		ClientCertFile:      t.ClientCertFile,
		ClientKeyFile:       t.ClientKeyFile,
		TrustedCAFile:       t.TrustedCAFile,
		ClientCertAuth:      t.ClientCertAuth,
		CRLFile:             t.CRLFile,
		AllowedCNs:          t.AllowedCNs,
		AllowedHostnames:    t.AllowedHostnames,
		SkipClientSANVerify: t.SkipClientSANVerify,
		CipherSuites:        cfg.CipherSuites,
		MinVersion:          cfg.TLSMinVersion,
		MaxVersion:          cfg.TLSMaxVersion,
		Logger:              lg.Named(name + "-tls"),
	}
	var secure []url.URL
	for _, u := range urls {
		if u.Scheme == "https" || u.Scheme == "unixs" {
			secure = append(secure, u)
		}
	}
	flagPrefix := "--"
	if name == tlsutil.SidePeer {
		flagPrefix = "--peer-"
	}
	if len(secure) == 0 {
		if info.CertFile != "" || info.KeyFile != "" {
			lg.Warn("no "+name+" URL uses https; ignoring the key and certificate files",
				zap.String(flagPrefix[2:]+"cert-file", info.CertFile))
		}
		return nil, nil
	}
	if t.AutoTLS {
		if info.CertFile != "" || info.KeyFile != "" {
			lg.Warn("ignoring " + flagPrefix + "auto-tls: certificate files are given")
		} else {
			hosts := make([]string, 0, len(secure))
			for _, u := range secure {
				hosts = append(hosts, u.Hostname())
			}
			dir := filepath.Join(cfg.DataDir, "fixtures", fixtures)
			cert, key, err := tlsutil.SelfCert(lg, dir, hosts, cfg.SelfSignedCertValidity)
			if err != nil {
				return nil, err
			}
			info.CertFile, info.KeyFile, info.SelfSigned = cert, key, true
		}
	}
	if info.CertFile == "" || info.KeyFile == "" {
		return nil, fmt.Errorf("TLS key/cert (%scert-file, %skey-file) must be provided for %s url %s with HTTPS scheme",
			flagPrefix, flagPrefix, name, secure[0].String())
	}
	if err := info.Validate(); err != nil {
		return nil, err
	}
	return info, nil
}
