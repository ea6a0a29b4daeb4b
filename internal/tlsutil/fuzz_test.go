package tlsutil

import (
	"encoding/pem"
	"testing"
)

// The files named by the flags are parsed by this package's own PEM
// walking; none of it may panic on any input.

func FuzzParseCRL(f *testing.F) {
	ca := newCA(f, "fuzz")
	leaf := ca.issue(f, leafOpts{cn: "x"})
	der := ca.crl(f, leaf.serial)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	f.Add(ca.certPEM)
	f.Add([]byte("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		crl, err := parseCRL(data)
		if err == nil {
			_ = revokedSerials(crl)
		}
	})
}

func FuzzParseCertificates(f *testing.F) {
	ca := newCA(f, "fuzz")
	leaf := ca.issue(f, leafOpts{cn: "x"})
	f.Add(ca.certPEM)
	f.Add(append(append([]byte{}, leaf.certPEM...), ca.certPEM...))
	f.Add(leaf.keyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, ders, err := parseCertificates(data)
		if err == nil && (len(certs) == 0 || len(certs) != len(ders)) {
			t.Fatalf("%d certificates, %d DER blocks, no error", len(certs), len(ders))
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	ca := newCA(f, "fuzz")
	leaf := ca.issue(f, leafOpts{cn: "x"})
	f.Add(leaf.keyPEM)
	f.Add(append(append([]byte{}, leaf.certPEM...), leaf.keyPEM...))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: X\n\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := parsePrivateKey(data)
		if err == nil {
			_ = keyMatches(leaf.cert, key)
		}
	})
}
