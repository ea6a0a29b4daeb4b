package v2keys

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxAttempts bounds the read-decide-commit loop of one write. A retry only
// happens when another writer changed a node the decision depended on.
const maxAttempts = 16

// state is what a write decides on: the node, its ancestors and whether it
// has children, all read in one Txn at one revision.
type state struct {
	hdr      *pb.ResponseHeader
	rev      int64
	anc      []string
	ancKV    []*mvccpb.KeyValue // nil where the ancestor is missing
	kv       *mvccpb.KeyValue   // nil when the node is missing
	cur      decoded
	children int64
	lastSeq  uint64 // largest 20-digit child name (POST only)
}

func (h *handler) readState(ctx context.Context, key string, inOrder bool) (*state, error) {
	st := &state{anc: ancestors(key)}
	ops := make([]clientv3.Op, 0, len(st.anc)+3)
	for _, a := range st.anc {
		ops = append(ops, clientv3.OpGet(v3Key(a)))
	}
	ops = append(ops,
		clientv3.OpGet(v3Key(key)),
		clientv3.OpGet(childPrefix(key), clientv3.WithPrefix(), clientv3.WithCountOnly()))
	if inOrder {
		ops = append(ops, clientv3.OpGet(childPrefix(key), clientv3.WithRange(childPrefix(key)+"1"),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1), clientv3.WithKeysOnly()))
	}
	resp, err := h.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, err
	}
	st.hdr, st.rev = resp.Header, resp.Header.Revision
	first := func(i int) *mvccpb.KeyValue {
		if kvs := resp.Responses[i].GetResponseRange().Kvs; len(kvs) > 0 {
			return kvs[0]
		}
		return nil
	}
	for i := range st.anc {
		st.ancKV = append(st.ancKV, first(i))
	}
	n := len(st.anc)
	if key != "/" {
		st.kv = first(n)
		st.cur = decode(st.kv)
	}
	st.children = resp.Responses[n+1].GetResponseRange().Count
	if inOrder {
		if kv := first(n + 2); kv != nil {
			name := string(kv.Key[len(childPrefix(key)):])
			if len(name) == 20 {
				if seq, err := strconv.ParseUint(name, 10, 64); err == nil {
					st.lastSeq = seq
				}
			}
		}
	}
	return st, nil
}

// ensureAncestors checks that no ancestor is a file and returns the compares
// that pin the ancestors as read plus the puts that create missing ones.
// Existing ancestors are pinned by create revision, not mod revision, so a
// TTL change on a parent does not fail a write below it, while a parent that
// was deleted (and perhaps recreated) does.
func ensureAncestors(st *state) ([]clientv3.Cmp, []clientv3.Op, *Error) {
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	for i, a := range st.anc {
		kv := st.ancKV[i]
		if kv == nil {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(v3Key(a)), "=", 0))
			ops = append(ops, clientv3.OpPut(v3Key(a), encode(kindDir, actImplicit, "")))
			continue
		}
		if !decode(kv).dir {
			return nil, nil, newError(CodeNotDir, a, st.rev)
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(v3Key(a)), "=", kv.CreateRevision))
	}
	return cmps, ops, nil
}

