package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	p := newPKI(t)
	other := p.ca.serverLeaf(t, "other")
	missing := filepath.Join(t.TempDir(), "missing.crt")
	garbage := writeFile(t, "garbage.pem", []byte("not pem at all"))
	combined := writeFile(t, "combined.pem", append(append([]byte{}, p.server.certPEM...), p.server.keyPEM...))
	crlDER := p.ca.crl(t)
	crlPEM := writeFile(t, "ca.crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}))
	encKey := writeFile(t, "enc.key", pem.EncodeToMemory(&pem.Block{
		Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1},
	}))

	good := func() *Info {
		return &Info{CertFile: p.server.certFile, KeyFile: p.server.keyFile, TrustedCAFile: p.ca.file}
	}
	for _, tc := range []struct {
		name   string
		mod    func(*Info)
		want   string // exact error text, or a substring when wantIs is set
		wantIs error
	}{
		{name: "ok", mod: func(*Info) {}},
		{name: "ok: empty", mod: func(i *Info) { *i = Info{} }},
		{name: "ok: combined cert and key file", mod: func(i *Info) { i.CertFile, i.KeyFile = combined, combined }},
		{name: "ok: PEM CRL", mod: func(i *Info) { i.CRLFile = crlPEM }},
		{name: "ok: DER CRL", mod: func(i *Info) { i.CRLFile = writeFile(t, "ca.crl", crlDER) }},
		{name: "ok: suites and versions", mod: func(i *Info) {
			i.CipherSuites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"}
			i.MinVersion, i.MaxVersion = "TLS1.2", "TLS1.3"
		}},
		{
			name:   "missing cert file",
			mod:    func(i *Info) { i.CertFile = missing },
			want:   "tlsutil: --cert-file " + missing + ": open: no such file or directory",
			wantIs: fs.ErrNotExist,
		},
		{
			name: "missing peer cert file",
			mod:  func(i *Info) { i.Side = SidePeer; i.CertFile = missing },
			want: "tlsutil: --peer-cert-file " + missing + ": open: no such file or directory",
		},
		{
			name: "missing key file",
			mod:  func(i *Info) { i.KeyFile = missing },
			want: "tlsutil: --key-file " + missing + ": open: no such file or directory",
		},
		{
			name:   "key without cert",
			mod:    func(i *Info) { i.CertFile = "" },
			want:   "tlsutil: --cert-file: incomplete key pair: required when --key-file is set",
			wantIs: ErrIncomplete,
		},
		{
			name:   "mismatched cert and key",
			mod:    func(i *Info) { i.KeyFile = other.keyFile },
			want:   "tlsutil: --cert-file " + p.server.certFile + " and --key-file " + other.keyFile + ": private key does not match the certificate",
			wantIs: ErrKeyMismatch,
		},
		{
			name: "mismatched peer client cert and key",
			mod: func(i *Info) {
				i.Side = SidePeer
				i.ClientCertFile, i.ClientKeyFile = other.certFile, p.server.keyFile
			},
			want: "tlsutil: --peer-client-cert-file " + other.certFile + " and --peer-client-key-file " + p.server.keyFile + ": private key does not match the certificate",
		},
		{
			name:   "client key without client cert",
			mod:    func(i *Info) { i.ClientKeyFile = p.server.keyFile },
			want:   "tlsutil: --client-cert-file: incomplete key pair: required when --client-key-file is set",
			wantIs: ErrIncomplete,
		},
		{
			name:   "cert file holds no certificate",
			mod:    func(i *Info) { i.CertFile = p.server.keyFile },
			want:   "tlsutil: --cert-file " + p.server.keyFile + ": no CERTIFICATE PEM block found",
			wantIs: ErrNoCertificate,
		},
		{
			name:   "key file holds no key",
			mod:    func(i *Info) { i.KeyFile = garbage },
			want:   "tlsutil: --key-file " + garbage + ": no PRIVATE KEY PEM block found",
			wantIs: ErrNoPrivateKey,
		},
		{
			name: "encrypted key",
			mod:  func(i *Info) { i.KeyFile = encKey },
			want: "tlsutil: --key-file " + encKey + ": PEM block 1: encrypted private keys are not supported",
		},
		{
			name: "CA file missing",
			mod:  func(i *Info) { i.Side = SidePeer; i.TrustedCAFile = missing },
			want: "tlsutil: --peer-trusted-ca-file " + missing + ": open: no such file or directory",
		},
		{
			name: "CA file not PEM",
			mod:  func(i *Info) { i.TrustedCAFile = garbage },
			want: "tlsutil: --trusted-ca-file " + garbage + ": no CERTIFICATE PEM block found",
		},
		{
			name: "CRL not a CRL",
			mod:  func(i *Info) { i.CRLFile = garbage },
			want: "tlsutil: --client-crl-file " + garbage + ": not a CRL",
		},
		{
			name: "peer CRL is a certificate",
			mod:  func(i *Info) { i.Side = SidePeer; i.CRLFile = p.ca.file },
			want: "tlsutil: --peer-crl-file " + p.ca.file + `: not a CRL: PEM block is "CERTIFICATE", want "X509 CRL"`,
		},
		{
			name: "CN and hostname",
			mod: func(i *Info) {
				i.Side = SidePeer
				i.AllowedCNs, i.AllowedHostnames = []string{"a", "b"}, []string{"h.example.com"}
			},
			want:   "tlsutil: --peer-cert-allowed-cn a,b and --peer-cert-allowed-hostname h.example.com: mutually exclusive",
			wantIs: ErrExclusive,
		},
		{
			name:   "unknown cipher suite",
			mod:    func(i *Info) { i.CipherSuites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_FOO"} },
			want:   "tlsutil: --cipher-suites TLS_FOO: unknown cipher suite (supported: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
			wantIs: ErrUnknownCipherSuite,
		},
		{
			name:   "unknown min version",
			mod:    func(i *Info) { i.MinVersion = "TLS1.1" },
			want:   `tlsutil: --tls-min-version: unknown TLS version "TLS1.1" (must be one of: TLS1.2, TLS1.3)`,
			wantIs: ErrUnknownVersion,
		},
		{
			name: "unknown max version",
			mod:  func(i *Info) { i.MaxVersion = "tls13" },
			want: `tlsutil: --tls-max-version: unknown TLS version "tls13" (must be one of: TLS1.2, TLS1.3)`,
		},
		{
			name:   "min above max",
			mod:    func(i *Info) { i.MinVersion, i.MaxVersion = "TLS1.3", "TLS1.2" },
			want:   "tlsutil: --tls-min-version TLS1.3 and --tls-max-version TLS1.2: min version is greater than max version",
			wantIs: ErrVersionRange,
		},
		{
			name: "TLS1.3 only with suites",
			mod: func(i *Info) {
				i.MinVersion = "TLS1.3"
				i.CipherSuites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}
			},
			want:   "tlsutil: --cipher-suites TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 and --tls-min-version TLS1.3: cipher suites cannot be configured when only TLS1.3 is enabled",
			wantIs: ErrTLS13CipherSuites,
		},
		{
			name:   "bad side",
			mod:    func(i *Info) { i.Side = "server" },
			want:   `tlsutil: unknown side "server" (want "client" or "peer")`,
			wantIs: ErrBadSide,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := good()
			tc.mod(i)
			err := i.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tc.want)
			}
			if tc.wantIs != nil {
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
				}
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("error\n got %q\nwant %q...", err, tc.want)
				}
			} else if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got %q\nwant %q", err, tc.want)
			}
			// ServerConfig and ClientConfig refuse the same way.
			if _, serr := i.ServerConfig(); serr == nil || serr.Error() != err.Error() {
				t.Errorf("ServerConfig: %v", serr)
			}
			if _, cerr := i.ClientConfig(); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("ClientConfig: %v", cerr)
			}
		})
	}
}

func TestValidateUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	p := newPKI(t)
	if err := os.Chmod(p.server.keyFile, 0); err != nil {
		t.Fatal(err)
	}
	i := &Info{CertFile: p.server.certFile, KeyFile: p.server.keyFile}
	want := "tlsutil: --key-file " + p.server.keyFile + ": open: permission denied"
	if err := i.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestEmpty(t *testing.T) {
	if !(&Info{TrustedCAFile: "ca", ClientCertAuth: true}).Empty() {
		t.Fatal("Info without cert not empty")
	}
	if (&Info{CertFile: "c"}).Empty() || (&Info{KeyFile: "k"}).Empty() {
		t.Fatal("Info with cert or key empty")
	}
}

func TestParseCipherSuites(t *testing.T) {
	ids, err := ParseCipherSuites([]string{
		"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
		" TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305 ",
		"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
		"TLS_AES_128_GCM_SHA256",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_AES_128_GCM_SHA256,
	}
	if len(ids) != len(want) {
		t.Fatalf("got %v", ids)
	}
	for k := range ids {
		if ids[k] != want[k] {
			t.Fatalf("got %v, want %v", ids, want)
		}
	}
	if ids, err := ParseCipherSuites(nil); ids != nil || err != nil {
		t.Fatalf("nil: %v %v", ids, err)
	}
	// Insecure suites are accepted (etcd accepts them) and reported for a
	// warning.
	insecure := []string{"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"}
	if ids, err := ParseCipherSuites(insecure); err != nil || len(ids) != 2 {
		t.Errorf("insecure suites: %v, %v", ids, err)
	}
	if got := InsecureCipherSuites(append(insecure, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")); len(got) != 2 {
		t.Errorf("InsecureCipherSuites = %v", got)
	}
	if _, err := ParseCipherSuites([]string{"tls_ecdhe_rsa_with_aes_128_gcm_sha256"}); !errors.Is(err, ErrUnknownCipherSuite) {
		t.Errorf("lower case: %v", err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]uint16{"": 0, "TLS1.2": tls.VersionTLS12, "TLS1.3": tls.VersionTLS13} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"TLS1.0", "TLS1.1", "1.2", "tls1.2"} {
		if _, err := ParseVersion(in); !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestCommonName(t *testing.T) {
	p := newPKI(t)
	alice := p.ca.issue(t, leafOpts{cn: "alice"})
	if got := CommonName(tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice.cert}}); got != "" {
		t.Fatalf("unverified certificate gave CN %q", got)
	}
	st := tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{alice.cert, p.ca.cert}}}
	if got := CommonName(st); got != "alice" {
		t.Fatalf("got %q", got)
	}
}
