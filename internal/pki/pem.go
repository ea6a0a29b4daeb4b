package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// PEM block types.
const (
	pemCertificate = "CERTIFICATE"
	pemPKCS8Key    = "PRIVATE KEY"
	pemECKey       = "EC PRIVATE KEY"
	pemRSAKey      = "RSA PRIVATE KEY"
)

// ParseCertificatesPEM returns the certificates of every CERTIFICATE block
// in data, in order (a leaf first, then its chain, by convention). Other
// blocks, such as a private key in a combined file, are skipped. Data is
// untrusted: any input gives certificates or an error wrapping ErrNotPEM
// or ErrNotCertificate, never a panic.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var (
		certs []*x509.Certificate
		other []string // types of skipped blocks, for the error message
	)
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			other = append(other, block.Type)
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d does not parse: %w", ErrNotCertificate, len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) > 0 {
		return certs, nil
	}
	if len(other) > 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE block, only %s", ErrNotCertificate, quoteList(other))
	}
	return nil, notPEM(data)
}

// ParsePrivateKeyPEM returns the private key in data: a PKCS#8 "PRIVATE
// KEY" (what this package writes), a SEC 1 "EC PRIVATE KEY" or a PKCS#1
// "RSA PRIVATE KEY" block. Other blocks are skipped; more than one key,
// an encrypted key, or a key that cannot sign is an error wrapping
// ErrNotPrivateKey. Data is untrusted: any input gives a key or an error,
// never a panic.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	var (
		key   crypto.Signer
		other []string
	)
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			other = append(other, block.Type)
			continue
		}
		if key != nil {
			return nil, fmt.Errorf("%w: more than one private key; a key file holds one", ErrNotPrivateKey)
		}
		k, err := parseKeyBlock(block)
		if err != nil {
			return nil, err
		}
		key = k
	}
	if key != nil {
		return key, nil
	}
	if len(other) > 0 {
		return nil, fmt.Errorf("%w: no PRIVATE KEY block, only %s", ErrNotPrivateKey, quoteList(other))
	}
	return nil, notPEM(data)
}

func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	// PKCS#8 encryption has its own block type; OpenSSL's legacy
	// encryption keeps the plain type and says so in a header.
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: the key is encrypted; Cairn reads unencrypted keys only (keep them mode 0600)", ErrNotPrivateKey)
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case pemPKCS8Key:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemECKey:
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case pemRSAKey:
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block %q (want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)", ErrNotPrivateKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q block does not parse: %w", ErrNotPrivateKey, block.Type, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: a %T cannot sign", ErrNotPrivateKey, k)
	}
	return signer, nil
}

// notPEM explains input with no PEM block at all.
func notPEM(data []byte) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return fmt.Errorf("%w: empty", ErrNotPEM)
	case data[0] == 0x30: // an ASN.1 SEQUENCE: binary DER
		return fmt.Errorf("%w: looks like binary DER; convert it to PEM (openssl x509 -inform der)", ErrNotPEM)
	}
	return fmt.Errorf("%w: no -----BEGIN ...----- block found", ErrNotPEM)
}

func quoteList(types []string) string {
	q := make([]string, len(types))
	for i, t := range types {
		q[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(q, ", ")
}

// LoadCertificates reads the certificates of the PEM file at path (see
// ParseCertificatesPEM). Errors name the file. It does not check validity
// dates: it is for inspecting, and an expired certificate is worth
// inspecting.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := readFile("certificate file", path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, &fileError{what: "certificate file", path: path, err: err}
	}
	return certs, nil
}

// readFile reads path, reporting errors as a fileError without the path
// repeated inside.
func readFile(what, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fileError{what: what, path: path, err: err}
	}
	return data, nil
}
