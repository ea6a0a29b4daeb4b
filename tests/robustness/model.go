package robustness

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// MaxKeys bounds the key set, so a model state is a small value.
const MaxKeys = 16

// keyState is one key in the model; ModRev 0 means absent.
type keyState struct {
	Value     string
	CreateRev int64
	ModRev    int64
	Version   int64
}

// State is the model's state of the store: its revision and every key.
// It is a comparable value: Step returns a new one, never changes one.
type State struct {
	Rev  int64
	Keys [MaxKeys]keyState
}

// kv returns key k as a response would show it.
func (s *State) kv(k int) KV {
	ks := s.Keys[k]
	if ks.ModRev == 0 {
		return KV{Key: k}
	}
	return KV{Key: k, Value: ks.Value, CreateRev: ks.CreateRev, ModRev: ks.ModRev, Version: ks.Version}
}

// put sets key k to v at revision rev, as etcd's MVCC does.
func (s *State) put(k int, v string, rev int64) {
	ks := s.Keys[k]
	if ks.ModRev == 0 {
		ks = keyState{CreateRev: rev}
	}
	ks.Value, ks.ModRev = v, rev
	ks.Version++
	s.Keys[k] = ks
}

// validKey reports whether k indexes the model's keys.
func validKey(k int) bool { return k >= 0 && k < MaxKeys }

// holds evaluates a Txn's comparison on key k.
func (s *State) holds(k int, c Compare) bool {
	ks := s.Keys[k]
	switch c.Target {
	case CmpModRev:
		return ks.ModRev == c.ModRev
	case CmpValue:
		return ks.ModRev != 0 && ks.Value == c.Value
	}
	return false
}

// Step is the sequential specification of etcd's KV for the calls the
// workload makes: it reports whether a store in state s may answer req with
// resp, and the state after. It checks every response field the workload
// records, the header revision included: a write that changes the store
// takes revision s.Rev+1; a read, a delete of an absent key and a Txn
// whose comparison fails answer s.Rev and change nothing.
func Step(s State, req Request, resp Response) (bool, State) {
	switch req.Kind {
	case OpGet:
		if !validKey(req.Key) {
			return false, s
		}
		ok := resp.Revision == s.Rev && len(resp.KVs) == 1 && resp.KVs[0] == s.kv(req.Key)
		return ok, s
	case OpRange:
		if resp.Revision != s.Rev {
			return false, s
		}
		i := 0
		for k := range s.Keys {
			if s.Keys[k].ModRev == 0 {
				continue
			}
			if i >= len(resp.KVs) || resp.KVs[i] != s.kv(k) {
				return false, s
			}
			i++
		}
		return i == len(resp.KVs), s
	case OpPut:
		if !validKey(req.Key) || resp.Revision != s.Rev+1 {
			return false, s
		}
		s.Rev++
		s.put(req.Key, req.Value, s.Rev)
		return true, s
	case OpDelete:
		if !validKey(req.Key) {
			return false, s
		}
		if s.Keys[req.Key].ModRev == 0 {
			return resp.Deleted == 0 && resp.Revision == s.Rev, s
		}
		if resp.Deleted != 1 || resp.Revision != s.Rev+1 {
			return false, s
		}
		s.Rev++
		s.Keys[req.Key] = keyState{}
		return true, s
	case OpTxn:
		if !validKey(req.Key) {
			return false, s
		}
		for _, p := range req.Puts {
			if !validKey(p.Key) {
				return false, s
			}
		}
		if !s.holds(req.Key, req.Cmp) {
			if resp.Succeeded || resp.Revision != s.Rev || len(resp.KVs) != len(req.Puts) {
				return false, s
			}
			for i, p := range req.Puts {
				if resp.KVs[i] != s.kv(p.Key) {
					return false, s
				}
			}
			return true, s
		}
		if !resp.Succeeded || resp.Revision != s.Rev+1 {
			return false, s
		}
		s.Rev++
		for _, p := range req.Puts {
			s.put(p.Key, p.Value, s.Rev)
		}
		return true, s
	}
	return false, s
}

// Model returns the porcupine model of a store that starts empty at
// revision initRev. It has no partition function: a Txn spans keys and
// every write moves the one global revision, so the history is checked
// whole (see doc.go for why that stays fast).
func Model(initRev int64) porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return State{Rev: initRev} },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			return Step(state.(State), input.(Request), output.(Response))
		},
		Equal: func(a, b interface{}) bool { return a.(State) == b.(State) },
		Hash:  func(state interface{}) uint64 { return hashState(state.(State)) },
		DescribeOperation: func(input, output interface{}) string {
			return fmt.Sprintf("%s -> %s", input.(Request), output.(Response))
		},
		DescribeState: func(state interface{}) string { return describeState(state.(State)) },
		DescribeOperationMetadata: func(info interface{}) string {
			if info == nil {
				return ""
			}
			return fmt.Sprint(info)
		},
	}
}

func hashState(s State) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	putInt := func(v int64) {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	putInt(s.Rev)
	for _, ks := range s.Keys {
		putInt(ks.ModRev)
		h.Write([]byte(ks.Value))
	}
	return h.Sum64()
}

func describeState(s State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rev %d:", s.Rev)
	for k := range s.Keys {
		if s.Keys[k].ModRev != 0 {
			b.WriteString(" ")
			b.WriteString(s.kv(k).String())
		}
	}
	return b.String()
}