// pinNode is the compare that the node is as read.
func pinNode(key string, st *state) clientv3.Cmp {
	if st.kv == nil {
		return clientv3.Compare(clientv3.CreateRevision(v3Key(key)), "=", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(v3Key(key)), "=", st.kv.ModRevision)
}

// compareFailCause explains a failed prevValue/prevIndex test as etcd does.
func compareFailCause(p params, st *state) (string, bool) {
	valueBad := p.prevValueSet && p.prevValue != st.cur.value
	indexBad := p.prevIndex != 0 && int64(p.prevIndex) != st.kv.ModRevision
	switch {
	case valueBad && indexBad:
		return fmt.Sprintf("[%s != %s] [%d != %d]", p.prevValue, st.cur.value, p.prevIndex, st.kv.ModRevision), true
	case valueBad:
		return fmt.Sprintf("[%s != %s]", p.prevValue, st.cur.value), true
	case indexBad:
		return fmt.Sprintf("[%d != %d]", p.prevIndex, st.kv.ModRevision), true
	}
	return "", false
}

func (h *handler) currentRev(ctx context.Context) int64 {
	resp, err := h.cli.Get(ctx, Prefix, clientv3.WithCountOnly(), clientv3.WithSerializable())
	if err != nil {
		return 0
	}
	return resp.Header.Revision
}

// grant holds the lease a write attaches to its node; an unused one is
// revoked when the write ends.
type grant struct {
	h    *handler
	id   clientv3.LeaseID
	ttl  int64
	used bool
}

func (h *handler) grant(ctx context.Context, ttl *uint64) (*grant, error) {
	g := &grant{h: h}
	if ttl == nil {
		return g, nil
	}
	t := int64(*ttl)
	if t < 0 {
		t = 1<<62 - 1
	}
	resp, err := h.cli.Grant(ctx, t)
	if err != nil {
		return nil, err
	}
	g.id, g.ttl = resp.ID, resp.TTL
	return g, nil
}

// setTTL gives n the ttl and expiration of the lease granted for it.
func (g *grant) setTTL(n *node) {
	if g.id == 0 {
		return
	}
	n.TTL = g.ttl
	exp := time.Now().Add(time.Duration(g.ttl) * time.Second).UTC()
	n.Expiration = &exp
}

// writeWritten answers a successful write; with noValueOnSuccess v2
// answers with the action alone.
func (h *handler) writeWritten(w http.ResponseWriter, hdr *pb.ResponseHeader, status int, p params, ev *event) {
	if p.noValueOnSuccess {
		ev = &event{Action: ev.Action}
	}
	h.writeEvent(w, hdr, status, ev)
}

func (g *grant) release() {
	if g.id != 0 && !g.used {
		g.h.revoke(g.id)
	}
}

func (g *grant) opts() []clientv3.OpOption {
	if g.id == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithLease(g.id)}
}

// revoke drops a lease no key needs any more. It runs detached from the
// request so that a client hanging up does not leak the lease.
func (h *handler) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = h.cli.Revoke(ctx, id)
}

type putMode int

const (
	modeSet putMode = iota
	modeCreate
	modeUpdate
	modeCAS
)

var modeActs = [...]byte{modeSet: actSet, modeCreate: actCreate, modeUpdate: actUpdate, modeCAS: actCAS}

