package v2keys

import (
	"net/http"
	"net/url"
	"testing"
)

func TestParseParamsErrors(t *testing.T) {
	for _, tc := range []struct {
		method, query string
		code          int
	}{
		{"PUT", "ttl=abc", CodeTTLNaN},
		{"PUT", "ttl=-1", CodeTTLNaN},
		{"PUT", "prevIndex=x", CodeIndexNaN},
		{"GET", "wait=true&waitIndex=x", CodeIndexNaN},
		{"GET", "recursive=maybe", CodeInvalidField},
		{"GET", "sorted=", CodeInvalidField},
		{"PUT", "prevExist=nah", CodeInvalidField},
		{"PUT", "dir=2", CodeInvalidField},
		{"PUT", "prevValue=", CodePrevValueRequired},
		{"PUT", "wait=true", CodeInvalidField},
		{"PUT", "refresh=true&value=x&ttl=5", CodeRefreshValue},
		{"PUT", "refresh=true", CodeRefreshTTLRequired},
	} {
		form, _ := url.ParseQuery(tc.query)
		_, err := parseParams(tc.method, form)
		if err == nil || err.Code != tc.code || err.Status() != http.StatusBadRequest {
			t.Errorf("%s %q: got %v, want code %d", tc.method, tc.query, err, tc.code)
		}
	}
}

func TestParseParamsValues(t *testing.T) {
	form, _ := url.ParseQuery("value=v&ttl=&prevExist=false&prevIndex=7&recursive=1&dir=t")
	p, err := parseParams("PUT", form)
	if err != nil {
		t.Fatal(err)
	}
	if p.value != "v" || !p.valueSet || p.ttl != nil || p.prevExist == nil || *p.prevExist || p.prevIndex != 7 || !p.recursive || !p.dir {
		t.Fatalf("got %+v", p)
	}
}

func TestLayout(t *testing.T) {
	if got := ancestors("/a/b/c"); len(got) != 2 || got[0] != "/a" || got[1] != "/a/b" {
		t.Fatalf("ancestors: %v", got)
	}
	if !hidden("/k", "/k/_config/size") || hidden("/_k", "/_k/x") || !hidden("/", "/_x") {
		t.Fatal("hidden")
	}
	if under("/a", "/ab") || !under("/a", "/a/b") || !under("/", "/x") {
		t.Fatal("under")
	}
	if k, ok := v2Key([]byte(v3Key("/a/b"))); !ok || k != "/a/b" {
		t.Fatal("v2Key")
	}
}

// FuzzParseParams checks that no query makes the parser panic and that
// every rejection is a v2 request error.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"ttl=5", "prevExist=true&prevValue=a", "wait=true&waitIndex=9", "refresh=true&ttl=", "%zz", "dir=true&recursive=false&sorted=1"} {
		f.Add("PUT", s)
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, query string) {
		form, _ := url.ParseQuery(query)
		_, err := parseParams(method, form)
		if err != nil && (err.Code < 200 || err.Code >= 300 || err.Status() != http.StatusBadRequest || err.Message == "") {
			t.Fatalf("%q: non-form error %+v", query, err)
		}
	})
}
