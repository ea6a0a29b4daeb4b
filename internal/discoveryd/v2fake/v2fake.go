// Package v2fake is an in-memory stand-in for the subset of etcd's v2 keys
// API that v2 discovery uses, for tests of the discovery client and
// service. It is not a store: one mutex, no TTLs, no persistence.
//
// What it keeps faithful, because the code under test depends on it:
//
//   - GET of a key answers {"action":"get","node":{...}}; of a directory,
//     its direct children in "nodes", hidden ("_"-prefixed) ones left out,
//     and in no particular order (here: newest first, so a client that
//     forgets to sort by createdIndex is caught).
//   - GET ?wait=true[&recursive=true][&waitIndex=N] answers the first
//     event at index ≥ N under the key, hidden keys skipped; with none it
//     flushes the 200 and X-Etcd-Index headers at once, as etcd does, then
//     blocks until an event or the client goes away (an empty body). A
//     waitIndex more than 1000 behind answers error 401.
//   - PUT with form or query value, prevExist=false → 105 (412) if the key
//     exists; 201 for a new key, 200 for a replaced one. DELETE with
//     recursive=true removes a directory.
//   - Errors are {"errorCode","message","cause","index"} with etcd's status
//     codes; every answer carries X-Etcd-Index, X-Raft-Index, X-Raft-Term.
//   - Paths outside /v2/keys answer a plain-text 404, like an HTTP server
//     that is not etcd.
package v2fake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// history is how many events a wait can look back, as in etcd.
const history = 1000

// Server is the fake. The zero value is not usable; call New.
type Server struct {
	// Down, when set, makes the server drop every connection without an
	// answer: to the client, a network error.
	Down atomic.Bool
	// Requests counts the requests served (dropped ones included).
	Requests atomic.Int64

	mu struct {
		sync.Mutex
		index   uint64           // protected by mu: last event index
		nodes   map[string]*Node // protected by mu: key → node, directories included
		events  []event          // protected by mu: every change, oldest first
		changed chan struct{}    // protected by mu: closed and replaced on each change
	}
}

// Node is a v2 node as it appears on the wire.
type Node struct {
	Key           string  `json:"key"`
	Value         string  `json:"value,omitempty"`
	Dir           bool    `json:"dir,omitempty"`
	Nodes         []*Node `json:"nodes,omitempty"`
	ModifiedIndex uint64  `json:"modifiedIndex,omitempty"`
	CreatedIndex  uint64  `json:"createdIndex,omitempty"`
}

// Response is a successful v2 answer.
type Response struct {
	Action   string `json:"action"`
	Node     *Node  `json:"node,omitempty"`
	PrevNode *Node  `json:"prevNode,omitempty"`
}

// Error is a v2 error answer.
type Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
	Index   uint64 `json:"index"`
}

type event struct {
	action string
	node   Node
}

// New returns an empty fake.
func New() *Server {
	s := &Server{}
	s.mu.nodes = map[string]*Node{"/": {Key: "/", Dir: true}}
	s.mu.changed = make(chan struct{})
	return s
}

// Set writes key=value as a PUT would and returns the event index.
func (s *Server) Set(key, value string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, idx := s.putLocked(cleanKey(key), value)
	return idx
}

// Get reads a key's value.
func (s *Server) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.mu.nodes[cleanKey(key)]
	if !ok || n.Dir {
		return "", false
	}
	return n.Value, true
}

// Lookup returns a copy of the node at key, without children.
func (s *Server) Lookup(key string) (Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.mu.nodes[cleanKey(key)]
	if !ok {
		return Node{}, false
	}
	c := *n
	c.Nodes = nil
	return c, true
}

// Index is the current event index.
func (s *Server) Index() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.index
}

func cleanKey(k string) string {
	parts := strings.Split(k, "/")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && p != "." {
			out = append(out, p)
		}
	}
	return "/" + strings.Join(out, "/")
}

func parent(k string) string {
	i := strings.LastIndexByte(k, '/')
	if i <= 0 {
		return "/"
	}
	return k[:i]
}

func base(k string) string { return k[strings.LastIndexByte(k, '/')+1:] }

// hidden reports whether key, seen from a watch on dir, lies under a
// "_"-prefixed segment.
func hidden(dir, key string) bool {
	rest := strings.TrimPrefix(key, dir)
	return strings.Contains(rest, "/_")
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	if s.Down.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if r.URL.Path != "/v2/keys" && !strings.HasPrefix(r.URL.Path, "/v2/keys/") {
		http.NotFound(w, r)
		return
	}
	key := cleanKey(strings.TrimPrefix(r.URL.Path, "/v2/keys"))
	switch r.Method {
	case http.MethodGet:
		if r.FormValue("wait") == "true" {
			s.wait(w, r, key)
			return
		}
		s.get(w, key)
	case http.MethodPut:
		s.put(w, r, key)
	case http.MethodDelete:
		s.delete(w, r, key)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) headersLocked(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	idx := strconv.FormatUint(s.mu.index, 10)
	h.Set("X-Etcd-Index", idx)
	h.Set("X-Raft-Index", idx)
	h.Set("X-Raft-Term", "2")
}

func (s *Server) errorLocked(w http.ResponseWriter, status, code int, msg, cause string) {
	s.headersLocked(w)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Error{Code: code, Message: msg, Cause: cause, Index: s.mu.index})
}

func (s *Server) answerLocked(w http.ResponseWriter, status int, resp Response) {
	s.headersLocked(w)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}

