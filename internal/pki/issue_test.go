package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

var guideHosts = []string{"10.0.1.10", "infra0.example.com", "127.0.0.1", "localhost"}

func mustCA(t testing.TB, opts CAOptions) *KeyPair {
	t.Helper()
	ca, err := NewCA(opts)
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func mustIssue(t testing.TB, ca *KeyPair, opts IssueOptions) *KeyPair {
	t.Helper()
	kp, err := Issue(ca, opts)
	if err != nil {
		t.Fatalf("Issue(%+v): %v", opts, err)
	}
	return kp
}

func TestNewCA(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, CAOptions{Organization: "Cairn", Now: now})
	c := ca.Cert
	if c.Subject.CommonName != DefaultCACommonName || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "Cairn" {
		t.Errorf("subject = %v", c.Subject)
	}
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("IsCA = %v, BasicConstraintsValid = %v", c.IsCA, c.BasicConstraintsValid)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", c.KeyUsage)
	}
	if len(c.SubjectKeyId) != 20 {
		t.Errorf("SubjectKeyId = %x", c.SubjectKeyId)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve.Params().Name != "P-256" {
		t.Errorf("key = %T, want ECDSA P-256", c.PublicKey)
	}
	checkTimes(t, c, now, DefaultCAValidity)
	checkSerial(t, c.SerialNumber)
}

func checkTimes(t *testing.T, c *x509.Certificate, now time.Time, validity time.Duration) {
	t.Helper()
	// Certificates hold whole seconds.
	near := func(got, want time.Time) bool { return got.Sub(want).Abs() <= time.Second }
	if !near(c.NotBefore, now.Add(-backdate)) {
		t.Errorf("NotBefore = %v, want %v", c.NotBefore, now.Add(-backdate))
	}
	if !near(c.NotAfter, now.Add(validity)) {
		t.Errorf("NotAfter = %v, want %v", c.NotAfter, now.Add(validity))
	}
}

func checkSerial(t *testing.T, n *big.Int) {
	t.Helper()
	if n.Sign() <= 0 || n.BitLen() > 128 {
		t.Errorf("serial %v: want a positive number of at most 128 bits", n)
	}
	if n.BitLen() < 64 {
		// 1 in 2^64 for a random one.
		t.Errorf("serial %v looks sequential, not random", n)
	}
}

// TestIssueProfiles issues each profile from one CA and verifies it with
// crypto/x509 as a TLS stack would: for the names in its SANs, for the
// usages of its profile only.
func TestIssueProfiles(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, CAOptions{Now: now})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	for _, tc := range []struct {
		profile      Profile
		server, clnt bool
	}{
		{ProfileServer, true, false},
		{ProfilePeer, true, true},
		{ProfileClient, false, true},
	} {
		t.Run(string(tc.profile), func(t *testing.T) {
			kp := mustIssue(t, ca, IssueOptions{Profile: tc.profile, Hosts: guideHosts, Now: now})
			c := kp.Cert
			if c.Subject.CommonName != "10.0.1.10" {
				t.Errorf("CN = %q, want the first host", c.Subject.CommonName)
			}
			if c.IsCA || !c.BasicConstraintsValid {
				t.Errorf("IsCA = %v, BasicConstraintsValid = %v", c.IsCA, c.BasicConstraintsValid)
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("KeyUsage = %v", c.KeyUsage)
			}
			if got := strings.Join(c.DNSNames, ","); got != "infra0.example.com,localhost" {
				t.Errorf("DNSNames = %s", got)
			}
			if got := joinIPs(c.IPAddresses); got != "10.0.1.10, 127.0.0.1" {
				t.Errorf("IPAddresses = %s", got)
			}
			if !bytes.Equal(c.AuthorityKeyId, ca.Cert.SubjectKeyId) {
				t.Errorf("AuthorityKeyId %x != CA SubjectKeyId %x", c.AuthorityKeyId, ca.Cert.SubjectKeyId)
			}
			if c.SerialNumber.Cmp(ca.Cert.SerialNumber) == 0 {
				t.Error("leaf and CA share a serial")
			}
			checkSerial(t, c.SerialNumber)
			checkTimes(t, c, now, DefaultLeafValidity)

			verify := func(name string, usage x509.ExtKeyUsage) error {
				_, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
				return err
			}
			for _, name := range guideHosts {
				if err := verify(name, x509.ExtKeyUsageServerAuth); (err == nil) != tc.server {
					t.Errorf("verify as server for %s: %v, want ok = %v", name, err, tc.server)
				}
			}
			if err := verify("", x509.ExtKeyUsageClientAuth); (err == nil) != tc.clnt {
				t.Errorf("verify as client: %v, want ok = %v", err, tc.clnt)
			}
			var hostErr x509.HostnameError
			if err := verify("infra1.example.com", x509.ExtKeyUsageAny); !errors.As(err, &hostErr) {
				t.Errorf("verify for a name not in the SANs: %v, want a HostnameError", err)
			}
			var invalid x509.CertificateInvalidError
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: c.NotAfter.Add(time.Second)}); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
				t.Errorf("verify after NotAfter: %v, want Expired", err)
			}
		})
	}
}

