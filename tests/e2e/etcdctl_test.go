package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/tests/framework"
)

// TestEtcdctl drives the binary under test with Debian's etcdctl 3.4 and
// checks what it prints. The subtests share one member and run in order.
func TestEtcdctl(t *testing.T) {
	bin := framework.Etcdctl(t)
	m := framework.StartMember(t, framework.MemberConfig{Name: "ctl0", Token: "cairn-etcdctl"})
	c := etcdctl{t: t, bin: bin, endpoint: m.Endpoint()}
	wantID := memberID([]string{m.PeerURL()}, m.Config().Token)

	// Each subtest uses its own etcdctl bound to the subtest's t.
	sub := func(name string, f func(t *testing.T, c etcdctl)) {
		t.Run(name, func(t *testing.T) {
			c := c
			c.t = t
			f(t, c)
		})
	}

	sub("put get del", func(t *testing.T, c etcdctl) {
		equal(t, c.ok("put", "foo", "bar"), "OK\n")
		equal(t, c.ok("get", "foo"), "foo\nbar\n")
		equal(t, c.ok("put", "foo", "bar2", "--prev-kv"), "OK\nfoo\nbar\n")
		equal(t, c.ok("get", "missing"), "")

		var resp getJSON
		c.okJSON(&resp, "get", "foo")
		if resp.Count != 1 || len(resp.Kvs) != 1 || string(resp.Kvs[0].Key) != "foo" || string(resp.Kvs[0].Value) != "bar2" ||
			resp.Kvs[0].Version != 2 || resp.Kvs[0].ModRevision != resp.Header.Revision {
			t.Errorf("get foo -w json = %+v", resp)
		}
		if resp.Header.MemberID != wantID || resp.Header.ClusterID != clusterID(wantID) {
			t.Errorf("header IDs = member %x cluster %x, want %x %x", resp.Header.MemberID, resp.Header.ClusterID, wantID, clusterID(wantID))
		}
		fooRev := resp.Header.Revision

		for _, kv := range [][2]string{{"p/b", "2"}, {"p/a", "1"}, {"p/c", "3"}} {
			c.ok("put", kv[0], kv[1])
		}
		equal(t, c.ok("get", "p/", "--prefix"), "p/a\n1\np/b\n2\np/c\n3\n")
		equal(t, c.ok("get", "p/", "--prefix", "--keys-only"), "p/a\n\np/b\n\np/c\n\n")
		equal(t, c.ok("get", "p/", "--prefix", "--print-value-only"), "1\n2\n3\n")
		equal(t, c.ok("get", "p/", "--prefix", "--limit=2", "--sort-by=CREATE", "--order=DESCEND"), "p/c\n3\np/a\n1\n")
		equal(t, c.ok("get", "p/a", "p/c"), "p/a\n1\np/b\n2\n")
		equal(t, c.ok("get", "p/b", "--from-key", "--keys-only"), "p/b\n\np/c\n\n")
		contains(t, c.ok("get", "p/", "--prefix", "-w", "fields"), "\"Count\" : 3\n")
		equal(t, c.ok("get", "foo", "--rev="+strconv.FormatInt(fooRev-1, 10)), "foo\nbar\n")

		equal(t, c.ok("del", "foo"), "1\n")
		equal(t, c.ok("del", "foo"), "0\n")
		equal(t, c.ok("del", "p/a", "--prev-kv"), "1\np/a\n1\n")
		equal(t, c.ok("del", "p/", "--prefix"), "2\n")
		equal(t, c.ok("get", "p/", "--prefix"), "")
	})

	sub("txn interactive", func(t *testing.T, c etcdctl) {
		c.ok("put", "tx/k", "v")
		out := c.okIn("value(\"tx/k\") = \"v\"\nmod(\"tx/k\") > \"0\"\n\nput tx/ok yes\nget tx/k\n\nput tx/bad yes\n\n", "txn", "-i")
		contains(t, out, "compares:", "success requests (get, put, del):", "failure requests (get, put, del):")
		contains(t, out, "SUCCESS\n\nOK\n\ntx/k\nv\n")
		equal(t, c.ok("get", "tx/", "--prefix", "--keys-only"), "tx/k\n\ntx/ok\n\n")

		out = c.okIn("version(\"tx/k\") = \"5\"\n\nput tx/ok again\n\nput tx/bad yes\ndel tx/k\n\n", "txn", "-i")
		contains(t, out, "FAILURE\n\nOK\n\n1\n")
		equal(t, c.ok("get", "tx/", "--prefix"), "tx/bad\nyes\ntx/ok\nyes\n")

		var resp struct {
			Header    headerJSON `json:"header"`
			Succeeded bool       `json:"succeeded"`
		}
		out = c.okIn("create(\"tx/none\") = \"0\"\n\nput tx/new 1\n\n\n", "txn", "-w", "json")
		if err := json.Unmarshal([]byte(out), &resp); err != nil || !resp.Succeeded || resp.Header.Revision == 0 {
			t.Errorf("txn -w json = %q (%v)", out, err)
		}
	})

	sub("watch", func(t *testing.T, c etcdctl) {
		first := revisionOf(t, c, "put", "w/a", "1")
		c.ok("put", "w/a", "2")
		c.ok("del", "w/a")
		// History first: once it has arrived the watch is established, so
		// the live put below cannot be missed.
		w := c.start("watch", "--prefix", "w/", "--rev="+strconv.FormatInt(first, 10), "--prev-kv")
		w.expect(t, 30*time.Second,
			"PUT", "w/a", "1",
			"PUT", "w/a", "1", "w/a", "2",
			"DELETE", "w/a", "2", "w/a", "")
		c.ok("put", "w/b", "live")
		w.expect(t, 30*time.Second, "PUT", "w/b", "live")

		j := c.start("watch", "w/a", "--rev="+strconv.FormatInt(first, 10), "-w", "json")
		var kinds []string
		for len(kinds) < 3 {
			var resp struct {
				Events []struct {
					Type int `json:"type"`
					Kv   struct {
						Key   []byte `json:"key"`
						Value []byte `json:"value"`
					} `json:"kv"`
				} `json:"Events"`
			}
			line := nextLine(t, j, 30*time.Second)
			if err := json.Unmarshal([]byte(line), &resp); err != nil {
				t.Fatalf("watch -w json printed %q: %v", line, err)
			}
			for _, ev := range resp.Events {
				kinds = append(kinds, fmt.Sprintf("%d %s=%s", ev.Type, ev.Kv.Key, ev.Kv.Value))
			}
		}
		equal(t, strings.Join(kinds, ","), "0 w/a=1,0 w/a=2,1 w/a=")
	})

	sub("lease", func(t *testing.T, c etcdctl) {
		out := c.ok("lease", "grant", "60")
		mm := regexp.MustCompile(`^lease ([0-9a-f]+) granted with TTL\(60s\)\n$`).FindStringSubmatch(out)
		if mm == nil {
			t.Fatalf("lease grant printed %q", out)
		}
		id := mm[1]
		c.ok("put", "--lease="+id, "l/k", "v")
		equal(t, c.ok("lease", "keep-alive", "--once", id), "lease "+id+" keepalived with TTL(60)\n")
		out = c.ok("lease", "timetolive", id, "--keys")
		if !regexp.MustCompile(`^lease ` + id + ` granted with TTL\(60s\), remaining\((5[5-9]|60)s\), attached keys\(\[l/k\]\)\n$`).MatchString(out) {
			t.Errorf("lease timetolive --keys printed %q", out)
		}
		var ttl struct {
			ID         int64    `json:"id"`
			TTL        int64    `json:"ttl"`
			GrantedTTL int64    `json:"granted-ttl"`
			Keys       [][]byte `json:"keys"`
		}
		c.okJSON(&ttl, "lease", "timetolive", id, "--keys")
		// etcdctl prints IDs zero-padded to 16 hex digits; compare numbers.
		if idNum, err := strconv.ParseUint(id, 16, 64); err != nil || uint64(ttl.ID) != idNum || ttl.GrantedTTL != 60 || ttl.TTL < 55 || ttl.TTL > 60 ||
			len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "l/k" {
			t.Errorf("lease timetolive -w json = %+v", ttl)
		}
		out = c.ok("lease", "list")
		if !strings.HasPrefix(out, "found 1 leases\n") || !strings.Contains(out, "\n"+id+"\n") {
			t.Errorf("lease list printed %q", out)
		}
		equal(t, c.ok("lease", "revoke", id), "lease "+id+" revoked\n")
		equal(t, c.ok("get", "l/k"), "")
		contains(t, c.fails("lease", "revoke", id), "etcdserver: requested lease not found")
		equal(t, c.ok("lease", "timetolive", id), "lease "+id+" already expired\n")
		equal(t, c.ok("lease", "list"), "found 0 leases\n")
	})

	sub("compaction", func(t *testing.T, c etcdctl) {
		old := revisionOf(t, c, "put", "c/k", "1")
		cur := revisionOf(t, c, "put", "c/k", "2")
		equal(t, c.ok("compaction", strconv.FormatInt(cur, 10)), fmt.Sprintf("compacted revision %d\n", cur))
		contains(t, c.fails("compaction", strconv.FormatInt(cur, 10)), "etcdserver: mvcc: required revision has been compacted")
		contains(t, c.fails("get", "c/k", "--rev="+strconv.FormatInt(old, 10)), "etcdserver: mvcc: required revision has been compacted")
		equal(t, c.ok("get", "c/k", "--rev="+strconv.FormatInt(cur, 10)), "c/k\n2\n")
		next := revisionOf(t, c, "put", "c/k", "3")
		equal(t, c.ok("compaction", "--physical", strconv.FormatInt(next, 10)), fmt.Sprintf("compacted revision %d\n", next))
		contains(t, c.fails("compaction", strconv.FormatInt(next+100, 10)), "etcdserver: mvcc: required revision is a future revision")
	})

	sub("member list", func(t *testing.T, c etcdctl) {
		equal(t, c.ok("member", "list"),
			fmt.Sprintf("%s, started, ctl0, %s, %s, false\n", hexID(wantID), m.PeerURL(), m.ClientURL()))
		var resp struct {
			Header  headerJSON `json:"header"`
			Members []struct {
				ID         uint64   `json:"ID"`
				Name       string   `json:"name"`
				PeerURLs   []string `json:"peerURLs"`
				ClientURLs []string `json:"clientURLs"`
				IsLearner  bool     `json:"isLearner"`
			} `json:"members"`
		}
		c.okJSON(&resp, "member", "list")
		if len(resp.Members) != 1 {
			t.Fatalf("member list -w json = %+v", resp)
		}
		mb := resp.Members[0]
		if mb.ID != wantID || mb.Name != "ctl0" || fmt.Sprint(mb.PeerURLs) != "["+m.PeerURL()+"]" ||
			fmt.Sprint(mb.ClientURLs) != "["+m.ClientURL()+"]" || mb.IsLearner {
			t.Errorf("member list -w json member = %+v", mb)
		}
		if resp.Header.ClusterID != clusterID(wantID) || resp.Header.MemberID != wantID {
			t.Errorf("member list header = %+v", resp.Header)
		}
	})

	sub("endpoint status", func(t *testing.T, c etcdctl) {
		out := c.ok("endpoint", "status")
		fields := strings.Split(strings.TrimSuffix(out, "\n"), ", ")
		// endpoint, ID, version, db size, is leader, is learner, raft term,
		// raft index, raft applied index, errors
		if len(fields) != 10 || fields[0] != m.Endpoint() || fields[1] != hexID(wantID) ||
			fields[4] != "true" || fields[5] != "false" {
			t.Errorf("endpoint status printed %q", out)
		}
		var resp []struct {
			Endpoint string `json:"Endpoint"`
			Status   struct {
				Header           headerJSON `json:"header"`
				Version          string     `json:"version"`
				DbSize           int64      `json:"dbSize"`
				Leader           uint64     `json:"leader"`
				RaftIndex        uint64     `json:"raftIndex"`
				RaftTerm         uint64     `json:"raftTerm"`
				RaftAppliedIndex uint64     `json:"raftAppliedIndex"`
			} `json:"Status"`
		}
		c.okJSON(&resp, "endpoint", "status")
		if len(resp) != 1 {
			t.Fatalf("endpoint status -w json = %+v", resp)
		}
		st := resp[0].Status
		if resp[0].Endpoint != m.Endpoint() || st.Leader != wantID || st.Header.MemberID != wantID ||
			st.RaftTerm == 0 || st.RaftTerm != st.Header.RaftTerm || st.RaftIndex == 0 ||
			st.RaftAppliedIndex > st.RaftIndex || st.DbSize <= 0 || st.Version == "" {
			t.Errorf("endpoint status -w json = %+v", resp[0])
		}
	})

	sub("endpoint health", func(t *testing.T, c etcdctl) {
		stdout, stderr, err := c.run("", "endpoint", "health")
		if err != nil {
			t.Fatalf("endpoint health: %v\n%s%s", err, stdout, stderr)
		}
		// etcdctl 3.4 prints the verdict on stderr.
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m.Endpoint()) + ` is healthy: successfully committed proposal: took = \S+$`).MatchString(stdout + stderr) {
			t.Errorf("endpoint health printed %q", stdout+stderr)
		}
		var resp []struct {
			Endpoint string `json:"endpoint"`
			Health   bool   `json:"health"`
			Error    string `json:"error"`
		}
		c.okJSON(&resp, "endpoint", "health")
		if len(resp) != 1 || resp[0].Endpoint != m.Endpoint() || !resp[0].Health || resp[0].Error != "" {
			t.Errorf("endpoint health -w json = %+v", resp)
		}
	})
}

