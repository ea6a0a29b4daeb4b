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
		{[]string{"--listen-client-http-urls", "http://127.0.0.1:2382"}, "--listen-client-http-urls"},
		{[]string{"--discovery", "http://d.example:80/t"}, ""},
		{[]string{"--discovery", "http://d.example:80/t", "--discovery-fallback", "proxy"}, "--discovery-fallback"},
		{[]string{"--discovery-srv", "example.com", "--discovery-srv-name", "x"}, ""},       // DNS SRV
		{[]string{"--discovery-endpoints", "127.0.0.1:2379", "--discovery-token", "t"}, ""}, // v3 discovery
		{[]string{"--proxy", "readonly"}, "--proxy"},
		{[]string{"--initial-cluster", "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"}, ""}, // static clusters over http are supported
		{[]string{"--auth-token", "jwt,pub-key=a,priv-key=b,sign-method=RS256"}, "--auth-token"},
		{[]string{"--force-new-cluster"}, "--force-new-cluster"},
		// TLS flags and https/unix/unixs URLs are supported.
		{[]string{"--cert-file", "/c", "--peer-auto-tls", "--listen-peer-urls", "https://127.0.0.1:2380", "--initial-cluster", "default=https://127.0.0.1:2380"}, ""},
		{[]string{"--listen-client-urls", "unix://localhost:4001", "--advertise-client-urls", "unixs://localhost:4001"}, ""},
		// The first row of the table wins.
		{[]string{"--proxy", "on", "--listen-client-http-urls", "http://127.0.0.1:2382"}, "--listen-client-http-urls"},
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
