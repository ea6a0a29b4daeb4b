package e2e

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestTranscriptRendersFieldsAndErrors(t *testing.T) {
	tr := &transcript{backend: "x"}
	st := tr.add("get")
	st.message("", &pb.RangeResponse{
		Header: &pb.ResponseHeader{ClusterId: 0xabc, MemberId: 0x12, Revision: 7, RaftTerm: 2},
		Kvs: []*mvccpb.KeyValue{
			{Key: []byte("k"), Value: []byte{0xff, 0}, CreateRevision: 3, ModRevision: 7, Version: 2},
			{Key: []byte("big"), Value: []byte(strings.Repeat("v", 200))},
		},
		More:  true,
		Count: 9,
	}, within("count", 5, 10))
	tr.add("err").errorLine(rpctypes.ErrCompacted)
	tr.add("plain").errorLine(errors.New("boom"))
	tr.add("status").message("", &pb.StatusResponse{Version: "3.4.23", Leader: 0x12, RaftIndex: 9}, statusInfo)

	sum := sha256.Sum256([]byte(strings.Repeat("v", 200)))
	want := []string{
		"header = {cluster_id=abc, member_id=12, revision=7, raft_term=2}",
		`kvs[0] = {key="k", create_revision=3, mod_revision=7, version=2, value=0xff00}`,
		fmt.Sprintf(`kvs[1] = {key="big", value=<200 bytes, sha256 %x…>}`, sum[:8]),
		"more = true",
		"count = within [5, 10]",
	}
	if got := tr.steps[0].lines; !slices.Equal(got, want) {
		t.Errorf("rendered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := tr.steps[1].lines; !slices.Equal(l, []string{`error = OutOfRange "etcdserver: mvcc: required revision has been compacted"`}) {
		t.Errorf("etcd error rendered %q", l)
	}
	if l := tr.steps[2].lines; !slices.Equal(l, []string{`error = client-side "boom"`}) {
		t.Errorf("plain error rendered %q", l)
	}
	if l, i := tr.steps[3].lines, tr.steps[3].info; !slices.Equal(l, []string{"leader = 12"}) || len(i) != 2 {
		t.Errorf("status rendered lines %q info %q", l, i)
	}
}

func TestDiffTranscriptsShowsOnlyDifferingSteps(t *testing.T) {
	mk := func(backend string, rev string, extra bool) *transcript {
		tr := &transcript{backend: backend}
		tr.add("same").line("a = 1")
		s := tr.add("put")
		s.line("header = {revision=%s}", rev)
		s.line("prev_kv = {}")
		s.info = append(s.info, "raftIndex = "+rev) // never compared
		if extra {
			tr.add("extra").line("x")
		}
		return tr
	}
	if d := diffTranscripts(mk("a", "5", false), mk("b", "5", false), 10); d != "" {
		t.Errorf("equal transcripts differ:\n%s", d)
	}
	d := diffTranscripts(mk("etcd", "5", false), mk("cairn", "6", true), 10)
	for _, want := range []string{
		"2 of 3 steps differ",
		`step 1 "put" (- etcd, + cairn):`,
		"  - header = {revision=5}",
		"  + header = {revision=6}",
		"    prev_kv = {}",
		`step 2 "extra": only in cairn`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, `"same"`) {
		t.Errorf("diff shows an equal step:\n%s", d)
	}
}
