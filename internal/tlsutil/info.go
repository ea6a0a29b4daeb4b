package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// Sides of a member, which decide the flag names in error messages and
// which checks the listener makes.
const (
	SideClient = "client" // --cert-file, --key-file, ... (the default)
	SidePeer   = "peer"   // --peer-cert-file, --peer-key-file, ...
)

// Info is one side's TLS settings: the client side (the flags --cert-file,
// --key-file, ...) or the peer side (--peer-cert-file, ...). The zero value
// is "no TLS". Fields map one to one to etcd's flags; see the package
// documentation for the table.
type Info struct {
	// Side is SideClient ("" means the same) or SidePeer. It picks the flag
	// names errors print, and on the peer side turns on the check of the
	// client certificate's SANs against the remote address (see
	// ListenerOptions.CheckClientSAN).
	Side string

	CertFile string // server certificate, PEM; also the client certificate when dialing out, unless ClientCertFile is set
	KeyFile  string // key of CertFile, PEM

	// ClientCertFile and ClientKeyFile are the certificate this member
	// presents when it dials out on this side (etcd 3.5's
	// --client-cert-file / --peer-client-cert-file). Default: CertFile and
	// KeyFile.
	ClientCertFile, ClientKeyFile string

	// TrustedCAFile is the CA bundle that client certificates must chain to
	// (server side), and that servers must chain to (dialing side; empty
	// means the system roots). Given alone on the server side it already
	// makes client certificates required, as in etcd.
	TrustedCAFile string
	// ClientCertAuth makes client certificates required and verified.
	ClientCertAuth bool
	// CRLFile is a certificate revocation list (DER or PEM). A client whose
	// certificate chain holds a listed serial is refused.
	CRLFile string
	// AllowedCNs, when not empty, admit only verified certificates whose
	// subject CN is one of them. Exclusive with AllowedHostnames.
	AllowedCNs []string
	// AllowedHostnames, when not empty, admit only verified certificates
	// valid (x509 hostname rules, SANs) for one of them.
	AllowedHostnames []string
	// SkipClientSANVerify turns off, on the peer side, the check that a
	// client certificate's IP/DNS SANs match the address it connects from.
	SkipClientSANVerify bool

	CipherSuites []string // IANA names; empty = Go's choice
	MinVersion   string   // "TLS1.2" or "TLS1.3"; "" = TLS1.2
	MaxVersion   string   // "TLS1.2" or "TLS1.3"; "" = Go's highest

	// ServerName is the name the dialing side expects in the server's
	// certificate when it differs from the dialed host (the DNS SRV
	// discovery case). Empty: the dialed host.
	ServerName string
	// InsecureSkipVerify makes the dialing side accept any server
	// certificate.
	InsecureSkipVerify bool
	// SelfSigned marks a certificate made by SelfCert (--auto-tls): the
	// dialing side then skips verifying the server, as etcd does, since
	// every member's self-signed certificate is its own root.
	SelfSigned bool

	// Logger receives reload and refusal messages. Nil discards them.
	Logger *zap.Logger
}

// flagNames are the flags (as typed on the command line) of one side.
type flagNames struct {
	cert, key, clientCert, clientKey, ca, crl, allowedCN, allowedHostname string
}

var sideFlags = map[string]flagNames{
	SideClient: {
		cert: "--cert-file", key: "--key-file",
		clientCert: "--client-cert-file", clientKey: "--client-key-file",
		ca: "--trusted-ca-file", crl: "--client-crl-file",
		// etcd has no client-side allowed-CN flag; the config file has the
		// key, so name it as the file spells it.
		allowedCN:       "client-transport-security.allowed-cn",
		allowedHostname: "--client-cert-allowed-hostname",
	},
	SidePeer: {
		cert: "--peer-cert-file", key: "--peer-key-file",
		clientCert: "--peer-client-cert-file", clientKey: "--peer-client-key-file",
		ca: "--peer-trusted-ca-file", crl: "--peer-crl-file",
		allowedCN:       "--peer-cert-allowed-cn",
		allowedHostname: "--peer-cert-allowed-hostname",
	},
}

func (i *Info) flags() flagNames {
	if i.Side == SidePeer {
		return sideFlags[SidePeer]
	}
	return sideFlags[SideClient]
}

func (i *Info) logger() *zap.Logger {
	if i.Logger == nil {
		return zap.NewNop()
	}
	return i.Logger
}

// Empty reports whether no certificate is configured (etcd's test for
// "this side does not serve TLS").
func (i *Info) Empty() bool {
	return i.CertFile == "" && i.KeyFile == ""
}

