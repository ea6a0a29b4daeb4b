package tlsutil

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfCert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixtures", "peer")
	certFile, keyFile, err := SelfCert(nil, dir, []string{"127.0.0.1:2380", "localhost:2380", "127.0.0.1:2381", "::1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(certFile) != dir || filepath.Base(certFile) != "cert.pem" || filepath.Base(keyFile) != "key.pem" {
		t.Fatalf("files %s %s", certFile, keyFile)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	pair, err := loadKeyPair("c", certFile, "k", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	if len(leaf.IPAddresses) != 2 || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" {
		t.Fatalf("SANs %v %v", leaf.IPAddresses, leaf.DNSNames)
	}
	if d := time.Until(leaf.NotAfter); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Fatalf("validity %v", d)
	}

	// Reused on restart.
	before, _ := os.ReadFile(certFile)
	if _, _, err := SelfCert(nil, dir, []string{"127.0.0.1:2380"}, 1); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(certFile)
	if !bytes.Equal(before, after) {
		t.Fatal("certificate regenerated on restart")
	}

	// Members with auto TLS talk to each other: the dialing side does not
	// verify a self-signed server.
	si := &Info{Side: SidePeer, CertFile: certFile, KeyFile: keyFile, SelfSigned: true}
	h := startServer(t, si, si.ListenerOptions())
	otherCert, otherKey, err := SelfCert(nil, t.TempDir(), []string{"127.0.0.1:2380"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ci := &Info{Side: SidePeer, CertFile: otherCert, KeyFile: otherKey, SelfSigned: true}
	if got, _, err := exchange(t, h.addr, ci); err != nil || got != "hello " {
		t.Fatalf("answer %q, err %v", got, err)
	}

	if _, _, err := SelfCert(nil, dir, nil, 0); err == nil {
		t.Fatal("validity 0 accepted")
	}
}

func TestSelfCertReplacesExpired(t *testing.T) {
	dir := t.TempDir()
	key := genKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "old"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pemCert(der), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := SelfCert(nil, dir, []string{"127.0.0.1:2379"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := loadKeyPair("c", certFile, "k", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Leaf.NotAfter.After(time.Now()) {
		t.Fatal("expired self-signed certificate kept")
	}
	if err := (&Info{CertFile: certFile, KeyFile: keyFile}).Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