// put serves PUT: set, create, update or compareAndSwap, chosen from the
// parameters as etcd's v2 server chose.
func (h *handler) put(ctx context.Context, w http.ResponseWriter, key string, p params) error {
	if key == "/" {
		return newError(CodeRootROnly, "/", h.currentRev(ctx))
	}
	mode := modeSet
	switch {
	case p.prevExist != nil && *p.prevExist:
		mode = modeUpdate
		if p.prevIndex != 0 || p.prevValueSet {
			mode = modeCAS
		}
	case p.prevExist != nil:
		mode = modeCreate
	case p.prevIndex != 0 || p.prevValueSet:
		mode = modeCAS
	}
	g, err := h.grant(ctx, p.ttl)
	if err != nil {
		return err
	}
	defer g.release()

	var st *state
	for range maxAttempts {
		st, err = h.readState(ctx, key, false)
		if err != nil {
			return err
		}
		cmps, ops, verr := ensureAncestors(st)
		if verr != nil {
			return verr
		}
		dir, value := p.dir, p.value
		switch mode {
		case modeSet:
			if st.cur.exists && st.cur.dir {
				return newError(CodeNotFile, key, st.rev)
			}
		case modeCreate:
			if st.cur.exists {
				return newError(CodeNodeExist, key, st.rev)
			}
		case modeUpdate, modeCAS:
			if !st.cur.exists {
				return newError(CodeKeyNotFound, key, st.rev)
			}
			if st.cur.dir && (mode == modeCAS || !p.dir || p.value != "") {
				return newError(CodeNotFile, key, st.rev)
			}
			if cause, bad := compareFailCause(p, st); bad {
				return newError(CodeTestFailed, cause, st.rev)
			}
			dir = st.cur.dir
		}
		act := modeActs[mode]
		if p.refresh {
			if !st.cur.exists {
				return newError(CodeKeyNotFound, key, st.rev)
			}
			dir, value, act = st.cur.dir, st.cur.value, actRefresh
			if done, err := h.keepAlive(ctx, w, key, mode, st, g); done || err != nil {
				return err
			}
		}
		kind := byte(kindFile)
		if dir {
			kind = kindDir
			value = ""
		}
		cmps = append(cmps, pinNode(key, st))
		ops = append(ops, clientv3.OpPut(v3Key(key), encode(kind, act, value), g.opts()...))
		resp, err := h.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			continue
		}
		g.used = true
		// The previous node is rendered before its lease is revoked, so it
		// keeps its ttl and expiration, as v2 shows them.
		var prev *node
		if st.kv != nil {
			prev = toNode(key, st.kv, h.newLeaseTTLs(ctx))
		}
		if st.kv != nil && st.kv.Lease != 0 && clientv3.LeaseID(st.kv.Lease) != g.id {
			h.revoke(clientv3.LeaseID(st.kv.Lease))
		}
		rev := resp.Header.Revision
		n := &node{Key: key, Dir: dir, ModifiedIndex: rev, CreatedIndex: rev}
		if st.kv != nil {
			n.CreatedIndex = st.kv.CreateRevision
		}
		if !dir {
			n.Value = &value
		}
		g.setTTL(n)
		status := http.StatusOK
		if st.kv == nil && (mode == modeSet || mode == modeCreate) {
			status = http.StatusCreated
		}
		h.writeWritten(w, resp.Header, status, p, &event{Action: actionName(mode), Node: n, PrevNode: prev})
		return nil
	}
	return newError(CodeRaftInternal, "too many conflicting writes", st.rev)
}

func actionName(m putMode) string { return actionNames[modeActs[m]] }

// keepAlive is the cheap refresh: when the node's lease was granted with
// the TTL asked for, renewing it resets the clock without a write, so no
// index moves and no watcher wakes. done is false when a write is needed.
func (h *handler) keepAlive(ctx context.Context, w http.ResponseWriter, key string, mode putMode, st *state, g *grant) (bool, error) {
	if st.kv.Lease == 0 || g.id == 0 {
		return false, nil
	}
	id := clientv3.LeaseID(st.kv.Lease)
	ttl, err := h.cli.TimeToLive(ctx, id)
	if err != nil || ttl.GrantedTTL != g.ttl {
		return false, nil
	}
	ka, err := h.cli.KeepAliveOnce(ctx, id)
	if err != nil {
		return false, nil
	}
	n := toNode(key, st.kv, nil)
	n.TTL = ka.TTL
	exp := time.Now().Add(time.Duration(ka.TTL) * time.Second).UTC()
	n.Expiration = &exp
	prev := toNode(key, st.kv, nil)
	h.writeEvent(w, st.hdr, http.StatusOK, &event{Action: actionName(mode), Node: n, PrevNode: prev})
	return true, nil
}