// dialPair is the certificate and key presented when dialing out, with
// their flags; empty paths when there is none.
func (i *Info) dialPair() (certFlag, certPath, keyFlag, keyPath string) {
	f := i.flags()
	if i.ClientCertFile != "" || i.ClientKeyFile != "" {
		return f.clientCert, i.ClientCertFile, f.clientKey, i.ClientKeyFile
	}
	return f.cert, i.CertFile, f.key, i.KeyFile
}

// Validate checks everything that can be checked before serving: each
// named file exists and parses, each key matches its certificate, the CA
// bundle and the CRL parse, allowed CNs and hostnames are not both set,
// cipher suite names and versions are known and consistent. Every error
// but an unknown Side (ErrBadSide) is a *ConfigError naming the flag and
// its value.
func (i *Info) Validate() error {
	_, err := i.check()
	return err
}

// checked is what Validate parsed, so ServerConfig and ClientConfig do not
// read the files twice.
type checked struct {
	serverCert *tls.Certificate // nil when CertFile is empty
	dialCert   *tls.Certificate // nil when no dial pair
	caPool     *x509.CertPool   // nil when TrustedCAFile is empty
	suites     []uint16
	minVersion uint16
	maxVersion uint16
}

func (i *Info) check() (*checked, error) {
	var c checked
	if i.Side != "" && i.Side != SideClient && i.Side != SidePeer {
		return nil, fmt.Errorf("%w %q (want %q or %q)", ErrBadSide, i.Side, SideClient, SidePeer)
	}
	f := i.flags()

	if err := pairPresent(f.cert, i.CertFile, f.key, i.KeyFile); err != nil {
		return nil, err
	}
	if i.CertFile != "" {
		cert, err := loadKeyPair(f.cert, i.CertFile, f.key, i.KeyFile)
		if err != nil {
			return nil, err
		}
		c.serverCert = cert
	}
	if err := pairPresent(f.clientCert, i.ClientCertFile, f.clientKey, i.ClientKeyFile); err != nil {
		return nil, err
	}
	if i.ClientCertFile != "" {
		cert, err := loadKeyPair(f.clientCert, i.ClientCertFile, f.clientKey, i.ClientKeyFile)
		if err != nil {
			return nil, err
		}
		c.dialCert = cert
	} else {
		c.dialCert = c.serverCert
	}

	if i.TrustedCAFile != "" {
		pool, err := loadCertPool(f.ca, i.TrustedCAFile)
		if err != nil {
			return nil, err
		}
		c.caPool = pool
	}
	if i.CRLFile != "" {
		if _, err := readCRL(f.crl, i.CRLFile); err != nil {
			return nil, err
		}
	}
	if len(i.AllowedCNs) > 0 && len(i.AllowedHostnames) > 0 {
		return nil, &ConfigError{
			Flag: f.allowedCN, Value: strings.Join(i.AllowedCNs, ","),
			Flag2: f.allowedHostname, Value2: strings.Join(i.AllowedHostnames, ","),
			Err: ErrExclusive,
		}
	}

	suites, err := ParseCipherSuites(i.CipherSuites)
	if err != nil {
		return nil, err
	}
	c.suites = suites
	if c.minVersion, err = ParseVersion(i.MinVersion); err != nil {
		return nil, &ConfigError{Flag: "--tls-min-version", Err: err}
	}
	if c.maxVersion, err = ParseVersion(i.MaxVersion); err != nil {
		return nil, &ConfigError{Flag: "--tls-max-version", Err: err}
	}
	if c.minVersion == 0 {
		// TLS 1.0 and 1.1 are deprecated (RFC 8996); etcd's default too.
		c.minVersion = tls.VersionTLS12
	}
	if c.maxVersion != 0 && c.minVersion > c.maxVersion {
		return nil, &ConfigError{
			Flag: "--tls-min-version", Value: versionName(c.minVersion),
			Flag2: "--tls-max-version", Value2: i.MaxVersion,
			Err: ErrVersionRange,
		}
	}
	if c.minVersion == tls.VersionTLS13 && len(c.suites) > 0 {
		return nil, &ConfigError{
			Flag: "--cipher-suites", Value: strings.Join(i.CipherSuites, ","),
			Flag2: "--tls-min-version", Value2: "TLS1.3",
			Err: ErrTLS13CipherSuites,
		}
	}
	return &c, nil
}

// pairPresent refuses one of a certificate/key pair without the other.
func pairPresent(certFlag, certPath, keyFlag, keyPath string) error {
	switch {
	case certPath != "" && keyPath == "":
		return &ConfigError{Flag: keyFlag, Err: fmt.Errorf("%w: required when %s is set", ErrIncomplete, certFlag)}
	case certPath == "" && keyPath != "":
		return &ConfigError{Flag: certFlag, Err: fmt.Errorf("%w: required when %s is set", ErrIncomplete, keyFlag)}
	}
	return nil
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLS1.2"
	case tls.VersionTLS13:
		return "TLS1.3"
	}
	return tls.VersionName(v)
}