func (s *Server) get(w http.ResponseWriter, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.mu.nodes[key]
	if !ok {
		s.errorLocked(w, http.StatusNotFound, 100, "Key not found", key)
		return
	}
	out := *n
	if n.Dir {
		for k, c := range s.mu.nodes {
			if k != key && parent(k) == key && !strings.HasPrefix(base(k), "_") {
				cc := *c
				out.Nodes = append(out.Nodes, &cc)
			}
		}
		slices.SortFunc(out.Nodes, func(a, b *Node) int { return cmp.Compare(b.CreatedIndex, a.CreatedIndex) })
	}
	s.answerLocked(w, http.StatusOK, Response{Action: "get", Node: &out})
}

// putLocked creates missing parents and writes key; it reports whether the
// key is new.
func (s *Server) putLocked(key, value string) (created bool, index uint64) {
	s.mu.index++
	idx := s.mu.index
	for p := parent(key); p != "/"; p = parent(p) {
		if _, ok := s.mu.nodes[p]; !ok {
			s.mu.nodes[p] = &Node{Key: p, Dir: true, CreatedIndex: idx, ModifiedIndex: idx}
		}
	}
	n, ok := s.mu.nodes[key]
	if !ok {
		n = &Node{Key: key, CreatedIndex: idx}
		s.mu.nodes[key] = n
	}
	n.Value, n.ModifiedIndex = value, idx
	action := "set"
	if !ok {
		action = "create"
	}
	s.recordLocked(action, *n)
	return !ok, idx
}

func (s *Server) recordLocked(action string, n Node) {
	n.Nodes = nil
	s.mu.events = append(s.mu.events, event{action: action, node: n})
	close(s.mu.changed)
	s.mu.changed = make(chan struct{})
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, key string) {
	value := r.FormValue("value")
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == "/" {
		s.errorLocked(w, http.StatusForbidden, 107, "Root is read only", "/")
		return
	}
	if n, ok := s.mu.nodes[key]; ok {
		if r.FormValue("prevExist") == "false" {
			s.errorLocked(w, http.StatusPreconditionFailed, 105, "Key already exists", key)
			return
		}
		if n.Dir {
			s.errorLocked(w, http.StatusForbidden, 102, "Not a file", key)
			return
		}
	}
	for p := parent(key); p != "/"; p = parent(p) {
		if n, ok := s.mu.nodes[p]; ok && !n.Dir {
			s.errorLocked(w, http.StatusBadRequest, 104, "Not a directory", p)
			return
		}
	}
	var prev *Node
	if n, ok := s.mu.nodes[key]; ok {
		c := *n
		prev = &c
	}
	created, _ := s.putLocked(key, value)
	n := *s.mu.nodes[key]
	status, action := http.StatusOK, "set"
	if created {
		status = http.StatusCreated
		if r.FormValue("prevExist") == "false" {
			action = "create"
		}
	}
	s.answerLocked(w, status, Response{Action: action, Node: &n, PrevNode: prev})
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.mu.nodes[key]
	if !ok {
		s.errorLocked(w, http.StatusNotFound, 100, "Key not found", key)
		return
	}
	if key == "/" {
		s.errorLocked(w, http.StatusForbidden, 107, "Root is read only", "/")
		return
	}
	if n.Dir && r.FormValue("recursive") != "true" && r.FormValue("dir") != "true" {
		s.errorLocked(w, http.StatusForbidden, 102, "Not a file", key)
		return
	}
	prev := *n
	for k := range s.mu.nodes {
		if k == key || strings.HasPrefix(k, key+"/") {
			delete(s.mu.nodes, k)
		}
	}
	s.mu.index++
	gone := Node{Key: key, Dir: n.Dir, CreatedIndex: n.CreatedIndex, ModifiedIndex: s.mu.index}
	s.recordLocked("delete", gone)
	s.answerLocked(w, http.StatusOK, Response{Action: "delete", Node: &gone, PrevNode: &prev})
}

func (s *Server) wait(w http.ResponseWriter, r *http.Request, key string) {
	recursive := r.FormValue("recursive") == "true"
	flushed := false
	for {
		s.mu.Lock()
		from := s.mu.index + 1
		if v := r.FormValue("waitIndex"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				s.errorLocked(w, http.StatusBadRequest, 203, "The given index in POST form is not a number", "Watch")
				s.mu.Unlock()
				return
			}
			from = n
		}
		if !flushed && from+history <= s.mu.index {
			s.errorLocked(w, http.StatusBadRequest, 401, "The event in requested index is outdated and cleared",
				"the requested history has been cleared ["+strconv.FormatUint(s.mu.index-history+1, 10)+"/"+strconv.FormatUint(from, 10)+"]")
			s.mu.Unlock()
			return
		}
		for _, e := range s.mu.events {
			k := e.node.Key
			if e.node.ModifiedIndex < from {
				continue
			}
			if k == key || (recursive && strings.HasPrefix(k, strings.TrimSuffix(key, "/")+"/") && !hidden(key, k)) {
				n := e.node
				if !flushed {
					s.headersLocked(w)
					w.WriteHeader(http.StatusOK)
				}
				json.NewEncoder(w).Encode(Response{Action: e.action, Node: &n})
				s.mu.Unlock()
				return
			}
		}
		changed := s.mu.changed
		if !flushed {
			// etcd sends the headers of a long poll at once.
			s.headersLocked(w)
			w.WriteHeader(http.StatusOK)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			flushed = true
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}
