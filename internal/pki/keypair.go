package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// KeyPair is a certificate and its private key, parsed and as PEM.
type KeyPair struct {
	// Cert is the certificate: the first one of CertPEM.
	Cert *x509.Certificate
	// Key is Cert's private key.
	Key crypto.Signer
	// CertPEM is the certificate as PEM. Loaded from a file it is the
	// file's content, so any chain certificates after Cert go along into
	// TLSCertificate and WriteFiles.
	CertPEM []byte
	// KeyPEM is the key as PEM: PKCS#8 when made by this package, as read
	// when loaded.
	KeyPEM []byte
}

// TLSCertificate returns the pair for tls.Config.Certificates (or
// GetCertificate / GetClientCertificate), chain included.
func (kp *KeyPair) TLSCertificate() (tls.Certificate, error) {
	c, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: TLS certificate: %w", err)
	}
	return c, nil
}

// ParseKeyPair parses a PEM certificate (chain) and its PEM private key and
// checks that the key belongs to the first certificate (ErrKeyMismatch). It
// does not look at the validity dates; see CheckValidity.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if err := matchKey(certs[0], key); err != nil {
		return nil, err
	}
	return &KeyPair{Cert: certs[0], Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// LoadKeyPair reads a certificate and its key from PEM files and checks
// them: each error names the file and wraps what is wrong with it —
// fs.ErrNotExist, ErrNotPEM, ErrNotCertificate, ErrNotPrivateKey,
// ErrKeyMismatch, or ErrExpired / ErrNotYetValid against the current time.
//
// For auto-TLS: an error wrapping fs.ErrNotExist, ErrExpired or
// ErrNotYetValid means "make a new pair"; any other means a file is
// damaged or wrong, which a person should look at.
func LoadKeyPair(certPath, keyPath string) (*KeyPair, error) {
	certPEM, err := readFile("certificate file", certPath)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, &fileError{what: "certificate file", path: certPath, err: err}
	}
	keyPEM, err := readFile("key file", keyPath)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, &fileError{what: "key file", path: keyPath, err: err}
	}
	if err := matchKey(certs[0], key); err != nil {
		return nil, &fileError{what: "key file", path: keyPath,
			err: fmt.Errorf("%w in %s", ErrKeyMismatch, certPath)}
	}
	if err := CheckValidity(certs[0], time.Now()); err != nil {
		return nil, &fileError{what: "certificate file", path: certPath, err: err}
	}
	return &KeyPair{Cert: certs[0], Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}
