package e2e

import (
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// scriptPut covers Put: prev_kv, ignore_value, ignore_lease, and the errors
// of each, on keys of many shapes.
func scriptPut(s *session) {
	s.do("put: get a missing key on a fresh store", clientv3.OpGet("foo"))
	s.do("put: new key", clientv3.OpPut("foo", "bar"))
	s.do("put: overwrite with prev_kv", clientv3.OpPut("foo", "bar2", clientv3.WithPrevKV()))
	s.do("put: same value again, prev_kv", clientv3.OpPut("foo", "bar2", clientv3.WithPrevKV()))
	s.do("put: prev_kv of a new key", clientv3.OpPut("new", "1", clientv3.WithPrevKV()))
	s.do("put: ignore_value keeps the value", clientv3.OpPut("foo", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV()))
	s.do("put: ignore_value with a value", clientv3.OpPut("foo", "x", clientv3.WithIgnoreValue()))
	s.do("put: ignore_value on a missing key", clientv3.OpPut("nokey", "", clientv3.WithIgnoreValue()))
	s.do("put: ignore_lease on a key without lease", clientv3.OpPut("foo", "bar3", clientv3.WithIgnoreLease(), clientv3.WithPrevKV()))
	s.do("put: ignore_lease with a lease", clientv3.OpPut("foo", "bar4", clientv3.WithIgnoreLease(), clientv3.WithLease(12345)))
	s.do("put: ignore_value and ignore_lease on a missing key", clientv3.OpPut("nokey", "", clientv3.WithIgnoreValue(), clientv3.WithIgnoreLease()))
	s.do("put: empty key", clientv3.OpPut("", "v"))
	s.do("put: unknown lease", clientv3.OpPut("foo", "v", clientv3.WithLease(999)))
	s.do("put: empty value", clientv3.OpPut("empty", ""))
	s.do("put: binary key and value", clientv3.OpPut("bin\x00\xff", "\x00\x01\xfe"))
	s.do("put: unicode key and value", clientv3.OpPut("ключ/ü", "значение ✓"))
	s.do("put: 64 KiB value", clientv3.OpPut("big", strings.Repeat("0123456789abcdef", 4096)))
	s.do("put: get of every shape", clientv3.OpGet("\x00", clientv3.WithFromKey()))
	s.do("put: get the 64 KiB value's size", clientv3.OpGet("big", clientv3.WithKeysOnly()))
}

// scriptRange fills s/a…s/e so that every sort target gives a different
// order, then ranges with every option.
func scriptRange(s *session) {
	start := s.rev()
	// Create order c a e b d; final versions b1 c2 a3 d4 e5; last
	// modifications b a d e c; final values c<e<a<d<b.
	for _, kv := range [][2]string{
		{"c", "c1"}, {"a", "a1"}, {"e", "e1"}, {"b", "z"}, {"d", "d1"},
		{"e", "e2"}, {"e", "e3"}, {"d", "d2"}, {"a", "a2"}, {"e", "e4"},
		{"d", "d3"}, {"a", "m"}, {"d", "q"}, {"e", "f"}, {"c", "b"},
	} {
		s.do("range: fill s/"+kv[0]+"="+kv[1], clientv3.OpPut("s/"+kv[0], kv[1]))
	}
	created := start + 5 // all five keys exist from here
	middle := start + 10 // five updates later
	prefix := clientv3.WithPrefix()

	s.do("range: prefix", clientv3.OpGet("s/", prefix))
	s.do("range: limit 2", clientv3.OpGet("s/", prefix, clientv3.WithLimit(2)))
	s.do("range: limit equal to count", clientv3.OpGet("s/", prefix, clientv3.WithLimit(5)))
	targets := []struct {
		name string
		t    clientv3.SortTarget
	}{
		{"key", clientv3.SortByKey}, {"version", clientv3.SortByVersion},
		{"create", clientv3.SortByCreateRevision}, {"mod", clientv3.SortByModRevision},
		{"value", clientv3.SortByValue},
	}
	orders := []struct {
		name string
		o    clientv3.SortOrder
	}{{"none", clientv3.SortNone}, {"ascend", clientv3.SortAscend}, {"descend", clientv3.SortDescend}}
	for _, tg := range targets {
		for _, or := range orders {
			s.do("range: sort by "+tg.name+" "+or.name, clientv3.OpGet("s/", prefix, clientv3.WithSort(tg.t, or.o)))
		}
	}
	s.do("range: sort by mod descend, limit 2", clientv3.OpGet("s/", prefix, clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(2)))
	s.do("range: sort by value ascend, limit 3", clientv3.OpGet("s/", prefix, clientv3.WithSort(clientv3.SortByValue, clientv3.SortAscend), clientv3.WithLimit(3)))
	s.do("range: keys_only", clientv3.OpGet("s/", prefix, clientv3.WithKeysOnly()))
	s.do("range: count_only", clientv3.OpGet("s/", prefix, clientv3.WithCountOnly()))
	s.do("range: count_only with limit", clientv3.OpGet("s/", prefix, clientv3.WithCountOnly(), clientv3.WithLimit(1)))
	s.do("range: keys_only, limit 1", clientv3.OpGet("s/", prefix, clientv3.WithKeysOnly(), clientv3.WithLimit(1)))
	s.do("range: serializable", clientv3.OpGet("s/", prefix, clientv3.WithSerializable()))
	s.do("range: serializable single key", clientv3.OpGet("s/c", clientv3.WithSerializable()))
	s.do("range: min_mod_revision", clientv3.OpGet("s/", prefix, clientv3.WithMinModRev(start+12)))
	s.do("range: max_mod_revision", clientv3.OpGet("s/", prefix, clientv3.WithMaxModRev(start+12)))
	s.do("range: min_create_revision", clientv3.OpGet("s/", prefix, clientv3.WithMinCreateRev(start+3)))
	s.do("range: max_create_revision", clientv3.OpGet("s/", prefix, clientv3.WithMaxCreateRev(start+3)))
	s.do("range: min and max mod revision", clientv3.OpGet("s/", prefix, clientv3.WithMinModRev(start+11), clientv3.WithMaxModRev(start+14)))
	s.do("range: min_mod_revision with limit 1", clientv3.OpGet("s/", prefix, clientv3.WithMinModRev(start+12), clientv3.WithLimit(1)))
	s.do("range: from key", clientv3.OpGet("s/c", clientv3.WithFromKey()))
	s.do("range: from key, keys_only, limit 4", clientv3.OpGet("s/c", clientv3.WithFromKey(), clientv3.WithKeysOnly(), clientv3.WithLimit(4)))
	s.do("range: all keys, count_only", clientv3.OpGet("", clientv3.WithFromKey(), clientv3.WithCountOnly()))
	s.do("range: [s/b, s/d)", clientv3.OpGet("s/b", clientv3.WithRange("s/d")))
	s.do("range: empty range [s/d, s/b)", clientv3.OpGet("s/d", clientv3.WithRange("s/b")))
	s.do("range: prefix matching nothing", clientv3.OpGet("nothing/", prefix))
	s.do("range: at a past revision (after the creates)", clientv3.OpGet("s/", prefix, clientv3.WithRev(created)))
	s.do("range: at a past revision, sorted by version descend", clientv3.OpGet("s/", prefix, clientv3.WithRev(middle), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortDescend)))
	s.do("range: single key before it existed", clientv3.OpGet("s/d", clientv3.WithRev(start+1)))
	s.do("range: at a past revision, count_only", clientv3.OpGet("s/", prefix, clientv3.WithRev(start+3), clientv3.WithCountOnly()))
	s.do("range: at the current revision", clientv3.OpGet("s/a", clientv3.WithRev(start+15)))
	s.do("range: at a future revision", clientv3.OpGet("s/a", clientv3.WithRev(start+1000)))
}