func TestIssueClientCommonName(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	kp := mustIssue(t, ca, IssueOptions{Profile: ProfileClient, CommonName: "root", Organization: "ops"})
	if kp.Cert.Subject.CommonName != "root" || kp.Cert.Subject.Organization[0] != "ops" {
		t.Errorf("subject = %v", kp.Cert.Subject)
	}
	if len(kp.Cert.DNSNames)+len(kp.Cert.IPAddresses) != 0 {
		t.Errorf("SANs = %v %v, want none", kp.Cert.DNSNames, kp.Cert.IPAddresses)
	}
}

func TestKeyTypes(t *testing.T) {
	for _, tc := range []struct {
		ca, leaf KeyType
		slow     bool
	}{
		{KeyRSA2048, KeyECDSAP256, false},
		{KeyECDSAP256, KeyRSA2048, false},
		{KeyRSA4096, KeyRSA4096, true},
	} {
		t.Run(string(tc.ca)+"-"+string(tc.leaf), func(t *testing.T) {
			if tc.slow && testing.Short() {
				t.Skip("RSA 4096 key generation is slow")
			}
			ca := mustCA(t, CAOptions{KeyType: tc.ca})
			kp := mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, KeyType: tc.leaf})
			checkKeyType(t, ca.Cert, tc.ca)
			checkKeyType(t, kp.Cert, tc.leaf)
			roots := x509.NewCertPool()
			roots.AddCert(ca.Cert)
			if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
				t.Fatal(err)
			}
			wantKU := x509.KeyUsageDigitalSignature
			if tc.leaf != KeyECDSAP256 {
				wantKU |= x509.KeyUsageKeyEncipherment
			}
			if kp.Cert.KeyUsage != wantKU {
				t.Errorf("leaf KeyUsage = %v, want %v", kp.Cert.KeyUsage, wantKU)
			}
		})
	}
}

func checkKeyType(t *testing.T, c *x509.Certificate, kt KeyType) {
	t.Helper()
	var got KeyType
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name == "P-256" {
			got = KeyECDSAP256
		}
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			got = KeyRSA2048
		case 4096:
			got = KeyRSA4096
		}
	}
	if got != kt {
		t.Errorf("%s: key %T, want %s", c.Subject, c.PublicKey, kt)
	}
}

func TestIssueRejects(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, CAOptions{Now: now})
	other := mustCA(t, CAOptions{Now: now})
	leaf := mustIssue(t, ca, IssueOptions{Profile: ProfilePeer, Hosts: []string{"localhost"}, Now: now})
	expiredCA := mustCA(t, CAOptions{Now: now.Add(-48 * time.Hour), Validity: 24 * time.Hour})
	futureCA := mustCA(t, CAOptions{Now: now.Add(time.Hour)})
	shortCA := mustCA(t, CAOptions{Now: now, Validity: 30 * 24 * time.Hour})
	swapped := &KeyPair{Cert: ca.Cert, Key: other.Key}

	server := func(hosts ...string) IssueOptions {
		return IssueOptions{Profile: ProfileServer, Hosts: hosts, Now: now}
	}
	for _, tc := range []struct {
		name string
		ca   *KeyPair
		opts IssueOptions
		want error
	}{
		{"nil CA", nil, server("localhost"), ErrInvalidOptions},
		{"leaf as CA", leaf, server("localhost"), ErrNotCA},
		{"CA with another key", swapped, server("localhost"), ErrKeyMismatch},
		{"expired CA", expiredCA, server("localhost"), ErrExpired},
		{"CA not yet valid", futureCA, server("localhost"), ErrNotYetValid},
		{"outlives CA", shortCA, server("localhost"), ErrOutlivesCA},
		{"no profile", ca, IssueOptions{Hosts: []string{"localhost"}}, ErrInvalidOptions},
		{"unknown profile", ca, IssueOptions{Profile: "both", Hosts: []string{"localhost"}}, ErrUnknownProfile},
		{"unknown key type", ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, KeyType: "dsa"}, ErrUnknownKeyType},
		{"negative validity", ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"localhost"}, Validity: -time.Hour}, ErrInvalidOptions},
		{"server without hosts", ca, server(), ErrNoHosts},
		{"peer without hosts", ca, IssueOptions{Profile: ProfilePeer, CommonName: "infra0"}, ErrNoHosts},
		{"client without hosts or CN", ca, IssueOptions{Profile: ProfileClient}, ErrInvalidOptions},
		{"bad host", ca, server("localhost", "infra0.example.com:2380"), ErrInvalidHost},
		{"long CN", ca, IssueOptions{Profile: ProfileClient, CommonName: strings.Repeat("x", 65)}, ErrInvalidOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Issue(tc.ca, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "pki: ") || strings.Count(err.Error(), "pki: ") != 1 {
				t.Errorf("message %q: want exactly one leading \"pki: \"", err)
			}
		})
	}
}

