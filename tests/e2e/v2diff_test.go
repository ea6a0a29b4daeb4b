package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
)

// v2Step is one request of the v2 differential script.
type v2Step struct {
	method, path string
	form         url.Values
}

var inOrderKey = regexp.MustCompile(`/\d{20}`)

// normalizeV2 clears what legitimately differs between etcd's v2 store and
// Cairn's emulation: indexes (v3 revisions vs v2 store indexes),
// expirations, and in-order key names (which are indexes).
func normalizeV2(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "createdIndex", "modifiedIndex", "index":
				x[k] = "N"
			case "expiration":
				x[k] = "T"
			case "key", "cause":
				if s, ok := e.(string); ok {
					x[k] = inOrderKey.ReplaceAllString(s, "/N")
				}
			default:
				x[k] = normalizeV2(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = normalizeV2(x[i])
		}
	}
	return v
}

func runV2Script(t *testing.T, base string, steps []v2Step) []string {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	var out []string
	for _, s := range steps {
		var body io.Reader
		if s.form != nil {
			body = strings.NewReader(s.form.Encode())
		}
		req, err := http.NewRequest(s.method, base+"/v2/keys"+s.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if s.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", s.method, s.path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		norm := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &v) == nil {
			b, _ := json.Marshal(normalizeV2(v))
			norm = string(b)
		}
		out = append(out, fmt.Sprintf("%s %s -> %d %s", s.method, s.path, resp.StatusCode, norm))
	}
	return out
}

// TestV2Differential runs one script of v2 keys requests against Debian's
// etcd 3.4 (with --enable-v2) and against Cairn, and compares status codes
// and bodies with indexes and expirations cleared.
func TestV2Differential(t *testing.T) {
	ref := framework.ReferenceEtcd(t)
	f := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	steps := []v2Step{
		{"PUT", "/a/b", f("value", "1")},
		{"GET", "/a/b", nil},
		{"GET", "/", nil},
		{"GET", "/a?recursive=true", nil},
		{"PUT", "/a/b?prevExist=false", f("value", "2")},
		{"PUT", "/a/b?prevValue=9", f("value", "2")},
		{"PUT", "/a/b?prevValue=1", f("value", "2")},
		{"PUT", "/a/b?prevExist=true", f("value", "3")},
		{"PUT", "/nope?prevExist=true", f("value", "x")},
		{"PUT", "/dir?dir=true", nil},
		{"GET", "/dir", nil},
		{"PUT", "/a/b/c", f("value", "x")},
		{"PUT", "/", f("value", "1")},
		{"DELETE", "/a", nil},
		{"DELETE", "/a?dir=true", nil},
		{"DELETE", "/dir?dir=true", nil},
		{"DELETE", "/a?recursive=true", nil},
		{"GET", "/a", nil},
		{"PUT", "/x?ttl=abc", f("value", "2")},
		{"PUT", "/x?prevIndex=abc", f("value", "2")},
		{"POST", "/queue", f("value", "j1")},
		{"POST", "/queue", f("value", "j2")},
		{"GET", "/queue?sorted=true&recursive=true", nil},
		{"PUT", "/c", f("value", "1")},
		{"DELETE", "/c?prevValue=2", nil},
		{"DELETE", "/c?prevValue=1", nil},
		{"PUT", "/_hidden", f("value", "h")},
		{"GET", "/_hidden", nil},
		{"GET", "/", nil},
		{"PUT", "/t?ttl=100", f("value", "v")},
		{"GET", "/t", nil},
		{"PUT", "/t?prevExist=true&ttl=", f("value", "w")},
		{"GET", "/t", nil},
		{"PUT", "/t?noValueOnSuccess=true", f("value", "z")},
		{"DELETE", "/nope", nil},
	}
	run := func(bin string, extra ...string) []string {
		m := framework.StartMember(t, framework.MemberConfig{Bin: bin, Args: extra})
		defer m.Stop()
		return runV2Script(t, m.ClientURL(), steps)
	}
	want := run(ref, "--enable-v2=true")
	got := run(framework.Binary(t))
	var diffs []string
	for i := range want {
		if got[i] != want[i] {
			diffs = append(diffs, fmt.Sprintf("step %d:\n  etcd:  %s\n  cairn: %s", i, want[i], got[i]))
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%d of %d v2 steps differ from etcd 3.4:\n%s", len(diffs), len(want), strings.Join(diffs, "\n"))
	}
	if os.Getenv("CAIRN_V2_SHOW") != "" {
		t.Logf("transcript:\n%s", strings.Join(got, "\n"))
	}
}