type headerJSON struct {
	ClusterID uint64 `json:"cluster_id"`
	MemberID  uint64 `json:"member_id"`
	Revision  int64  `json:"revision"`
	RaftTerm  uint64 `json:"raft_term"`
}

type getJSON struct {
	Header headerJSON `json:"header"`
	Kvs    []struct {
		Key            []byte `json:"key"`
		Value          []byte `json:"value"`
		CreateRevision int64  `json:"create_revision"`
		ModRevision    int64  `json:"mod_revision"`
		Version        int64  `json:"version"`
	} `json:"kvs"`
	Count int64 `json:"count"`
}

// revisionOf runs a write with -w json and returns its header revision.
func revisionOf(t *testing.T, c etcdctl, args ...string) int64 {
	t.Helper()
	var resp struct {
		Header headerJSON `json:"header"`
	}
	c.okJSON(&resp, args...)
	if resp.Header.Revision == 0 {
		t.Fatalf("etcdctl %s: no revision in the header", strings.Join(args, " "))
	}
	return resp.Header.Revision
}

func nextLine(t *testing.T, s *ctlStream, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			t.Fatalf("etcdctl exited\nstderr:\n%s", s.stderr)
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("no output from etcdctl within %v\nstderr:\n%s", timeout, s.stderr)
	}
	return ""
}

func equal(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%q does not contain %q", got, w)
		}
	}
}
