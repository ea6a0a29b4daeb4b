package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// NewCA makes a self-signed CA: KeyUsage CertSign|CRLSign, BasicConstraints
// CA=true, a random 128-bit serial and a SubjectKeyId, valid from 5 minutes
// before opts.Now for opts.Validity.
func NewCA(opts CAOptions) (*KeyPair, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl, err := baseTemplate(key.Public(), opts.CommonName, opts.Organization, opts.Now, opts.Validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	return create(tmpl, tmpl, key, key)
}

// Issue makes a leaf certificate for opts.Profile signed by ca. The CA must
// be a CA, hold the key of its certificate, be valid at opts.Now, and
// outlast the new certificate (ErrNotCA, ErrKeyMismatch, ErrExpired,
// ErrNotYetValid, ErrOutlivesCA).
func Issue(ca *KeyPair, opts IssueOptions) (*KeyPair, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, fmt.Errorf("%w: Issue needs a CA certificate and its key", ErrInvalidOptions)
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if !ca.Cert.IsCA || !ca.Cert.BasicConstraintsValid {
		return nil, fmt.Errorf("%w: %q cannot sign certificates", ErrNotCA, ca.Cert.Subject.String())
	}
	if ca.Cert.KeyUsage != 0 && ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %q lacks the certificate-sign key usage", ErrNotCA, ca.Cert.Subject.String())
	}
	if err := matchKey(ca.Cert, ca.Key); err != nil {
		return nil, err
	}
	if err := CheckValidity(ca.Cert, opts.Now); err != nil {
		return nil, err
	}
	if end := opts.Now.Add(opts.Validity); end.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("%w: it would be valid until %s but the CA %q expires at %s; shorten the validity or make a new CA",
			ErrOutlivesCA, formatTime(end), ca.Cert.Subject.String(), formatTime(ca.Cert.NotAfter))
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(key, opts)
	if err != nil {
		return nil, err
	}
	// A certificate cannot be valid before its issuer.
	if tmpl.NotBefore.Before(ca.Cert.NotBefore) {
		tmpl.NotBefore = ca.Cert.NotBefore
	}
	return create(tmpl, ca.Cert, key, ca.Key)
}

// SelfSigned makes a self-signed leaf certificate, as etcd's --auto-tls and
// --peer-auto-tls do: no CA, SANs from hosts (see IssueOptions.Hosts), CN
// the first host, a new ECDSA P-256 key. ProfilePeer makes it usable as
// both a TLS server and a TLS client. A validity of 0 means
// DefaultLeafValidity.
//
// Such a certificate encrypts but does not authenticate: a peer can only
// trust it by pinning it, or by skipping verification as etcd's auto-TLS
// does.
func SelfSigned(hosts []string, validity time.Duration, profile Profile) (*KeyPair, error) {
	opts := IssueOptions{Profile: profile, Hosts: hosts, Validity: validity}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(key, opts)
	if err != nil {
		return nil, err
	}
	return create(tmpl, tmpl, key, key)
}

// leafTemplate is the template of a leaf for validated opts.
func leafTemplate(key crypto.Signer, opts IssueOptions) (*x509.Certificate, error) {
	s, err := parseHosts(opts.Hosts)
	if err != nil {
		return nil, err
	}
	tmpl, err := baseTemplate(key.Public(), opts.CommonName, opts.Organization, opts.Now, opts.Validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		// RSA key exchange (TLS 1.2 without ECDHE) encrypts to the key.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl.ExtKeyUsage = opts.Profile.extKeyUsages()
	tmpl.BasicConstraintsValid = true // CA=false, stated explicitly
	tmpl.DNSNames = s.dnsNames
	tmpl.IPAddresses = s.ips
	return tmpl, nil
}

// baseTemplate holds what CA and leaf templates share.
func baseTemplate(pub crypto.PublicKey, cn, org string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	skid, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: cn}
	if org != "" {
		subject.Organization = []string{org}
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
		SubjectKeyId: skid,
	}, nil
}

// create signs tmpl with signer (parent's key) and returns it with key,
// the new certificate's own key.
func create(tmpl, parent *x509.Certificate, key, signer crypto.Signer) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("pki: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode private key: %w", err)
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: pemPKCS8Key, Bytes: keyDER}),
	}, nil
}

func generateKey(kt KeyType) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch kt {
	case KeyECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyRSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA4096:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownKeyType, kt)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generate %s key: %w", kt, err)
	}
	return key, nil
}

// newSerial returns a random positive serial below 2^128: unpredictable
// serials are what CAs use so that nobody can craft a colliding
// certificate, and 128 bits keeps collisions between independently made
// certificates out of reach.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("pki: serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is RFC 7093's method 1: the leftmost 160 bits of the
// SHA-256 of the subjectPublicKey bit string. Issuers' ids become the
// AuthorityKeyId of what they sign, which lets verifiers pick the right
// CA when several share a name.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: encode public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("pki: decode public key: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

// matchKey reports whether key is the private key of cert.
func matchKey(cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("%w %q", ErrKeyMismatch, cert.Subject.String())
	}
	return nil
}

// CheckValidity returns ErrNotYetValid or ErrExpired, with the dates, if
// cert is not valid at now.
func CheckValidity(cert *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("%w: %q is valid from %s (in %s)", ErrNotYetValid,
			cert.Subject.String(), formatTime(cert.NotBefore), humanDuration(cert.NotBefore.Sub(now)))
	case now.After(cert.NotAfter):
		return fmt.Errorf("%w: %q expired at %s (%s ago)", ErrExpired,
			cert.Subject.String(), formatTime(cert.NotAfter), humanDuration(now.Sub(cert.NotAfter)))
	}
	return nil
}
