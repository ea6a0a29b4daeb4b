package config

import (
	"testing"
)

func TestUnsupported(t *testing.T) {
	tests := []struct {
		args []string
		want string // "" for supported
	}{
		{nil, ""},
		{[]string{"--name", "infra0", "--initial-advertise-peer-urls", "http://10.0.1.10:2380", "--listen-peer-urls", "http://10.0.1.10:2380"}, ""},
		{[]string{"--initial-cluster", "a=http://10.0.0.1:2380,a=http://10.0.0.2:2380", "--name", "a"}, ""},
		// Explicit defaults are harmless.
		{[]string{"--proxy", "off", "--auto-tls=false", "--tls-min-version", "TLS1.2", "--initial-cluster-state", "new", "--auth-token", "simple"}, ""},
		{[]string{"--cert-file", "/c"}, "--cert-file"},
		{[]string{"--key-file", "/k"}, "--key-file"},
		{[]string{"--client-cert-auth"}, "--client-cert-auth"},
		{[]string{"--trusted-ca-file", "/ca"}, "--trusted-ca-file"},
		{[]string{"--client-crl-file", "/crl"}, "--client-crl-file"},
		{[]string{"--client-cert-allowed-hostname", "h"}, "--client-cert-allowed-hostname"},
		{[]string{"--auto-tls"}, "--auto-tls"},
		{[]string{"--peer-cert-file", "/c"}, "--peer-cert-file"},
		{[]string{"--peer-client-cert-auth"}, "--peer-client-cert-auth"},
		{[]string{"--peer-auto-tls"}, "--peer-auto-tls"},
		{[]string{"--peer-cert-allowed-cn", "cn"}, "--peer-cert-allowed-cn"},
		{[]string{"--experimental-peer-skip-client-san-verification"}, "--peer-skip-client-san-verification"},
		{[]string{"--self-signed-cert-validity", "2"}, "--self-signed-cert-validity"},
		{[]string{"--cipher-suites", "X"}, "--cipher-suites"},
		{[]string{"--tls-min-version", "TLS1.3"}, "--tls-min-version"},
		{[]string{"--tls-max-version", "TLS1.3"}, "--tls-max-version"},
		{[]string{"--listen-peer-urls", "https://127.0.0.1:2380"}, "--listen-peer-urls"},
		{[]string{"--initial-advertise-peer-urls", "https://127.0.0.1:2380"}, "--initial-advertise-peer-urls"},
		{[]string{"--listen-client-urls", "unix://localhost:4001", "--advertise-client-urls", "http://127.0.0.1:2379"}, "--listen-client-urls"},
		{[]string{"--advertise-client-urls", "unixs://localhost:4001"}, "--advertise-client-urls"},
		{[]string{"--listen-metrics-urls", "https://127.0.0.1:2381"}, "--listen-metrics-urls"},
		{[]string{"--listen-client-http-urls", "http://127.0.0.1:2382"}, "--listen-client-http-urls"},
		{[]string{"--discovery", "http://d.example:80/t"}, "--discovery"},
		{[]string{"--discovery-srv", "example.com"}, "--discovery-srv"},
		{[]string{"--discovery-endpoints", "127.0.0.1:2379", "--discovery-token", "t"}, "--discovery-endpoints"},
		{[]string{"--proxy", "readonly"}, "--proxy"},
		{[]string{"--initial-cluster", "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"}, ""}, // static clusters over http are supported
		{[]string{"--initial-cluster", "a=https://10.0.0.1:2380"}, "--initial-cluster"},
		{[]string{"--auth-token", "jwt,pub-key=a,priv-key=b,sign-method=RS256"}, "--auth-token"},
		{[]string{"--force-new-cluster"}, "--force-new-cluster"},
		// The first row of the table wins.
		{[]string{"--proxy", "on", "--cert-file", "/c"}, "--cert-file"},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.args, nil)
		err := c.Unsupported()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: Unsupported() = %v, want nil", tt.args, err)
		case tt.want != "" && (err == nil || err.Error() != "not supported yet: "+tt.want):
			t.Errorf("%q: Unsupported() = %v, want %q", tt.args, err, "not supported yet: "+tt.want)
		}
	}
}

func TestUnsupportedTableNamesFlags(t *testing.T) {
	for _, row := range notYetSupported {
		if _, ok := flagIndex[row.flag]; !ok {
			t.Errorf("row %q names no flag", row.flag)
		}
	}
}