// post serves POST: an in-order create below the directory key. The child
// is named by the revision the write is expected to get (the read revision
// + 1), raised above the largest existing 20-digit name; a range compare
// makes the commit fail if a name at or above it appeared meanwhile, so
// names grow in creation order even when a concurrent write makes a name
// differ from its createdIndex.
func (h *handler) post(ctx context.Context, w http.ResponseWriter, key string, p params) error {
	g, err := h.grant(ctx, p.ttl)
	if err != nil {
		return err
	}
	defer g.release()
	var st *state
	for range maxAttempts {
		st, err = h.readState(ctx, key, true)
		if err != nil {
			return err
		}
		cmps, ops, verr := ensureAncestors(st)
		if verr != nil {
			return verr
		}
		if key != "/" {
			switch {
			case st.kv == nil:
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(v3Key(key)), "=", 0))
				ops = append(ops, clientv3.OpPut(v3Key(key), encode(kindDir, actImplicit, "")))
			case !st.cur.dir:
				return newError(CodeNotDir, key, st.rev)
			default:
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(v3Key(key)), "=", st.kv.CreateRevision))
			}
		}
		seq := uint64(st.rev + 1)
		if st.lastSeq >= seq {
			seq = st.lastSeq + 1
		}
		name := fmt.Sprintf("%020d", seq)
		child := name
		if key != "/" {
			child = key + "/" + name
		} else {
			child = "/" + name
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(v3Key(child)), "=", 0).WithRange(childPrefix(key)+"1"))
		kind, value := byte(kindFile), p.value
		if p.dir {
			kind, value = kindDir, ""
		}
		ops = append(ops, clientv3.OpPut(v3Key(child), encode(kind, actCreate, value), g.opts()...))
		resp, err := h.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			continue
		}
		g.used = true
		rev := resp.Header.Revision
		n := &node{Key: child, Dir: p.dir, ModifiedIndex: rev, CreatedIndex: rev}
		if !p.dir {
			n.Value = &value
		}
		g.setTTL(n)
		h.writeWritten(w, resp.Header, http.StatusCreated, p, &event{Action: "create", Node: n})
		return nil
	}
	return newError(CodeRaftInternal, "too many conflicting writes", st.rev)
}

// delete serves DELETE: delete (dir=true for an empty directory,
// recursive=true for any directory) or compareAndDelete. Leases of deleted
// nodes are left to run out rather than revoked: that is how a watch tells
// an expiry from a delete (see doc.go).
func (h *handler) delete(ctx context.Context, w http.ResponseWriter, key string, p params) error {
	if key == "/" {
		return newError(CodeRootROnly, "/", h.currentRev(ctx))
	}
	cad := p.prevIndex != 0 || p.prevValueSet
	var st *state
	var err error
	for range maxAttempts {
		st, err = h.readState(ctx, key, false)
		if err != nil {
			return err
		}
		if !st.cur.exists {
			return newError(CodeKeyNotFound, key, st.rev)
		}
		cmps := []clientv3.Cmp{pinNode(key, st)}
		ops := []clientv3.Op{clientv3.OpDelete(v3Key(key))}
		if cad {
			if st.cur.dir {
				return newError(CodeNotFile, key, st.rev)
			}
			if cause, bad := compareFailCause(p, st); bad {
				return newError(CodeTestFailed, cause, st.rev)
			}
		} else if st.cur.dir {
			switch {
			case !p.dir && !p.recursive:
				return newError(CodeNotFile, key, st.rev)
			case p.recursive:
				ops = append(ops, clientv3.OpDelete(childPrefix(key), clientv3.WithPrefix()))
			case st.children > 0:
				return newError(CodeDirNotEmpty, key, st.rev)
			default:
				// Still empty at commit time, or a child created since
				// would be orphaned.
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(childPrefix(key)), "=", 0).WithPrefix())
			}
		}
		resp, err := h.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			continue
		}
		n := &node{Key: key, Dir: st.cur.dir, ModifiedIndex: resp.Header.Revision, CreatedIndex: st.kv.CreateRevision}
		action := "delete"
		if cad {
			action = "compareAndDelete"
		}
		h.writeEvent(w, resp.Header, http.StatusOK, &event{Action: action, Node: n, PrevNode: toNode(key, st.kv, nil)})
		return nil
	}
	return newError(CodeRaftInternal, "too many conflicting writes", st.rev)
}
