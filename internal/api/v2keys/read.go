package v2keys

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// get serves a plain GET: the node and, for a directory, its children (all
// levels with recursive=true). Both ranges are one read-only Txn, so the
// listing is a snapshot at one revision. Without quorum=true the reads are
// serializable, which is what v2 did (a local read unless quorum was asked).
func (h *handler) get(ctx context.Context, w http.ResponseWriter, key string, p params) error {
	var opts []clientv3.OpOption
	if !p.quorum {
		opts = append(opts, clientv3.WithSerializable())
	}
	ops := []clientv3.Op{
		clientv3.OpGet(v3Key(key), opts...),
		clientv3.OpGet(childPrefix(key), append([]clientv3.OpOption{clientv3.WithPrefix()}, opts...)...),
	}
	resp, err := h.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return err
	}
	self := resp.Responses[0].GetResponseRange().Kvs
	kids := resp.Responses[1].GetResponseRange().Kvs
	lt := h.newLeaseTTLs(ctx)
	var n *node
	switch {
	case key == "/":
		n = &node{Dir: true} // etcd leaves the root's key out
	case len(self) == 0:
		return newError(CodeKeyNotFound, key, resp.Header.Revision)
	default:
		n = toNode(key, self[0], lt)
	}
	if n.Dir {
		n.Nodes = buildTree(key, kids, p.recursive, lt)
	}
	h.writeEvent(w, resp.Header, http.StatusOK, &event{Action: "get", Node: n})
	return nil
}

// buildTree turns the flat, key-ordered range below base into v2 children:
// one level, or every level when recursive. Hidden nodes (and so everything
// below them) and nodes whose parent directory is missing are left out.
// Children are always sorted by key: v2 only promised an order with
// sorted=true, and a stable one is a valid choice without it.
func buildTree(base string, kvs []*mvccpb.KeyValue, recursive bool, lt *leaseTTLs) []*node {
	dirs := map[string]*node{base: {}}
	var top []*node
	for _, kv := range kvs {
		k, ok := v2Key(kv.Key)
		if !ok || !under(base, k) || k == base || hidden(base, k) {
			continue
		}
		parent := k[:strings.LastIndexByte(k, '/')]
		if parent == "" {
			parent = "/"
		}
		pn, ok := dirs[parent]
		if !ok {
			continue
		}
		if parent != base && !recursive {
			continue
		}
		n := toNode(k, kv, lt)
		if parent == base {
			top = append(top, n)
		} else {
			pn.Nodes = append(pn.Nodes, n)
		}
		if n.Dir {
			dirs[k] = n
		}
	}
	sortNodes(top)
	return top
}

func sortNodes(ns []*node) {
	slices.SortFunc(ns, func(a, b *node) int { return strings.Compare(a.Key, b.Key) })
	for _, n := range ns {
		sortNodes(n.Nodes)
	}
}

// wait serves GET ?wait=true: a v3 watch from waitIndex (or the current
// revision + 1) on the key, or on everything below it with recursive=true,
// answered with the first event that v2 would have delivered. The headers go
// out at once, as etcd's did, so clients see the watch is in place; the body
// follows when the event arrives. The request context bounds the watch.
func (h *handler) wait(ctx context.Context, w http.ResponseWriter, key string, p params) error {
	cur, err := h.cli.Get(ctx, v3Key(key), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	rev := cur.Header.Revision
	start := int64(p.waitIndex)
	if p.waitIndex == 0 || start < 0 {
		start = rev + 1
	}
	// Find a compacted waitIndex before the headers are out, so it can
	// still be answered with a 401 body and status.
	if start <= rev {
		if _, err := h.cli.Get(ctx, v3Key(key), clientv3.WithRev(start), clientv3.WithCountOnly(), clientv3.WithSerializable()); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return h.indexCleared(ctx, start, rev)
			}
			return err
		}
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithRev(start), clientv3.WithPrevKV()}
	if p.recursive {
		// One range holds the key and all below it; it also holds
		// siblings such as "/a-b" of "/a", which the filter drops.
		opts = append(opts, clientv3.WithRange(clientv3.GetPrefixRangeEnd(childPrefix(key))))
	}
	wch := h.cli.Watch(wctx, v3Key(key), opts...)

	h.writeHeaders(w, cur.Header)
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	for wr := range wch {
		if wr.CompactRevision != 0 {
			e := newError(CodeEventIndexCleared, clearedCause(wr.CompactRevision, start), wr.Header.Revision)
			return writeBody(w, e)
		}
		if err := wr.Err(); err != nil {
			return writeBody(w, newError(CodeRaftInternal, err.Error(), wr.Header.Revision))
		}
		for _, ev := range wr.Events {
			if out := h.v2Event(ctx, key, p.recursive, ev); out != nil {
				return writeBody(w, out)
			}
		}
	}
	return nil
}

// writeBody ends a watch whose headers are already sent.
func writeBody(w http.ResponseWriter, v any) error {
	return writeJSON(w, v)
}

func clearedCause(compacted, start int64) string {
	return "the requested history has been cleared [" + itoa(compacted) + "/" + itoa(start) + "]"
}

func (h *handler) indexCleared(ctx context.Context, start, rev int64) error {
	compacted := rev
	// The compaction revision is not exposed to plain reads; a watch from
	// the stale revision reports it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if wr, ok := <-h.cli.Watch(wctx, Prefix, clientv3.WithRev(start)); ok && wr.CompactRevision != 0 {
		compacted = wr.CompactRevision
	}
	return newError(CodeEventIndexCleared, clearedCause(compacted, start), rev)
}

// v2Event converts a watch event into the v2 event a watch on base
// delivers, or nil when v2 would not have delivered it.
func (h *handler) v2Event(ctx context.Context, base string, recursive bool, ev *clientv3.Event) *event {
	k, ok := v2Key(ev.Kv.Key)
	if !ok {
		return nil
	}
	if recursive {
		if !under(base, k) || hidden(base, k) {
			return nil
		}
	} else if k != base {
		return nil
	}
	lt := h.newLeaseTTLs(ctx)
	var prev *node
	if ev.PrevKv != nil {
		prev = toNode(k, ev.PrevKv, nil)
	}
	if ev.Type == clientv3.EventTypePut {
		d := decode(ev.Kv)
		name, ok := actionNames[d.act]
		if !ok {
			if d.act == actImplicit || d.act == actRefresh {
				return nil
			}
			name = "set" // a value written through v3 directly
		}
		return &event{Action: name, Node: toNode(k, ev.Kv, lt), PrevNode: prev}
	}
	n := &node{Key: k, ModifiedIndex: ev.Kv.ModRevision}
	action := "delete"
	if ev.PrevKv != nil {
		n.CreatedIndex = ev.PrevKv.CreateRevision
		n.Dir = decode(ev.PrevKv).dir
		// Explicit deletes never revoke the node's lease (see doc.go), so
		// a delete whose lease is gone was the lease running out.
		if ev.PrevKv.Lease != 0 && lt.ttl(ev.PrevKv.Lease) == 0 {
			action = "expire"
		}
	}
	return &event{Action: action, Node: n, PrevNode: prev}
}
