package config

import (
	"reflect"
	"testing"
)

func TestInitialClusterMap(t *testing.T) {
	tests := []struct {
		cluster string
		want    map[string][]string
		err     string
	}{
		{"default=http://localhost:2380", map[string][]string{"default": {"http://localhost:2380"}}, ""},
		{"infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380",
			map[string][]string{"infra0": {"http://10.0.1.10:2380"}, "infra1": {"http://10.0.1.11:2380"}, "infra2": {"http://10.0.1.12:2380"}}, ""},
		{"a=http://10.0.0.2:2380,b=http://10.0.0.3:2380,a=http://10.0.0.1:2380",
			map[string][]string{"a": {"http://10.0.0.1:2380", "http://10.0.0.2:2380"}, "b": {"http://10.0.0.3:2380"}}, ""},
		{",a=http://10.0.0.1:2380,,", map[string][]string{"a": {"http://10.0.0.1:2380"}}, ""},
		{"", map[string][]string{}, ""},
		{"a=http://127.0.0.1:23800,b=http://127.0.0.1:23800", nil,
			"initial cluster a=http://127.0.0.1:23800,b=http://127.0.0.1:23800 has duplicate url"},
		{"b=http://127.0.0.1:1,a=http://127.0.0.1:1", nil,
			"initial cluster a=http://127.0.0.1:1,b=http://127.0.0.1:1 has duplicate url"},
		{"a=http://127.0.0.1:1,a=http://127.0.0.1:1", nil,
			"initial cluster a=http://127.0.0.1:1,a=http://127.0.0.1:1 has duplicate url"},
		{"a=foo", nil, "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: foo"},
		{"a", nil, "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: "},
		{"a=http://10.0.0.1", nil, `error setting up initial cluster: URL address does not have the form "host:port": http://10.0.0.1`},
		{"a=http://10.0.0.1:2380/p", nil, "error setting up initial cluster: URL must not contain a path: http://10.0.0.1:2380/p"},
	}
	for _, tt := range tests {
		c := &Config{InitialCluster: tt.cluster}
		got, err := c.InitialClusterMap()
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err = %v, want %q", tt.cluster, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.cluster, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.cluster, got, tt.want)
		}
	}
}
