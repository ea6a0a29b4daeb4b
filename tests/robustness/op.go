package robustness

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Keys is the key set the workload uses; a key is named by its index. The
// names share Prefix and sort in index order, so a prefix range returns
// them in index order.
type Keys []string

// Prefix is the prefix of every key the harness writes and watches.
const Prefix = "/robust/"

// NewKeys returns n keys, Prefix + "key-00" and so on.
func NewKeys(n int) Keys {
	if n > MaxKeys {
		panic(fmt.Sprintf("robustness: %d keys, at most %d", n, MaxKeys))
	}
	ks := make(Keys, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("%skey-%02d", Prefix, i)
	}
	return ks
}

// Index returns the index of key, or -1 when it is not in the set.
func (ks Keys) Index(key string) int { return slices.Index(ks, key) }

// OpKind is the kind of a client call.
type OpKind uint8

// The calls the workload makes.
const (
	// OpGet is a linearizable Get of one key.
	OpGet OpKind = iota + 1
	// OpRange is a linearizable Get of every key under Prefix.
	OpRange
	// OpPut puts a value no other call ever puts.
	OpPut
	// OpDelete deletes one key.
	OpDelete
	// OpTxn is: if Cmp holds for Key, put every Puts (distinct keys, each
	// value unique), else get each key of Puts.
	OpTxn
	// OpSerializableGet is a serializable Get of one key: the member's own
	// state, not checked for linearizability but against the history (see
	// CheckSerializable).
	OpSerializableGet
)

func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "get"
	case OpRange:
		return "range"
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpTxn:
		return "txn"
	case OpSerializableGet:
		return "serializable-get"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// IsWrite reports whether a call of kind k may change the store.
func (k OpKind) IsWrite() bool { return k == OpPut || k == OpDelete || k == OpTxn }

// CmpTarget is what a Txn compares.
type CmpTarget uint8

const (
	// CmpModRev compares the key's mod revision (0 when absent) for
	// equality with Compare.ModRev.
	CmpModRev CmpTarget = iota
	// CmpValue compares the key's value for equality with Compare.Value;
	// as in etcd, it never holds for an absent key.
	CmpValue
)

// Compare is a Txn's condition on Request.Key.
type Compare struct {
	Target CmpTarget
	ModRev int64
	Value  string
}

// KeyValue is a key and the value to put there.
type KeyValue struct {
	Key   int
	Value string
}

// Request is what a client asked.
type Request struct {
	Kind  OpKind
	Key   int        // Get, Put, Delete; the compared key of a Txn
	Value string     // Put
	Cmp   Compare    // Txn
	Puts  []KeyValue // Txn
}

// Values returns the values the request puts.
func (r Request) Values() []string {
	switch r.Kind {
	case OpPut:
		return []string{r.Value}
	case OpTxn:
		vs := make([]string, len(r.Puts))
		for i, p := range r.Puts {
			vs[i] = p.Value
		}
		return vs
	}
	return nil
}

func (r Request) String() string {
	switch r.Kind {
	case OpGet, OpDelete, OpSerializableGet:
		return fmt.Sprintf("%s(k%d)", r.Kind, r.Key)
	case OpRange:
		return "range()"
	case OpPut:
		return fmt.Sprintf("put(k%d, %q)", r.Key, r.Value)
	case OpTxn:
		var cmp string
		if r.Cmp.Target == CmpModRev {
			cmp = fmt.Sprintf("mod(k%d)==%d", r.Key, r.Cmp.ModRev)
		} else {
			cmp = fmt.Sprintf("value(k%d)==%q", r.Key, r.Cmp.Value)
		}
		var puts []string
		for _, p := range r.Puts {
			puts = append(puts, fmt.Sprintf("k%d=%q", p.Key, p.Value))
		}
		return fmt.Sprintf("txn(if %s then put %s)", cmp, strings.Join(puts, ", "))
	}
	return r.Kind.String()
}

// KV is a key's state as a response shows it. ModRev 0 means the key is
// absent (and every other field is then zero but Key).
type KV struct {
	Key       int
	Value     string
	CreateRev int64
	ModRev    int64
	Version   int64
}

func (kv KV) String() string {
	if kv.ModRev == 0 {
		return fmt.Sprintf("k%d absent", kv.Key)
	}
	return fmt.Sprintf("k%d=%q@%d(c%d,v%d)", kv.Key, kv.Value, kv.ModRev, kv.CreateRev, kv.Version)
}

// Response is what a successful call returned.
type Response struct {
	// Revision is the header revision.
	Revision int64
	// KVs: for Get and SerializableGet one entry (absent or not); for Range the present keys in
	// key order; for a Txn that failed its comparison one entry per key of
	// Request.Puts, in that order.
	KVs []KV
	// Deleted is a Delete's deleted count.
	Deleted int64
	// Succeeded is a Txn's comparison result.
	Succeeded bool
}

func (r Response) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rev %d", r.Revision)
	if r.Deleted != 0 {
		fmt.Fprintf(&b, " deleted %d", r.Deleted)
	}
	if r.Succeeded {
		b.WriteString(" succeeded")
	}
	for _, kv := range r.KVs {
		b.WriteString(" ")
		b.WriteString(kv.String())
	}
	return b.String()
}

// Op is one client call as recorded: the request, the outcome and when it
// was called and returned, in nanoseconds since the recorder started.
type Op struct {
	Client int
	Req    Request
	Resp   Response // meaningful when Err is ""
	// Err is the call's error; a call with an error has an unknown
	// outcome: it may or may not have taken effect, at any time after
	// Call.
	Err    string
	Call   int64
	Return int64 // when the client got the response or gave up
}

// Failed reports whether the call's outcome is unknown.
func (o Op) Failed() bool { return o.Err != "" }

func (o Op) String() string {
	out := o.Resp.String()
	if o.Failed() {
		out = "error: " + o.Err
	}
	return fmt.Sprintf("client %d [%d, %d] %s -> %s", o.Client, o.Call, o.Return, o.Req, out)
}

// Recorder collects the calls of every client. It is safe for concurrent
// use.
type Recorder struct {
	start time.Time

	mu  sync.Mutex
	ops []Op // protected by mu
}

// NewRecorder returns a recorder whose clock starts now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Now returns the recorder's clock: monotonic nanoseconds since it started.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Add records one call.
func (r *Recorder) Add(op Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}

// Ops returns every recorded call, ordered by call time.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	ops := slices.Clone(r.ops)
	r.mu.Unlock()
	slices.SortStableFunc(ops, func(a, b Op) int { return cmpInt64(a.Call, b.Call) })
	return ops
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
