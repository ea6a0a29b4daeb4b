package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

// ServerConfig returns the tls.Config for serving this side's port.
//
//   - The certificate is taken from CertFile/KeyFile at each handshake
//     (GetCertificate), re-read when the files change, so a rotated
//     certificate is served without a restart.
//   - Client certificates are required and verified against TrustedCAFile
//     when ClientCertAuth is set or TrustedCAFile is given (etcd's rule:
//     --trusted-ca-file alone already turns client authentication on).
//     ClientCertAuth without TrustedCAFile verifies against the system roots.
//   - CRLFile, AllowedCNs and AllowedHostnames are checked in
//     VerifyConnection, after chain verification, on every handshake
//     (resumed ones too).
//   - MinVersion defaults to TLS 1.2; NextProtos is {"h2", "http/1.1"} so
//     gRPC clients (which insist on ALPN h2) and HTTP/1 clients both work.
//
// The peer-side SAN check needs the remote address and is made by the
// listener (NewListener with CheckClientSAN), not by this config.
func (i *Info) ServerConfig() (*tls.Config, error) {
	c, err := i.check()
	if err != nil {
		return nil, err
	}
	f := i.flags()
	if c.serverCert == nil {
		return nil, &ConfigError{Flag: f.cert, Err: ErrNoServerCert}
	}
	lg := i.logger()
	cfg := i.baseConfig(c)

	pair := newKeyPairFile(lg, f.cert, i.CertFile, f.key, i.KeyFile)
	pair.prime(c.serverCert)
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return pair.get() }

	if i.ClientCertAuth || i.TrustedCAFile != "" {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = c.caPool // nil: system roots
	} else if len(i.AllowedCNs) > 0 || len(i.AllowedHostnames) > 0 || i.CRLFile != "" {
		// As in etcd, these only act on client certificates, which are not
		// asked for here; say so rather than silently ignore them.
		lg.Warn("client certificate checks have no effect without client certificate authentication",
			zap.String("side", i.sideName()),
			zap.Strings("allowed-cns", i.AllowedCNs),
			zap.Strings("allowed-hostnames", i.AllowedHostnames),
			zap.String("crl-file", i.CRLFile))
	}

	v := &verifier{
		role:             "client",
		allowedCNs:       slices.Clone(i.AllowedCNs),
		allowedHostnames: slices.Clone(i.AllowedHostnames),
	}
	if i.CRLFile != "" {
		v.crl = &crlFile{flag: f.crl, path: i.CRLFile}
	}
	cfg.VerifyConnection = v.verify
	cfg.NextProtos = []string{"h2", "http/1.1"}
	return cfg, nil
}

// ClientConfig returns the tls.Config for dialing this side's servers
// (other members' peer ports, or a client port).
//
//   - The certificate presented is ClientCertFile/ClientKeyFile, else
//     CertFile/KeyFile, else none; it is re-read when the files change
//     (GetClientCertificate).
//   - Servers are verified against TrustedCAFile, or the system roots when
//     it is empty; InsecureSkipVerify (or SelfSigned, as etcd does for
//     --auto-tls) turns verification off.
//   - ServerName overrides the name expected in the server's certificate.
//   - AllowedCNs / AllowedHostnames apply to the server's verified
//     certificate too, as in etcd, whose client and server configs share
//     that check; they are skipped when verification is off.
//
// CRLFile and SkipClientSANVerify are server-side only, as in etcd.
// NextProtos is left empty: net/http and gRPC each set their own.
func (i *Info) ClientConfig() (*tls.Config, error) {
	c, err := i.check()
	if err != nil {
		return nil, err
	}
	cfg := i.baseConfig(c)
	cfg.ServerName = i.ServerName
	cfg.RootCAs = c.caPool
	cfg.InsecureSkipVerify = i.InsecureSkipVerify || i.SelfSigned

	if c.dialCert != nil {
		certFlag, certPath, keyFlag, keyPath := i.dialPair()
		pair := newKeyPairFile(i.logger(), certFlag, certPath, keyFlag, keyPath)
		pair.prime(c.dialCert)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair.get() }
	}
	if len(i.AllowedCNs) > 0 || len(i.AllowedHostnames) > 0 {
		v := &verifier{
			role:             "server",
			allowedCNs:       slices.Clone(i.AllowedCNs),
			allowedHostnames: slices.Clone(i.AllowedHostnames),
			skipUnverified:   true,
		}
		cfg.VerifyConnection = v.verify
	}
	return cfg, nil
}

