// Package pki makes and inspects the X.509 certificates a Cairn cluster
// uses for TLS: a self-signed CA, member and client certificates it
// signs, and self-signed certificates for auto-TLS. cairnctl's cert
// commands are a thin layer over it; the member's --auto-tls uses it
// directly.
//
// What it makes:
//
//   - NewCA: a CA (KeyUsage CertSign|CRLSign, BasicConstraints CA=true);
//     10 years by default.
//   - Issue: a leaf signed by a CA, for a Profile: server (TLS server
//     auth), client (TLS client auth) or peer (both, since a member
//     presents one certificate when it accepts and when it dials). SANs
//     come from IssueOptions.Hosts, each an IP address or a DNS name;
//     1 year by default, never past the CA's own expiry.
//   - SelfSigned: what etcd's auto-TLS makes, a leaf that is its own
//     issuer.
//
// Every certificate gets a random 128-bit serial, a SubjectKeyId, an
// ECDSA P-256 key unless RSA 2048/4096 is asked for, and a NotBefore
// 5 minutes before its issue time so that a peer whose clock is a little
// behind accepts it at once. Options structs follow the project's habit:
// the zero value of each field is its default, EnsureDefaults fills them
// in, Validate reports what cannot be honoured; NewCA and Issue call both
// on their own copy.
//
// The caller's duties and the package's promises:
//
//  1. Treat PEM input as untrusted. ParseCertificatesPEM,
//     ParsePrivateKeyPEM and ParseKeyPair return an error, never panic,
//     on any input (fuzzed in fuzz_test.go).
//  2. Load with LoadKeyPair, which checks everything a TLS stack would
//     otherwise reject later and less clearly: each error names the file
//     and wraps fs.ErrNotExist, ErrNotPEM, ErrNotCertificate,
//     ErrNotPrivateKey, ErrKeyMismatch, ErrExpired or ErrNotYetValid.
//     LoadCertificates, for inspection, checks no dates.
//  3. Write with KeyPair.WriteFiles: certificate 0644, key 0600, new
//     directories 0700, each file atomically; it refuses to replace an
//     existing file (ErrExists) unless WriteOptions.Force is set.
//  4. Use KeyPair.TLSCertificate for a tls.Config; Describe for a person.
//
// Auto-TLS, as etcd does it, is a few lines over this API: on start, try
// LoadKeyPair on <data-dir>/fixtures/{client,peer}/cert.pem and key.pem;
// if that fails with fs.ErrNotExist, ErrExpired or ErrNotYetValid, make a
// new pair with SelfSigned(hosts, validity, profile) — hosts being the
// listen and advertise hosts, profile ProfilePeer on the peer side (it
// dials too) and ProfileServer on the client side — and WriteFiles it
// with Force; any other error is a damaged file and should stop the
// member. See Example_autoTLS.
//
// Errors are the package's sentinel values (prefixed "pki: "), wrapped
// with context; test for them with errors.Is.
package pki
