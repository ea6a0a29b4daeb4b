package tlsutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cpki "github.com/cairn-db/cairn/internal/pki"
	"go.uber.org/zap"
)

// SelfCert provides the certificate of --auto-tls / --peer-auto-tls: a
// self-signed certificate for hosts (listen URL hosts, "host:port" or bare
// hosts; IPs become IP SANs, names DNS SANs) valid for validityYears years
// (--self-signed-cert-validity), kept as cert.pem and key.pem in dir
// (etcd uses <data-dir>/fixtures/client and .../peer).
//
// Existing files are reused, as in etcd, so a restart keeps the
// certificate; unlike etcd, an expired or unreadable pair is replaced
// rather than served. The caller builds an Info with CertFile and KeyFile
// set to the returned paths and SelfSigned true; as in etcd, the other
// TLS settings of that side are not combined with an automatic
// certificate.
func SelfCert(lg *zap.Logger, dir string, hosts []string, validityYears uint) (certFile, keyFile string, err error) {
	if lg == nil {
		lg = zap.NewNop()
	}
	if validityYears == 0 {
		return "", "", &ConfigError{Flag: "--self-signed-cert-validity", Value: "0", Err: errors.New("must be at least 1 (years)")}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_, lerr := cpki.LoadKeyPair(certFile, keyFile)
	switch {
	case lerr == nil:
		return certFile, keyFile, nil
	case errors.Is(lerr, cpki.ErrExpired):
		lg.Warn("self-signed certificate has expired; making a new one", zap.String("cert-file", certFile))
	case !errors.Is(lerr, os.ErrNotExist):
		lg.Warn("cannot use the existing self-signed certificate; making a new one", zap.Error(lerr))
	}
	kp, err := cpki.SelfSigned(bareHosts(hosts), time.Duration(validityYears)*365*24*time.Hour, cpki.ProfilePeer)
	if err != nil {
		return "", "", fmt.Errorf("tlsutil: auto TLS: %w", err)
	}
	if err := kp.WriteFiles(certFile, keyFile, cpki.WriteOptions{Force: true}); err != nil {
		return "", "", fmt.Errorf("tlsutil: auto TLS: %w", err)
	}
	lg.Warn("generated a self-signed certificate (auto TLS)",
		zap.String("cert-file", certFile), zap.Strings("hosts", hosts), zap.Time("not-after", kp.Cert.NotAfter))
	return certFile, keyFile, nil
}

// bareHosts strips ports and brackets ("10.0.1.10:2380" → "10.0.1.10"),
// drops empty hosts and duplicates, and keeps order.
func bareHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		h = strings.Trim(h, "[]")
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}