// scriptDelete covers DeleteRange with and without prev_kv.
func scriptDelete(s *session) {
	before := s.rev()
	s.do("delete: one key with prev_kv", clientv3.OpDelete("s/a", clientv3.WithPrevKV()))
	s.do("delete: missing key", clientv3.OpDelete("s/zz", clientv3.WithPrevKV()))
	s.do("delete: [s/b, s/d) with prev_kv", clientv3.OpDelete("s/b", clientv3.WithRange("s/d"), clientv3.WithPrevKV()))
	s.do("delete: prefix without prev_kv", clientv3.OpDelete("s/", clientv3.WithPrefix()))
	s.do("delete: prefix again, nothing left", clientv3.OpDelete("s/", clientv3.WithPrefix()))
	s.do("delete: get the prefix now", clientv3.OpGet("s/", clientv3.WithPrefix()))
	s.do("delete: get the prefix before the deletes", clientv3.OpGet("s/", clientv3.WithPrefix(), clientv3.WithRev(before)))
	s.do("delete: recreate a deleted key", clientv3.OpPut("s/a", "again", clientv3.WithPrevKV()))
	s.do("delete: empty key", clientv3.OpDelete(""))
	s.do("delete: from key s/ with prev_kv", clientv3.OpDelete("s/", clientv3.WithFromKey(), clientv3.WithPrevKV()))
	s.do("delete: get everything left", clientv3.OpGet("\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly()))
}