func (i *Info) baseConfig(c *checked) *tls.Config {
	return &tls.Config{
		MinVersion:   c.minVersion,
		MaxVersion:   c.maxVersion,
		CipherSuites: c.suites,
	}
}

func (i *Info) sideName() string {
	if i.Side == "" {
		return SideClient
	}
	return i.Side
}

// prime seeds the cache with the pair check already read, so the first
// handshake does not read the files again.
func (k *keyPairFile) prime(cert *tls.Certificate) {
	cs, cerr := stamp(k.certPath)
	ks, kerr := stamp(k.keyPath)
	if cerr != nil || kerr != nil {
		return
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		k.lg.Warn("certificate has expired", zap.String("cert-file", k.certPath), zap.Time("not-after", cert.Leaf.NotAfter))
	}
	k.mu.Lock()
	k.mu.cert, k.mu.certStamp, k.mu.keyStamp = cert, cs, ks
	k.mu.Unlock()
}

// verifier holds the checks made on the peer's certificate after crypto/tls
// has verified its chain.
type verifier struct {
	role             string // whose certificate: "client" or "server", for messages
	crl              *crlFile
	allowedCNs       []string
	allowedHostnames []string
	// skipUnverified: with no verified chain (InsecureSkipVerify), skip the
	// allowed-CN/hostname checks instead of refusing.
	skipUnverified bool
}

func (v *verifier) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		// No certificate was asked for, or tls.Config.ClientAuth already
		// refused its absence.
		return nil
	}
	leaf := cs.PeerCertificates[0]
	if v.crl != nil {
		revoked, err := v.crl.get()
		if err != nil {
			return &refusal{kind: ErrCRLUnavailable, msg: "cannot check revocation: " + strings.TrimPrefix(err.Error(), "tlsutil: "), cert: leaf}
		}
		// Every certificate of the chain, as etcd does: a revoked
		// intermediate refuses its leaves too.
		for _, c := range cs.PeerCertificates {
			if _, ok := revoked[c.SerialNumber.String()]; ok {
				who := v.role + " certificate"
				if c != leaf {
					who = "intermediate certificate " + fmt.Sprintf("%q", c.Subject.String())
				}
				return &refusal{kind: ErrRevoked, msg: fmt.Sprintf("%s revoked (serial %s)", who, c.SerialNumber), cert: leaf}
			}
		}
	}
	if len(v.allowedCNs) == 0 && len(v.allowedHostnames) == 0 {
		return nil
	}
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		if v.skipUnverified {
			return nil
		}
		return &refusal{kind: ErrNotVerified, msg: v.role + " certificate not verified; allowed CNs/hostnames need a trusted CA", cert: leaf}
	}
	// Every verified chain starts with the same leaf, the one presented.
	verified := cs.VerifiedChains[0][0]
	if len(v.allowedCNs) > 0 {
		if slices.Contains(v.allowedCNs, verified.Subject.CommonName) {
			return nil
		}
		return &refusal{kind: ErrCNNotAllowed, msg: fmt.Sprintf("CN %q not allowed", verified.Subject.CommonName), cert: leaf}
	}
	for _, h := range v.allowedHostnames {
		if verified.VerifyHostname(h) == nil {
			return nil
		}
	}
	return &refusal{
		kind: ErrHostnameNotAllowed,
		msg:  fmt.Sprintf("%s certificate not valid for any allowed hostname %q", v.role, v.allowedHostnames),
		cert: leaf,
	}
}

// CommonName returns the subject CN of the peer's verified certificate, or
// "" when the peer presented none or it was not verified against a CA. The
// auth layer uses it as the user name of a client authenticated by
// certificate (etcd's --client-cert-auth users); pass it
// credentials.TLSInfo.State from a gRPC peer, or *http.Request.TLS.
// Unverified certificates never count, whatever the handshake allowed.
func CommonName(state tls.ConnectionState) string {
	for _, chain := range state.VerifiedChains {
		if len(chain) > 0 && chain[0].Subject.CommonName != "" {
			return chain[0].Subject.CommonName
		}
	}
	return ""
}

// subjectOf is the subject of c for log lines, "" for nil.
func subjectOf(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return c.Subject.String()
}
