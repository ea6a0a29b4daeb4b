package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteLoadRoundTrip(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	kp := mustIssue(t, ca, IssueOptions{Profile: ProfilePeer, Hosts: guideHosts})
	root := t.TempDir()
	dir := filepath.Join(root, "certs", "infra0")
	certPath, keyPath := filepath.Join(dir, "infra0.crt"), filepath.Join(dir, "infra0.key")
	if err := kp.WriteFiles(certPath, keyPath, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	checkMode(t, certPath, CertFileMode)
	checkMode(t, keyPath, KeyFileMode)
	checkMode(t, dir, DirMode|fs.ModeDir)
	checkMode(t, filepath.Join(root, "certs"), DirMode|fs.ModeDir)
	checkNoTemp(t, dir)

	got, err := LoadKeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(kp.Cert) || !bytes.Equal(got.CertPEM, kp.CertPEM) || !bytes.Equal(got.KeyPEM, kp.KeyPEM) {
		t.Error("loaded pair differs from the written one")
	}
	if _, err := got.TLSCertificate(); err != nil {
		t.Error(err)
	}
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteFilesRefusesOverwrite(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	other := mustCA(t, CAOptions{})
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := ca.WriteFiles(certPath, keyPath, WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	err := other.WriteFiles(certPath, keyPath, WriteOptions{})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second write = %v, want ErrExists", err)
	}
	if !strings.Contains(err.Error(), keyPath) {
		t.Errorf("message %q does not name the file", err)
	}
	if got, _ := LoadKeyPair(certPath, keyPath); got == nil || !got.Cert.Equal(ca.Cert) {
		t.Error("a refused write changed the files")
	}

	// Only the certificate exists: nothing is written, not even the key.
	newKey := filepath.Join(dir, "new.key")
	if err := other.WriteFiles(certPath, newKey, WriteOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("write over the certificate = %v, want ErrExists", err)
	}
	if _, err := os.Stat(newKey); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the key was written although the certificate was refused: %v", err)
	}

	if err := other.WriteFiles(certPath, keyPath, WriteOptions{Force: true}); err != nil {
		t.Fatalf("forced write: %v", err)
	}
	got, err := LoadKeyPair(certPath, keyPath)
	if err != nil || !got.Cert.Equal(other.Cert) {
		t.Fatalf("after a forced write: %v", err)
	}
	checkMode(t, certPath, CertFileMode)
	checkMode(t, keyPath, KeyFileMode)
	checkNoTemp(t, dir)
}

// TestPublishNoClobber covers the race WriteFiles' first check cannot: a
// file that appears between the check and the write.
func TestPublishNoClobber(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	tmp, err := stage(path, []byte("new"), KeyFileMode)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := publish(tmp, path, false); !errors.Is(err, ErrExists) {
		t.Fatalf("publish = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file = %q, want it untouched", b)
	}
}

func TestWriteFilesBadPaths(t *testing.T) {
	kp := mustCA(t, CAOptions{})
	dir := t.TempDir()
	p := filepath.Join(dir, "x.pem")
	if err := kp.WriteFiles(p, filepath.Join(dir, ".", "x.pem"), WriteOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("same path: %v, want ErrInvalidOptions", err)
	}
	if err := kp.WriteFiles("", p, WriteOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty path: %v, want ErrInvalidOptions", err)
	}
	// A parent that is a file cannot become a directory.
	if err := kp.WriteFiles(filepath.Join(p+"d", "a.crt"), filepath.Join(dir, "a.key"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kp.WriteFiles(filepath.Join(dir, "a.key", "b.crt"), filepath.Join(dir, "b.key"), WriteOptions{}); err == nil {
		t.Error("writing under a file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "b.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed write left the key behind: %v", err)
	}
}

// writePair writes kp to dir/name.crt and dir/name.key.
func writePair(t *testing.T, kp *KeyPair, dir, name string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := kp.WriteFiles(certPath, keyPath, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func TestLoadKeyPairErrors(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	ca := mustCA(t, CAOptions{Now: now.Add(-3 * 365 * 24 * time.Hour)})
	goodCert, goodKey := writePair(t, mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, Now: now}), dir, "good")
	_, otherKey := writePair(t, mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, Now: now}), dir, "other")
	expCert, expKey := writePair(t, mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, Now: now.Add(-48 * time.Hour), Validity: 24 * time.Hour}), dir, "expired")
	futCert, futKey := writePair(t, mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, Now: now.Add(24 * time.Hour)}), dir, "future")
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.crt")

	for _, tc := range []struct {
		name          string
		cert, key     string
		want          error
		wantInMessage []string
	}{
		{"missing cert", missing, goodKey, fs.ErrNotExist, []string{"certificate file " + missing, "no such file"}},
		{"missing key", goodCert, missing, fs.ErrNotExist, []string{"key file " + missing}},
		{"cert not PEM", junk, goodKey, ErrNotPEM, []string{"certificate file " + junk}},
		{"key not PEM", goodCert, junk, ErrNotPEM, []string{"key file " + junk}},
		{"key as cert", goodKey, goodKey, ErrNotCertificate, []string{"certificate file " + goodKey, `"PRIVATE KEY"`}},
		{"cert as key", goodCert, goodCert, ErrNotPrivateKey, []string{"key file " + goodCert, `"CERTIFICATE"`}},
		{"mismatch", goodCert, otherKey, ErrKeyMismatch, []string{"key file " + otherKey, goodCert}},
		{"expired", expCert, expKey, ErrExpired, []string{"certificate file " + expCert, "expired at"}},
		{"not yet valid", futCert, futKey, ErrNotYetValid, []string{"certificate file " + futCert, "valid from"}},
		{"directory", dir, goodKey, nil, []string{"certificate file " + dir, "is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kp, err := LoadKeyPair(tc.cert, tc.key)
			if err == nil || kp != nil {
				t.Fatalf("LoadKeyPair = %v, %v; want an error", kp, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pki: ") || strings.Count(msg, "pki:") != 1 {
				t.Errorf("message %q: want exactly one leading \"pki: \"", msg)
			}
			for _, s := range tc.wantInMessage {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}
}

func TestParseKeyPairFormats(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey)
	for _, tc := range []struct {
		name string
		pem  []byte
		want error
	}{
		{"PKCS#8", ca.KeyPEM, nil},
		{"SEC 1", pem.EncodeToMemory(&pem.Block{Type: pemECKey, Bytes: sec1}), nil},
		{"PKCS#1", pem.EncodeToMemory(&pem.Block{Type: pemRSAKey, Bytes: pkcs1}), nil},
		{"key after a certificate", append(append([]byte{}, ca.CertPEM...), ca.KeyPEM...), nil},
		{"two keys", append(append([]byte{}, ca.KeyPEM...), ca.KeyPEM...), ErrNotPrivateKey},
		{"legacy encrypted", pem.EncodeToMemory(&pem.Block{Type: pemRSAKey, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}), ErrNotPrivateKey},
		{"PKCS#8 encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), ErrNotPrivateKey},
		{"DSA", pem.EncodeToMemory(&pem.Block{Type: "DSA PRIVATE KEY", Bytes: []byte{1}}), ErrNotPrivateKey},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: pemPKCS8Key, Bytes: []byte{0x30, 1, 2}}), ErrNotPrivateKey},
		{"empty", nil, ErrNotPEM},
		{"DER", ca.Cert.Raw, ErrNotPEM},
	} {
		_, err := ParsePrivateKeyPEM(tc.pem)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}

	// A chain: the pair is the first certificate and its key; the rest
	// follows into the TLS certificate.
	leaf := mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}})
	chain := append(append([]byte{}, leaf.CertPEM...), ca.CertPEM...)
	kp, err := ParseKeyPair(chain, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := kp.TLSCertificate()
	if err != nil || len(tc.Certificate) != 2 {
		t.Errorf("TLS certificate: %d certificates, %v; want 2", len(tc.Certificate), err)
	}
	if _, err := ParseKeyPair(chain, ca.KeyPEM); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("key of the second certificate: %v, want ErrKeyMismatch", err)
	}
}

func TestLoadCertificates(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	leaf := mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}})
	dir := t.TempDir()
	path := filepath.Join(dir, "bundle.pem")
	// Text around the blocks, as openssl writes it, and a key in between.
	data := "subject=CN=localhost\n" + string(leaf.CertPEM) + string(leaf.KeyPEM) + "issuer\n" + string(ca.CertPEM)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	certs, err := LoadCertificates(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !certs[0].Equal(leaf.Cert) || !certs[1].Equal(ca.Cert) {
		t.Errorf("got %d certificates, want leaf then CA", len(certs))
	}

	bad := filepath.Join(dir, "bad.pem")
	corrupt := pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: []byte{0x30, 0x03, 1, 2, 3}})
	if err := os.WriteFile(bad, append(append([]byte{}, ca.CertPEM...), corrupt...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCertificates(bad)
	if !errors.Is(err, ErrNotCertificate) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "certificate 2") {
		t.Errorf("corrupt second certificate: %v", err)
	}
}
