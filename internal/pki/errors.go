package pki

import (
	"errors"
	"strings"
)

// Errors returned by the package, wrapped with context; test for them with
// errors.Is. A missing file is reported with fs.ErrNotExist.
var (
	// ErrInvalidOptions marks CAOptions or IssueOptions that Validate rejects.
	ErrInvalidOptions = errors.New("pki: invalid options")
	// ErrUnknownProfile marks a profile other than server, peer or client.
	ErrUnknownProfile = errors.New("pki: unknown profile")
	// ErrUnknownKeyType marks a key type other than ecdsa, rsa2048 or rsa4096.
	ErrUnknownKeyType = errors.New("pki: unknown key type")
	// ErrInvalidHost marks a host that is neither an IP address nor a valid
	// DNS name.
	ErrInvalidHost = errors.New("pki: invalid host")
	// ErrNoHosts marks a server or peer certificate asked for without hosts:
	// TLS clients match only the SANs, so it would be useless.
	ErrNoHosts = errors.New("pki: no hosts")
	// ErrNotPEM marks input without a single PEM block.
	ErrNotPEM = errors.New("pki: no PEM data")
	// ErrNotCertificate marks PEM input without a certificate, or with one
	// that does not parse.
	ErrNotCertificate = errors.New("pki: not a certificate")
	// ErrNotPrivateKey marks PEM input without a usable private key.
	ErrNotPrivateKey = errors.New("pki: not a private key")
	// ErrKeyMismatch marks a private key that is not the key of the
	// certificate it is paired with.
	ErrKeyMismatch = errors.New("pki: private key does not match certificate")
	// ErrExpired marks a certificate past its NotAfter.
	ErrExpired = errors.New("pki: certificate has expired")
	// ErrNotYetValid marks a certificate before its NotBefore.
	ErrNotYetValid = errors.New("pki: certificate is not yet valid")
	// ErrNotCA marks a certificate used to sign that is not a CA.
	ErrNotCA = errors.New("pki: certificate is not a CA")
	// ErrOutlivesCA marks a leaf whose validity would end after its CA's.
	ErrOutlivesCA = errors.New("pki: certificate would outlive its CA")
	// ErrExists marks a refusal to overwrite a file (WriteOptions.Force
	// unset).
	ErrExists = errors.New("pki: file already exists")
)

// fileError names the file an error is about. Its message reads
// "pki: <what> <path>: <cause>", with the cause's own "pki: " prefix
// dropped so that the prefix appears once, first, as on every other error
// of the package.
type fileError struct {
	what string // "certificate file" or "key file"
	path string
	err  error
}

func (e *fileError) Error() string {
	return "pki: " + e.what + " " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "pki: ")
}

func (e *fileError) Unwrap() error { return e.err }
