package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Describe summarizes cert for a person, one "Label: value" line each,
// judged against the current time: subject, issuer, serial, validity
// (valid with days left, expired, or not yet valid), public key type and
// size, whether it is a CA, key usages, extended key usages, DNS and IP
// SANs, and the SHA-256 fingerprint (as openssl x509 -fingerprint
// -sha256 prints it).
func Describe(cert *x509.Certificate) string {
	return describeAt(cert, time.Now())
}

func describeAt(cert *x509.Certificate, now time.Time) string {
	var b strings.Builder
	line := func(label, value string) {
		fmt.Fprintf(&b, "%-20s %s\n", label+":", value)
	}
	line("Subject", orNone(cert.Subject.String()))
	line("Issuer", orNone(cert.Issuer.String()))
	line("Serial", hexColons(serialBytes(cert.SerialNumber)))
	line("Not before", formatTime(cert.NotBefore))
	line("Not after", formatTime(cert.NotAfter))
	line("Status", validityStatus(cert, now))
	line("Public key", publicKeyString(cert))
	line("Signature", cert.SignatureAlgorithm.String())
	line("CA", caString(cert))
	line("Key usage", orNone(strings.Join(keyUsages(cert.KeyUsage), ", ")))
	line("Ext key usage", orNone(strings.Join(extKeyUsages(cert), ", ")))
	line("DNS names", orNone(strings.Join(cert.DNSNames, ", ")))
	line("IP addresses", orNone(joinIPs(cert.IPAddresses)))
	if len(cert.EmailAddresses) > 0 {
		line("Email addresses", strings.Join(cert.EmailAddresses, ", "))
	}
	if len(cert.URIs) > 0 {
		uris := make([]string, len(cert.URIs))
		for i, u := range cert.URIs {
			uris[i] = u.String()
		}
		line("URIs", strings.Join(uris, ", "))
	}
	if len(cert.SubjectKeyId) > 0 {
		line("Subject key ID", hexColons(cert.SubjectKeyId))
	}
	if len(cert.AuthorityKeyId) > 0 {
		line("Authority key ID", hexColons(cert.AuthorityKeyId))
	}
	sum := sha256.Sum256(cert.Raw)
	line("SHA-256 fingerprint", hexColons(sum[:]))
	return b.String()
}

func validityStatus(cert *x509.Certificate, now time.Time) string {
	switch {
	case now.Before(cert.NotBefore):
		return "NOT YET VALID (valid in " + humanDuration(cert.NotBefore.Sub(now)) + ")"
	case now.After(cert.NotAfter):
		return "EXPIRED (" + humanDuration(now.Sub(cert.NotAfter)) + " ago)"
	}
	left := cert.NotAfter.Sub(now)
	if left < 24*time.Hour {
		return "valid, expires in " + humanDuration(left)
	}
	return fmt.Sprintf("valid, %d days left", int(left.Round(24*time.Hour)/(24*time.Hour)))
}

// humanDuration rounds d for a person: days past two days, else hours and
// minutes.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= time.Minute:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	return d.Round(time.Second).String()
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func publicKeyString(cert *x509.Certificate) string {
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return cert.PublicKeyAlgorithm.String()
}

func caString(cert *x509.Certificate) string {
	switch {
	case !cert.BasicConstraintsValid:
		return "no (no basic constraints)"
	case !cert.IsCA:
		return "no"
	case cert.MaxPathLen > 0 || cert.MaxPathLenZero:
		return fmt.Sprintf("yes (max path length %d)", cert.MaxPathLen)
	}
	return "yes"
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "Digital Signature"},
	{x509.KeyUsageContentCommitment, "Content Commitment"},
	{x509.KeyUsageKeyEncipherment, "Key Encipherment"},
	{x509.KeyUsageDataEncipherment, "Data Encipherment"},
	{x509.KeyUsageKeyAgreement, "Key Agreement"},
	{x509.KeyUsageCertSign, "Certificate Sign"},
	{x509.KeyUsageCRLSign, "CRL Sign"},
	{x509.KeyUsageEncipherOnly, "Encipher Only"},
	{x509.KeyUsageDecipherOnly, "Decipher Only"},
}

func keyUsages(ku x509.KeyUsage) []string {
	var names []string
	for _, n := range keyUsageNames {
		if ku&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return names
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any",
	x509.ExtKeyUsageServerAuth:      "TLS Server Auth",
	x509.ExtKeyUsageClientAuth:      "TLS Client Auth",
	x509.ExtKeyUsageCodeSigning:     "Code Signing",
	x509.ExtKeyUsageEmailProtection: "Email Protection",
	x509.ExtKeyUsageTimeStamping:    "Time Stamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSP Signing",
}

func extKeyUsages(cert *x509.Certificate) []string {
	var names []string
	for _, u := range cert.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("other (%d)", u))
		}
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	return names
}

func joinIPs(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

func serialBytes(n *big.Int) []byte {
	if n == nil {
		return nil
	}
	return n.Bytes()
}

func hexColons(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
