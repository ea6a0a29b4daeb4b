package bootstrap

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/membership"
)

func TestMembersRoundTripEtcdLayout(t *testing.T) {
	ms := []*membership.Member{
		{ID: 3319814642761637952, Name: "a", PeerURLs: []string{"http://127.0.0.1:23800"}, ClientURLs: []string{"http://127.0.0.1:23790"}},
		{ID: 42, PeerURLs: []string{"http://127.0.0.1:1"}, IsLearner: true},
	}
	var buf bytes.Buffer
	if err := EncodeMembers(&buf, ms); err != nil {
		t.Fatal(err)
	}
	// etcd 3.4's exact bytes for the first member (decimal ID, this order).
	want := `[{"id":3319814642761637952,"peerURLs":["http://127.0.0.1:23800"],"name":"a","clientURLs":["http://127.0.0.1:23790"]},{"id":42,"peerURLs":["http://127.0.0.1:1"],"isLearner":true}]`
	if got := strings.TrimSpace(buf.String()); got != want {
		t.Fatalf("encoded\n%s\nwant\n%s", got, want)
	}
	back, err := DecodeMembers(&buf)
	if err != nil || len(back) != 2 || back[0].ID != ms[0].ID || !back[1].IsLearner || back[0].Name != "a" {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

func TestJoinAssignsRemoteID(t *testing.T) {
	cluster := map[string][]string{
		"m0": {"http://127.0.0.1:1"}, "m1": {"http://127.0.0.1:2"}, "new": {"http://127.0.0.1:3"},
	}
	remote := &RemoteCluster{ID: 7, Members: []*membership.Member{
		{ID: 10, Name: "m0", PeerURLs: []string{"http://127.0.0.1:1"}},
		{ID: 11, Name: "m1", PeerURLs: []string{"http://127.0.0.1:2"}},
		{ID: 12, PeerURLs: []string{"http://127.0.0.1:3"}},
	}}
	self, err := Join(context.Background(), nil, "new", cluster, []string{"http://127.0.0.1:3"}, remote)
	if err != nil || self.ID != 12 || self.Name != "new" {
		t.Fatalf("Join = %+v, %v", self, err)
	}
	for _, tc := range []struct {
		name    string
		cluster map[string][]string
		want    string
	}{
		{"fewer", map[string][]string{"m0": {"http://127.0.0.1:1"}, "new": {"http://127.0.0.1:3"}}, "member count is unequal"},
		{"other URL", map[string][]string{"m0": {"http://127.0.0.1:1"}, "m1": {"http://127.0.0.1:9"}, "new": {"http://127.0.0.1:3"}}, "unmatched member while checking PeerURLs"},
		{"not listed", map[string][]string{"m0": {"http://127.0.0.1:1"}, "m1": {"http://127.0.0.1:2"}, "x": {"http://127.0.0.1:3"}}, "new not listed in the initial cluster config"},
	} {
		if _, err := Join(context.Background(), nil, "new", tc.cluster, []string{"http://127.0.0.1:3"}, remote); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestFetchClusterTriesEachPeer(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != MembersPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set(HeaderClusterID, "acccc8912db0cd57")
		EncodeMembers(w, []*membership.Member{{ID: 1, PeerURLs: []string{"http://127.0.0.1:1"}}})
	}))
	defer good.Close()
	bad := httptest.NewServer(http.NotFoundHandler())
	defer bad.Close()
	rc, err := FetchCluster(context.Background(), http.DefaultClient, []string{bad.URL, "http://127.0.0.1:1", good.URL})
	if err != nil || rc.ID != 0xacccc8912db0cd57 || len(rc.Members) != 1 {
		t.Fatalf("FetchCluster = %+v, %v", rc, err)
	}
	if _, err := FetchCluster(context.Background(), http.DefaultClient, []string{bad.URL}); err == nil ||
		!strings.HasPrefix(err.Error(), "cannot fetch cluster info from peer urls") {
		t.Fatalf("all peers bad: %v", err)
	}
}

func FuzzDecodeMembers(f *testing.F) {
	f.Add([]byte(`[{"id":1,"peerURLs":["http://a:1"],"name":"a"}]`))
	f.Add([]byte(`[{"id":0}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := DecodeMembers(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.ID == 0 || len(m.PeerURLs) == 0 {
				t.Fatalf("accepted member %+v", m)
			}
		}
	})
}
