package pki

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca := mustCA(t, CAOptions{Organization: "Cairn", Now: t0, KeyType: KeyRSA2048})
	leaf := mustIssue(t, ca, IssueOptions{Profile: ProfilePeer, Hosts: guideHosts, CommonName: "infra0", Now: t0})
	sum := sha256.Sum256(leaf.Cert.Raw)

	got := describeAt(leaf.Cert, t0)
	for _, want := range []string{
		"Subject:             CN=infra0\n",
		"Issuer:              CN=Cairn CA,O=Cairn\n",
		"Serial:              " + hexColons(leaf.Cert.SerialNumber.Bytes()) + "\n",
		"Not before:          2026-03-01 11:55:00 UTC\n",
		"Not after:           2027-03-01 12:00:00 UTC\n",
		"Status:              valid, 365 days left\n",
		"Public key:          ECDSA P-256\n",
		"Signature:           SHA256-RSA\n",
		"CA:                  no\n",
		"Key usage:           Digital Signature\n",
		"Ext key usage:       TLS Server Auth, TLS Client Auth\n",
		"DNS names:           infra0.example.com, localhost\n",
		"IP addresses:        10.0.1.10, 127.0.0.1\n",
		"Authority key ID:    " + hexColons(ca.Cert.SubjectKeyId) + "\n",
		"SHA-256 fingerprint: " + hexColons(sum[:]) + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q; got:\n%s", want, got)
		}
	}

	got = describeAt(ca.Cert, t0)
	for _, want := range []string{
		"Public key:          RSA 2048 bits\n",
		"CA:                  yes\n",
		"Key usage:           Certificate Sign, CRL Sign\n",
		"Ext key usage:       (none)\n",
		"DNS names:           (none)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe(CA) lacks %q; got:\n%s", want, got)
		}
	}

	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0.Add(365*24*time.Hour - 90*time.Minute), "Status:              valid, expires in 1h30m\n"},
		{t0.Add(400 * 24 * time.Hour), "Status:              EXPIRED (35 days ago)\n"},
		{t0.Add(-time.Hour), "Status:              NOT YET VALID (valid in 55m)\n"},
	} {
		if got := describeAt(leaf.Cert, tc.at); !strings.Contains(got, tc.want) {
			t.Errorf("at %v: Describe lacks %q; got:\n%s", tc.at, tc.want, got)
		}
	}
	if got := Describe(leaf.Cert); !strings.Contains(got, "EXPIRED") && !strings.Contains(got, "valid") {
		t.Errorf("Describe has no status:\n%s", got)
	}
}
