package pki

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// Defaults of CAOptions and IssueOptions.
const (
	DefaultCACommonName  = "Cairn CA"
	DefaultCAValidity    = 10 * 365 * 24 * time.Hour // 10 years of 365 days
	DefaultLeafValidity  = 365 * 24 * time.Hour      // 1 year
	DefaultKeyType       = KeyECDSAP256
	maxSubjectFieldBytes = 64 // X.520 upper bound of CN and O
)

// backdate is how far before the issue time NotBefore is set, so that a
// certificate made on one machine is already valid on a peer whose clock
// is a little behind.
const backdate = 5 * time.Minute

// KeyType names a key algorithm and size.
type KeyType string

// The supported key types. ECDSA P-256 is the default: small, fast, and
// accepted by every TLS stack Cairn and etcd clients use.
const (
	KeyECDSAP256 KeyType = "ecdsa"
	KeyRSA2048   KeyType = "rsa2048"
	KeyRSA4096   KeyType = "rsa4096"
)

// ParseKeyType returns the KeyType named s (ecdsa, rsa2048 or rsa4096;
// case does not matter).
func ParseKeyType(s string) (KeyType, error) {
	switch k := KeyType(strings.ToLower(strings.TrimSpace(s))); k {
	case KeyECDSAP256, KeyRSA2048, KeyRSA4096:
		return k, nil
	}
	return "", fmt.Errorf("%w %q (want ecdsa, rsa2048 or rsa4096)", ErrUnknownKeyType, s)
}

// Profile is what a leaf certificate is for; it decides the extended key
// usages.
type Profile string

// The profiles of Issue and SelfSigned.
const (
	// ProfileServer is a TLS server certificate (ExtKeyUsageServerAuth),
	// e.g. for --cert-file when clients are not asked for certificates.
	ProfileServer Profile = "server"
	// ProfilePeer is both a TLS server and a TLS client certificate: a
	// member presents the same certificate when it accepts a connection
	// and when it dials one, on the peer port and, with client cert auth,
	// on the client port too.
	ProfilePeer Profile = "peer"
	// ProfileClient is a TLS client certificate (ExtKeyUsageClientAuth),
	// e.g. for etcdctl --cert; with --client-cert-auth its CN is the user.
	ProfileClient Profile = "client"
)

// ParseProfile returns the Profile named s (server, peer or client; case
// does not matter).
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(strings.ToLower(strings.TrimSpace(s))); p {
	case ProfileServer, ProfilePeer, ProfileClient:
		return p, nil
	}
	return "", fmt.Errorf("%w %q (want server, peer or client)", ErrUnknownProfile, s)
}

// extKeyUsages returns the extended key usages of p.
func (p Profile) extKeyUsages() []x509.ExtKeyUsage {
	switch p {
	case ProfileServer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case ProfileClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case ProfilePeer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return nil
}

// CAOptions configure NewCA. The zero value of every field is its default.
type CAOptions struct {
	// CommonName is the CA's subject CN; default "Cairn CA"
	// (DefaultCACommonName).
	CommonName string

	// Organization is the subject's O; default none.
	Organization string

	// Validity is how long the CA is valid from Now; default 10 years
	// (DefaultCAValidity). Every certificate it issues must expire before
	// it does.
	Validity time.Duration

	// KeyType is the CA's key; default ECDSA P-256 (DefaultKeyType).
	KeyType KeyType

	// Now is the issue time; default time.Now() when NewCA is called.
	// NotBefore is set 5 minutes earlier to allow for clock skew.
	Now time.Time
}

// EnsureDefaults fills unset fields with their defaults.
func (o *CAOptions) EnsureDefaults() {
	if o.CommonName == "" {
		o.CommonName = DefaultCACommonName
	}
	if o.Validity == 0 {
		o.Validity = DefaultCAValidity
	}
	if o.KeyType == "" {
		o.KeyType = DefaultKeyType
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Validate reports options NewCA cannot honour. Call it after
// EnsureDefaults.
func (o *CAOptions) Validate() error {
	if o.Validity <= 0 {
		return fmt.Errorf("%w: validity must be positive, got %v", ErrInvalidOptions, o.Validity)
	}
	if _, err := ParseKeyType(string(o.KeyType)); err != nil {
		return err
	}
	return validateSubject(o.CommonName, o.Organization)
}

// IssueOptions configure Issue and, for its fields that make sense
// without a CA, SelfSigned. The zero value of every field but Profile is
// its default.
type IssueOptions struct {
	// Profile decides the extended key usages; required.
	Profile Profile

	// Hosts are the subject alternative names: each is an IP address (v4,
	// v6, or v6 in brackets) or a DNS name (a wildcard "*." is allowed as
	// the first label). TLS clients check a server's name against these
	// alone, so server and peer certificates need at least one; a client
	// certificate may have none. Duplicates are dropped, DNS names are
	// lower-cased and lose a trailing dot. "host:port" is rejected rather
	// than silently trimmed.
	Hosts []string

	// CommonName is the subject CN; default the first host. A client
	// certificate without hosts needs one: with --client-cert-auth etcd
	// takes it as the user name.
	CommonName string

	// Organization is the subject's O; default none.
	Organization string

	// Validity is how long the certificate is valid from Now; default 1
	// year (DefaultLeafValidity).
	Validity time.Duration

	// KeyType is the certificate's key; default ECDSA P-256
	// (DefaultKeyType), whatever the CA's key.
	KeyType KeyType

	// Now is the issue time; default time.Now() when Issue is called.
	// NotBefore is set 5 minutes earlier to allow for clock skew.
	Now time.Time
}

// EnsureDefaults fills unset fields with their defaults.
func (o *IssueOptions) EnsureDefaults() {
	if o.CommonName == "" && len(o.Hosts) > 0 {
		o.CommonName = strings.TrimSpace(o.Hosts[0])
	}
	if o.Validity == 0 {
		o.Validity = DefaultLeafValidity
	}
	if o.KeyType == "" {
		o.KeyType = DefaultKeyType
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Validate reports options Issue cannot honour. Call it after
// EnsureDefaults.
func (o *IssueOptions) Validate() error {
	if o.Profile == "" {
		return fmt.Errorf("%w: a profile is required (server, peer or client)", ErrInvalidOptions)
	}
	if _, err := ParseProfile(string(o.Profile)); err != nil {
		return err
	}
	if o.Validity <= 0 {
		return fmt.Errorf("%w: validity must be positive, got %v", ErrInvalidOptions, o.Validity)
	}
	if _, err := ParseKeyType(string(o.KeyType)); err != nil {
		return err
	}
	if _, err := parseHosts(o.Hosts); err != nil {
		return err
	}
	if len(o.Hosts) == 0 && o.Profile != ProfileClient {
		return fmt.Errorf("%w: a %s certificate needs at least one host (IP address or DNS name) for clients to match", ErrNoHosts, o.Profile)
	}
	if o.CommonName == "" {
		return fmt.Errorf("%w: a client certificate without hosts needs a common name", ErrInvalidOptions)
	}
	return validateSubject(o.CommonName, o.Organization)
}

func validateSubject(cn, org string) error {
	if len(cn) > maxSubjectFieldBytes {
		return fmt.Errorf("%w: common name %q is longer than %d bytes", ErrInvalidOptions, cn, maxSubjectFieldBytes)
	}
	if len(org) > maxSubjectFieldBytes {
		return fmt.Errorf("%w: organization %q is longer than %d bytes", ErrInvalidOptions, org, maxSubjectFieldBytes)
	}
	return nil
}
