package pki

import (
	"encoding/pem"
	"errors"
	"testing"
)

// pemSeeds are valid PEM from this package plus the shapes of broken
// input met in practice.
func pemSeeds(f *testing.F) (certPEM, keyPEM []byte, junk [][]byte) {
	f.Helper()
	ca, err := NewCA(CAOptions{})
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := Issue(ca, IssueOptions{Profile: ProfilePeer, Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		f.Fatal(err)
	}
	certPEM = append(append([]byte{}, leaf.CertPEM...), ca.CertPEM...)
	return certPEM, leaf.KeyPEM, [][]byte{
		nil,
		[]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
		[]byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
		pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: []byte{0x30, 0x82, 0xff, 0xff}}),
		pem.EncodeToMemory(&pem.Block{Type: pemPKCS8Key, Bytes: []byte{0x30, 0x00}}),
		pem.EncodeToMemory(&pem.Block{Type: pemRSAKey, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}),
		ca.Cert.Raw,
		leaf.CertPEM[:len(leaf.CertPEM)/2],
	}
}

// FuzzParseCertificatesPEM feeds arbitrary bytes to the certificate
// parser, as `cairnctl cert show` does with any file it is given.
func FuzzParseCertificatesPEM(f *testing.F) {
	certPEM, keyPEM, junk := pemSeeds(f)
	f.Add(certPEM)
	f.Add(append(append([]byte{}, keyPEM...), certPEM...))
	for _, j := range junk {
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificatesPEM(data)
		if err != nil {
			if certs != nil {
				t.Fatal("certificates returned with an error")
			}
			if !errors.Is(err, ErrNotPEM) && !errors.Is(err, ErrNotCertificate) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("no certificates and no error")
		}
		for _, c := range certs {
			_ = Describe(c)
		}
	})
}

// FuzzParseKeyPair feeds arbitrary certificate and key PEM to the parsers
// LoadKeyPair uses.
func FuzzParseKeyPair(f *testing.F) {
	certPEM, keyPEM, junk := pemSeeds(f)
	f.Add(certPEM, keyPEM)
	f.Add(keyPEM, certPEM)
	for _, j := range junk {
		f.Add(certPEM, j)
		f.Add(j, keyPEM)
	}
	f.Fuzz(func(t *testing.T, certData, keyData []byte) {
		if key, err := ParsePrivateKeyPEM(keyData); err != nil {
			if key != nil {
				t.Fatal("key returned with an error")
			}
			if !errors.Is(err, ErrNotPEM) && !errors.Is(err, ErrNotPrivateKey) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
		kp, err := ParseKeyPair(certData, keyData)
		if err != nil {
			if kp != nil {
				t.Fatal("key pair returned with an error")
			}
			return
		}
		if err := matchKey(kp.Cert, kp.Key); err != nil {
			t.Fatalf("ParseKeyPair returned a mismatched pair: %v", err)
		}
	})
}
