package v2keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Options configure New.
type Options struct {
	// ClusterID gives the X-Etcd-Cluster-Id header (sent in hex). Default
	// nil: the cluster ID of each v3 response header is used.
	ClusterID func() uint64
	// Logger logs v3 failures that become error 300. Default: zap.NewNop().
	Logger *zap.Logger
}

// EnsureDefaults fills the zero fields of o.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

const (
	keysPrefix  = "/v2/keys"
	allowedKeys = "HEAD,GET,PUT,POST,DELETE"
)

type handler struct {
	cli  *clientv3.Client
	opts Options
}

// New returns the handler of /v2/keys/..., /v2/members and /v2/machines,
// backed by cli (normally an in-process client of the member itself).
func New(cli *clientv3.Client, opts Options) http.Handler {
	opts.EnsureDefaults()
	h := &handler{cli: cli, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc(keysPrefix, h.serveKeys)
	mux.HandleFunc(keysPrefix+"/", h.serveKeys)
	mux.HandleFunc("/v2/members", h.serveMembers)
	mux.HandleFunc("/v2/members/", h.serveMembers)
	mux.HandleFunc("/v2/machines", h.serveMachines)
	return mux
}

// node is the JSON form of a v2 node; field order and omissions follow etcd.
type node struct {
	Key           string     `json:"key,omitempty"`
	Value         *string    `json:"value,omitempty"`
	Dir           bool       `json:"dir,omitempty"`
	Expiration    *time.Time `json:"expiration,omitempty"`
	TTL           int64      `json:"ttl,omitempty"`
	Nodes         []*node    `json:"nodes,omitempty"`
	ModifiedIndex int64      `json:"modifiedIndex,omitempty"`
	CreatedIndex  int64      `json:"createdIndex,omitempty"`
}

// event is the body of every successful /v2/keys response.
type event struct {
	Action   string `json:"action"`
	Node     *node  `json:"node,omitempty"`
	PrevNode *node  `json:"prevNode,omitempty"`
}

func (h *handler) serveKeys(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		w.Header().Set("Allow", allowedKeys)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	key := cleanKey(strings.TrimPrefix(r.URL.Path, keysPrefix))
	p, perr := requestParams(r)
	if perr != nil {
		perr.write(w)
		return
	}
	ctx := r.Context()
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if p.wait {
			err = h.wait(ctx, w, key, p)
		} else {
			err = h.get(ctx, w, key, p)
		}
	case http.MethodPut:
		err = h.put(ctx, w, key, p)
	case http.MethodPost:
		err = h.post(ctx, w, key, p)
	case http.MethodDelete:
		err = h.delete(ctx, w, key, p)
	}
	if err != nil {
		h.writeErr(w, r, err)
	}
}

// writeErr sends err: a v2 error as it is, anything else (a v3 failure) as
// error 300, except that a client that went away gets nothing.
func (h *handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ve *Error
	if errors.As(err, &ve) {
		ve.write(w)
		return
	}
	if r.Context().Err() != nil {
		return
	}
	h.opts.Logger.Warn("v2keys: v3 request failed", zap.String("path", r.URL.Path), zap.Error(err))
	newError(CodeRaftInternal, err.Error(), 0).write(w)
}

// writeHeaders sets the index headers from a v3 response header. The v2
// "etcd index" and "raft index" are both the v3 revision: v3 does not expose
// the raft log index to clients, and v2 clients only compare them.
func (h *handler) writeHeaders(w http.ResponseWriter, hdr *pb.ResponseHeader) {
	wh := w.Header()
	wh.Set("Content-Type", "application/json")
	if hdr == nil {
		return
	}
	rev := strconv.FormatInt(hdr.Revision, 10)
	wh.Set("X-Etcd-Index", rev)
	wh.Set("X-Raft-Index", rev)
	wh.Set("X-Raft-Term", strconv.FormatUint(hdr.RaftTerm, 10))
	id := hdr.ClusterId
	if h.opts.ClusterID != nil {
		id = h.opts.ClusterID()
	}
	wh.Set("X-Etcd-Cluster-Id", strconv.FormatUint(id, 16))
}

func (h *handler) writeEvent(w http.ResponseWriter, hdr *pb.ResponseHeader, status int, ev *event) {
	h.writeHeaders(w, hdr)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ev)
}

// leaseTTLs looks up remaining lease TTLs, once per lease per request.
type leaseTTLs struct {
	cli  *clientv3.Client
	ctx  context.Context
	now  time.Time
	seen map[int64]int64
}

func (h *handler) newLeaseTTLs(ctx context.Context) *leaseTTLs {
	return &leaseTTLs{cli: h.cli, ctx: ctx, now: time.Now(), seen: map[int64]int64{}}
}

// ttl returns the remaining seconds of lease id, or 0 when it has none or is
// gone.
func (l *leaseTTLs) ttl(id int64) int64 {
	if id == 0 {
		return 0
	}
	if t, ok := l.seen[id]; ok {
		return t
	}
	var t int64
	if resp, err := l.cli.TimeToLive(l.ctx, clientv3.LeaseID(id)); err == nil && resp.TTL > 0 {
		// v2 counts a started second as whole: a fresh 100 s node shows
		// ttl 100, not the 99 whole seconds a lease reports.
		t = min(resp.TTL+1, resp.GrantedTTL)
	}
	l.seen[id] = t
	return t
}

// set fills n's ttl and expiration from lease id.
func (l *leaseTTLs) set(n *node, id int64) {
	if t := l.ttl(id); t > 0 {
		n.TTL = t
		exp := l.now.Add(time.Duration(t) * time.Second).UTC()
		n.Expiration = &exp
	}
}

// toNode converts one stored kv to a v2 node without children.
func toNode(k string, kv *mvccpb.KeyValue, lt *leaseTTLs) *node {
	d := decode(kv)
	n := &node{Key: k, Dir: d.dir, ModifiedIndex: kv.ModRevision, CreatedIndex: kv.CreateRevision}
	if !d.dir {
		v := d.value
		n.Value = &v
	}
	if lt != nil {
		lt.set(n, kv.Lease)
	}
	return n
}

func (h *handler) serveMembers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET,HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	resp, err := h.cli.MemberList(r.Context())
	if err != nil {
		h.writeErr(w, r, err)
		return
	}
	type member struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		PeerURLs   []string `json:"peerURLs"`
		ClientURLs []string `json:"clientURLs"`
	}
	out := struct {
		Members []member `json:"members"`
	}{Members: []member{}}
	for _, m := range resp.Members {
		out.Members = append(out.Members, member{
			ID:         fmt.Sprintf("%x", m.ID),
			Name:       m.Name,
			PeerURLs:   nonNil(m.PeerURLs),
			ClientURLs: nonNil(m.ClientURLs),
		})
	}
	h.writeHeaders(w, resp.Header)
	_ = json.NewEncoder(w).Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// serveMachines answers the client URLs of all members joined by ", ", the
// format etcd's /v2/machines has always had.
func (h *handler) serveMachines(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET,HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	resp, err := h.cli.MemberList(r.Context())
	if err != nil {
		h.writeErr(w, r, err)
		return
	}
	var urls []string
	for _, m := range resp.Members {
		urls = append(urls, m.ClientURLs...)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(strings.Join(urls, ", ")))
}
