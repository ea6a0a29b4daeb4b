package v2keys

import (
	"path"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Prefix is the v3 key under which the v2 tree lives: v2 node /a/b is the v3
// key Prefix+"/a/b". It starts with a segment no etcd tool uses, so v3 data
// and v2 data cannot collide by accident.
const Prefix = "/_cairn_v2/keys"

// Kinds and actions are the first two bytes of a stored value (see doc.go).
const (
	kindFile = 'f'
	kindDir  = 'd'

	actSet      = 's'
	actCreate   = 'c'
	actUpdate   = 'u'
	actCAS      = 'w'
	actImplicit = 'i' // a parent dir created on the way: no v2 event
	actRefresh  = 'r' // a TTL refresh: no v2 event
)

// actionNames turns the stored action byte into the v2 action of the event
// that wrote the value.
var actionNames = map[byte]string{
	actSet:    "set",
	actCreate: "create",
	actUpdate: "update",
	actCAS:    "compareAndSwap",
}

// cleanKey turns a request path (after /v2/keys) into a v2 key: absolute,
// without a trailing slash, "." and ".." resolved.
func cleanKey(p string) string { return path.Clean("/" + p) }

// v3Key is the v3 key of v2 node k.
func v3Key(k string) string {
	if k == "/" {
		return Prefix
	}
	return Prefix + k
}

// childPrefix is the v3 prefix of every node below k.
func childPrefix(k string) string {
	if k == "/" {
		return Prefix + "/"
	}
	return Prefix + k + "/"
}

// v2Key is the inverse of v3Key; ok is false for keys outside Prefix.
func v2Key(k []byte) (string, bool) {
	s := string(k)
	if s == Prefix {
		return "/", true
	}
	if !strings.HasPrefix(s, Prefix+"/") {
		return "", false
	}
	return s[len(Prefix):], true
}

// ancestors lists the directories above k, outermost first ("/" excluded:
// the root always exists and has no v3 key).
func ancestors(k string) []string {
	var out []string
	for i := 1; i < len(k); i++ {
		if k[i] == '/' {
			out = append(out, k[:i])
		}
	}
	return out
}

// hidden reports whether key, seen from a watch or listing of base, passes
// through a segment that starts with "_".
func hidden(base, key string) bool {
	if len(key) <= len(base) {
		return false
	}
	rel := key[len(base):]
	if base == "/" {
		rel = key
	}
	return strings.Contains(rel, "/_")
}

// under reports whether key is base or below it.
func under(base, key string) bool {
	if base == "/" || key == base {
		return true
	}
	return strings.HasPrefix(key, base+"/")
}

// encode builds a stored value.
func encode(kind, act byte, value string) string {
	return string([]byte{kind, act}) + value
}

// decoded is a stored value taken apart. Values that were not written by
// this package (someone used v3 directly under Prefix) read as files holding
// the raw bytes, so they stay visible rather than break listings.
type decoded struct {
	dir    bool
	act    byte
	value  string
	exists bool
}

func decode(kv *mvccpb.KeyValue) decoded {
	if kv == nil {
		return decoded{}
	}
	v := kv.Value
	if len(v) >= 2 && (v[0] == kindFile || v[0] == kindDir) {
		return decoded{dir: v[0] == kindDir, act: v[1], value: string(v[2:]), exists: true}
	}
	return decoded{value: string(v), exists: true}
}
