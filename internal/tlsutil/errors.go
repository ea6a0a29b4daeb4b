package tlsutil

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"strings"
)

// Configuration errors. Validate, ServerConfig and ClientConfig return them
// wrapped in a *ConfigError that names the flag, so errors.Is still works.
var (
	// ErrKeyMismatch: the private key is not the one of the certificate.
	ErrKeyMismatch = errors.New("tlsutil: private key does not match the certificate")
	// ErrNoCertificate: a file meant to hold certificates has no CERTIFICATE PEM block.
	ErrNoCertificate = errors.New("tlsutil: no CERTIFICATE PEM block found")
	// ErrNoPrivateKey: a key file has no PRIVATE KEY PEM block.
	ErrNoPrivateKey = errors.New("tlsutil: no PRIVATE KEY PEM block found")
	// ErrIncomplete: one of two flags that only make sense together is missing.
	ErrIncomplete = errors.New("tlsutil: incomplete key pair")
	// ErrExclusive: two flags that cannot be combined are both set.
	ErrExclusive = errors.New("tlsutil: mutually exclusive")
	// ErrUnknownCipherSuite: a --cipher-suites name Go does not implement.
	ErrUnknownCipherSuite = errors.New("tlsutil: unknown cipher suite")
	// ErrUnknownVersion: a --tls-min-version / --tls-max-version value other
	// than TLS1.2 or TLS1.3.
	ErrUnknownVersion = errors.New("tlsutil: unknown TLS version")
	// ErrVersionRange: the minimum version is above the maximum.
	ErrVersionRange = errors.New("tlsutil: min version is greater than max version")
	// ErrTLS13CipherSuites: cipher suites were given but only TLS 1.3 is
	// allowed, whose suites Go does not let anyone choose (etcd's rule).
	ErrTLS13CipherSuites = errors.New("tlsutil: cipher suites cannot be configured when only TLS1.3 is enabled")
	// ErrNoServerCert: ServerConfig was called without a certificate.
	ErrNoServerCert = errors.New("tlsutil: a certificate and key are required to serve TLS")
	// ErrBadSide: Info.Side is neither "client" nor "peer".
	ErrBadSide = errors.New("tlsutil: unknown side")
)

// Refusals: why a connection was turned away. The verification hooks of
// ServerConfig return errors matching them, and the listener logs them.
var (
	// ErrRevoked: a certificate of the chain is listed in the CRL file.
	ErrRevoked = errors.New("tlsutil: certificate revoked")
	// ErrCRLUnavailable: the CRL file could not be read or parsed at
	// handshake time. Connections are refused until it can be (fail closed).
	ErrCRLUnavailable = errors.New("tlsutil: cannot read the CRL file")
	// ErrCNNotAllowed: the verified certificate's CN is not an allowed CN.
	ErrCNNotAllowed = errors.New("tlsutil: CN not allowed")
	// ErrHostnameNotAllowed: the verified certificate is valid for none of
	// the allowed hostnames.
	ErrHostnameNotAllowed = errors.New("tlsutil: certificate not valid for any allowed hostname")
	// ErrNotVerified: an allowed-CN/hostname rule applies but the peer's
	// certificate was not verified against a CA, so there is nothing to trust.
	ErrNotVerified = errors.New("tlsutil: certificate not verified")
	// ErrSANMismatch: on the peer port, the client certificate's SANs do not
	// match the address it connects from.
	ErrSANMismatch = errors.New("tlsutil: remote address does not match the certificate's SANs")
	// ErrNoClientCert: the server requires a client certificate and got none.
	ErrNoClientCert = errors.New("tlsutil: no client certificate")
	// ErrPlaintextHTTP: an HTTP/1 request arrived on the TLS port.
	ErrPlaintextHTTP = errors.New("tlsutil: client sent a plaintext HTTP request to the TLS port")
	// ErrPlaintextHTTP2: a cleartext HTTP/2 (gRPC) preface arrived on the TLS port.
	ErrPlaintextHTTP2 = errors.New("tlsutil: client sent a plaintext HTTP/2 (gRPC) preface to the TLS port")
	// ErrNotTLS: the first bytes are neither TLS nor a known plaintext protocol.
	ErrNotTLS = errors.New("tlsutil: not a TLS handshake")
	// ErrHandshakeTimeout: the handshake (and the checks after it) did not
	// finish within ListenerOptions.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("tlsutil: TLS handshake timed out")
)

// ConfigError is a problem with the value of one flag, or of two flags that
// go together (a certificate and its key). Its text names the flag as the
// user typed it and the file, for example
//
//	tlsutil: --cert-file /x/a.crt: open: no such file or directory
type ConfigError struct {
	Flag  string // "--cert-file", "--peer-trusted-ca-file", ...
	Value string // the path or value given; may be empty
	// Flag2 and Value2 name the second flag when the problem is between
	// two of them; empty otherwise.
	Flag2, Value2 string
	Err           error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("tlsutil: ")
	b.WriteString(e.Flag)
	if e.Value != "" {
		b.WriteString(" ")
		b.WriteString(e.Value)
	}
	if e.Flag2 != "" {
		b.WriteString(" and ")
		b.WriteString(e.Flag2)
		if e.Value2 != "" {
			b.WriteString(" ")
			b.WriteString(e.Value2)
		}
	}
	b.WriteString(": ")
	b.WriteString(reasonText(e.Err))
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// reasonText is err's message without the prefixes that would repeat what
// the surrounding message already says: our own "tlsutil: ", and the path
// of a *fs.PathError (the flag's value already names the file).
func reasonText(err error) string {
	if err == nil {
		return "<nil>"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Op + ": " + pe.Err.Error()
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "tlsutil: ")
	msg = strings.TrimPrefix(msg, "x509: ")
	msg = strings.TrimPrefix(msg, "tls: ")
	return msg
}

// refusal is why one connection was turned away, in words meant for the
// log line, while errors.Is still matches the sentinel in kind.
type refusal struct {
	kind error
	msg  string            // without the "tlsutil: " prefix
	cert *x509.Certificate // the offending certificate, if any, for the log line
}

func (r *refusal) Error() string { return "tlsutil: " + r.msg }
func (r *refusal) Unwrap() error { return r.kind }
