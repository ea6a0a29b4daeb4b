package tlsutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// This file parses the files the flags name. It is stricter than
// crypto/tls's helpers where that gives a better message (which file, which
// block), and more lenient than etcd where etcd refuses a file that is
// obviously meant well (a PEM-encoded CRL; non-certificate blocks in a CA
// bundle).

// parseCertificates returns the CERTIFICATE blocks of data, parsed, in order.
// Other block types (a key kept in the same file) are skipped.
func parseCertificates(data []byte) ([]*x509.Certificate, [][]byte, error) {
	var (
		certs []*x509.Certificate
		ders  [][]byte
	)
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
		ders = append(ders, block.Bytes)
	}
	if len(certs) == 0 {
		return nil, nil, ErrNoCertificate
	}
	return certs, ders, nil
}

// parsePrivateKey returns the first private key of data: a "PRIVATE KEY"
// (PKCS #8), "RSA PRIVATE KEY" (PKCS #1) or "EC PRIVATE KEY" (SEC 1) block.
// Other blocks ("EC PARAMETERS", certificates) are skipped.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, ErrNoPrivateKey
		}
		if block.Type != "PRIVATE KEY" && !strings.HasSuffix(block.Type, " PRIVATE KEY") {
			continue
		}
		if _, ok := block.Headers["DEK-Info"]; ok || block.Type == "ENCRYPTED PRIVATE KEY" {
			// Nothing could ask for a passphrase at handshake time.
			return nil, fmt.Errorf("PEM block %d: encrypted private keys are not supported", n)
		}
		key, err := parseKeyDER(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		return key, nil
	}
}

// parseKeyDER tries the encodings in the order crypto/tls does, since the
// PEM type is not always accurate ("PRIVATE KEY" holding PKCS #1 data).
func parseKeyDER(der []byte) (crypto.Signer, error) {
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			if key, err = x509.ParseECPrivateKey(der); err != nil {
				return nil, errors.New("not a PKCS #8, PKCS #1 or SEC 1 private key")
			}
		}
	}
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}

// keyMatches reports whether priv is the private half of leaf's public key.
func keyMatches(leaf *x509.Certificate, priv crypto.Signer) bool {
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(priv.Public())
}

// loadKeyPair reads and checks a certificate file and its key file. Errors
// are *ConfigError naming the flag (or both flags, for a mismatch).
func loadKeyPair(certFlag, certPath, keyFlag, keyPath string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, &ConfigError{Flag: certFlag, Value: certPath, Err: err}
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, &ConfigError{Flag: keyFlag, Value: keyPath, Err: err}
	}
	certs, ders, err := parseCertificates(certPEM)
	if err != nil {
		return nil, &ConfigError{Flag: certFlag, Value: certPath, Err: err}
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, &ConfigError{Flag: keyFlag, Value: keyPath, Err: err}
	}
	if !keyMatches(certs[0], key) {
		return nil, &ConfigError{Flag: certFlag, Value: certPath, Flag2: keyFlag, Value2: keyPath, Err: ErrKeyMismatch}
	}
	return &tls.Certificate{Certificate: ders, PrivateKey: key, Leaf: certs[0]}, nil
}

// loadCertPool reads a CA bundle. Unlike x509.CertPool.AppendCertsFromPEM it
// does not skip a block it cannot parse: a CA silently missing from the pool
// would surface later as "unknown authority" with no hint why.
func loadCertPool(flag, path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Flag: flag, Value: path, Err: err}
	}
	certs, _, err := parseCertificates(data)
	if err != nil {
		return nil, &ConfigError{Flag: flag, Value: path, Err: err}
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// parseCRL accepts a DER CRL (what etcd reads) or a PEM "X509 CRL" block
// (what openssl writes by default).
func parseCRL(data []byte) (*x509.RevocationList, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block is %q, want \"X509 CRL\"", block.Type)
		}
		data = block.Bytes
	}
	return x509.ParseRevocationList(data)
}

// revokedSerials is the set of revoked serial numbers of a CRL, keyed by
// their decimal text.
func revokedSerials(crl *x509.RevocationList) map[string]struct{} {
	set := make(map[string]struct{}, len(crl.RevokedCertificateEntries))
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil {
			set[e.SerialNumber.String()] = struct{}{}
		}
	}
	return set
}