func TestNewCARejects(t *testing.T) {
	for _, tc := range []struct {
		opts CAOptions
		want error
	}{
		{CAOptions{Validity: -1}, ErrInvalidOptions},
		{CAOptions{KeyType: "rsa1024"}, ErrUnknownKeyType},
		{CAOptions{Organization: strings.Repeat("o", 65)}, ErrInvalidOptions},
	} {
		if _, err := NewCA(tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("NewCA(%+v) = %v, want %v", tc.opts, err, tc.want)
		}
	}
}

func TestParseHosts(t *testing.T) {
	for _, tc := range []struct {
		in       []string
		dns, ips string // comma-joined; "error" for a rejected input
	}{
		{[]string{"10.0.1.10", "infra0.example.com"}, "infra0.example.com", "10.0.1.10"},
		{[]string{" ::1 ", "[fe80::1]", "127.0.0.1"}, "", "::1,fe80::1,127.0.0.1"},
		{[]string{"Infra0.Example.COM.", "infra0.example.com", "127.0.0.1", "127.0.0.1"}, "infra0.example.com", "127.0.0.1"},
		{[]string{"localhost", "*.cairn.example", "a-b.c1"}, "localhost,*.cairn.example,a-b.c1", ""},
		{[]string{""}, "error", ""},
		{[]string{"infra0:2380"}, "error", ""},
		{[]string{"[::1]:2379"}, "error", ""},
		{[]string{"10.0.1.256"}, "error", ""},
		{[]string{"*.local"}, "error", ""},
		{[]string{"a.*.example"}, "error", ""},
		{[]string{"under_score"}, "error", ""},
		{[]string{"-lead.example"}, "error", ""},
		{[]string{"a..b"}, "error", ""},
		{[]string{"https://infra0"}, "error", ""},
		{[]string{"fe80::1%eth0"}, "error", ""},
		{[]string{strings.Repeat("a", 64) + ".example"}, "error", ""},
	} {
		s, err := parseHosts(tc.in)
		if tc.dns == "error" {
			if !errors.Is(err, ErrInvalidHost) {
				t.Errorf("parseHosts(%q) = %v, %v; want ErrInvalidHost", tc.in, s, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseHosts(%q): %v", tc.in, err)
			continue
		}
		ips := make([]string, len(s.ips))
		for i, ip := range s.ips {
			ips[i] = ip.String()
		}
		if got := strings.Join(s.dnsNames, ","); got != tc.dns {
			t.Errorf("parseHosts(%q) DNS = %s, want %s", tc.in, got, tc.dns)
		}
		if got := strings.Join(ips, ","); got != tc.ips {
			t.Errorf("parseHosts(%q) IPs = %s, want %s", tc.in, got, tc.ips)
		}
	}
}

func TestParseProfileAndKeyType(t *testing.T) {
	if p, err := ParseProfile(" Peer "); err != nil || p != ProfilePeer {
		t.Errorf("ParseProfile = %v, %v", p, err)
	}
	if _, err := ParseProfile("both"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("ParseProfile(both) = %v", err)
	}
	if k, err := ParseKeyType("RSA4096"); err != nil || k != KeyRSA4096 {
		t.Errorf("ParseKeyType = %v, %v", k, err)
	}
	if _, err := ParseKeyType("ed25519"); !errors.Is(err, ErrUnknownKeyType) {
		t.Errorf("ParseKeyType(ed25519) = %v", err)
	}
}

func TestSelfSigned(t *testing.T) {
	kp, err := SelfSigned([]string{"127.0.0.1", "localhost"}, 0, ProfilePeer)
	if err != nil {
		t.Fatal(err)
	}
	c := kp.Cert
	if c.IsCA {
		t.Error("a self-signed leaf must not be a CA")
	}
	// CheckSignatureFrom wants a CA parent; check the signature itself.
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			t.Errorf("verify pinned for %v: %v", u, err)
		}
	}
	if got := c.NotAfter.Sub(c.NotBefore); got.Round(time.Minute) != DefaultLeafValidity+backdate {
		t.Errorf("validity %v, want the default", got)
	}
	if _, err := SelfSigned(nil, time.Hour, ProfileServer); !errors.Is(err, ErrNoHosts) {
		t.Errorf("SelfSigned without hosts = %v, want ErrNoHosts", err)
	}
	if _, err := SelfSigned([]string{"10.0.0.1"}, time.Hour, ""); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("SelfSigned without profile = %v, want ErrInvalidOptions", err)
	}
}
