package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// client is one workload client: its own clientv3 client, its own random
// source, and what it last read of each key (to aim its Txns).
type client struct {
	id   int
	cli  *clientv3.Client
	rng  *rand.Rand
	keys Keys
	rec  *Recorder
	seq  int
	seen map[int]KV
}

// opWeights is the workload's mix, in percent.
var opWeights = []struct {
	kind   OpKind
	weight int
}{
	{OpGet, 25}, {OpSerializableGet, 5}, {OpRange, 5}, {OpPut, 30}, {OpDelete, 10}, {OpTxn, 25},
}

// run issues calls until ctx is done, one at a time, pausing a random
// time of mean gap between them.
func (c *client) run(ctx context.Context, p *Profile) {
	for ctx.Err() == nil {
		c.rec.Add(c.do(ctx, c.next(), p.OpTimeout))
		if p.OpGap > 0 {
			sleepCtx(ctx, time.Duration(c.rng.Int64N(2*int64(p.OpGap)+1)))
		}
	}
}

// value returns a value no other call puts.
func (c *client) value() string {
	c.seq++
	return fmt.Sprintf("c%d-%d", c.id, c.seq)
}

// next draws the next request.
func (c *client) next() Request {
	n := c.rng.IntN(100)
	kind := OpGet
	for _, w := range opWeights {
		if n < w.weight {
			kind = w.kind
			break
		}
		n -= w.weight
	}
	k := c.rng.IntN(len(c.keys))
	switch kind {
	case OpGet, OpSerializableGet, OpDelete:
		return Request{Kind: kind, Key: k}
	case OpRange:
		return Request{Kind: OpRange}
	case OpPut:
		return Request{Kind: OpPut, Key: k, Value: c.value()}
	}
	// A Txn: compare what this client last saw of k (mostly its mod
	// revision, as an optimistic update does), then put k and maybe one
	// other key.
	last := c.seen[k]
	cmp := Compare{Target: CmpModRev, ModRev: last.ModRev}
	if c.rng.IntN(4) == 0 {
		cmp = Compare{Target: CmpValue, Value: last.Value}
	}
	puts := []KeyValue{{k, c.value()}}
	if c.rng.IntN(2) == 0 && len(c.keys) > 1 {
		k2 := (k + 1 + c.rng.IntN(len(c.keys)-1)) % len(c.keys)
		puts = append(puts, KeyValue{k2, c.value()})
	}
	return Request{Kind: OpTxn, Key: k, Cmp: cmp, Puts: puts}
}

// do makes one call and records it.
func (c *client) do(ctx context.Context, req Request, timeout time.Duration) Op {
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	op := Op{Client: c.id, Req: req, Call: c.rec.Now()}
	resp, err := c.call(octx, req)
	op.Return = c.rec.Now()
	if err != nil {
		op.Err = err.Error()
		return op
	}
	op.Resp = resp
	for _, kv := range resp.KVs {
		c.seen[kv.Key] = kv
	}
	return op
}

func (c *client) call(ctx context.Context, req Request) (Response, error) {
	switch req.Kind {
	case OpGet:
		r, err := c.cli.Get(ctx, c.keys[req.Key])
		if err != nil {
			return Response{}, err
		}
		return Response{Revision: r.Header.Revision, KVs: []KV{c.one(req.Key, r.Kvs)}}, nil
	case OpSerializableGet:
		r, err := c.cli.Get(ctx, c.keys[req.Key], clientv3.WithSerializable())
		if err != nil {
			return Response{}, err
		}
		return Response{Revision: r.Header.Revision, KVs: []KV{c.one(req.Key, r.Kvs)}}, nil
	case OpRange:
		r, err := c.cli.Get(ctx, Prefix, clientv3.WithPrefix())
		if err != nil {
			return Response{}, err
		}
		resp := Response{Revision: r.Header.Revision}
		for _, kv := range r.Kvs {
			resp.KVs = append(resp.KVs, c.toKV(kv))
		}
		return resp, nil
	case OpPut:
		r, err := c.cli.Put(ctx, c.keys[req.Key], req.Value)
		if err != nil {
			return Response{}, err
		}
		return Response{Revision: r.Header.Revision}, nil
	case OpDelete:
		r, err := c.cli.Delete(ctx, c.keys[req.Key])
		if err != nil {
			return Response{}, err
		}
		return Response{Revision: r.Header.Revision, Deleted: r.Deleted}, nil
	case OpTxn:
		key := c.keys[req.Key]
		var cmp clientv3.Cmp
		if req.Cmp.Target == CmpModRev {
			cmp = clientv3.Compare(clientv3.ModRevision(key), "=", req.Cmp.ModRev)
		} else {
			cmp = clientv3.Compare(clientv3.Value(key), "=", req.Cmp.Value)
		}
		var then, els []clientv3.Op
		for _, p := range req.Puts {
			then = append(then, clientv3.OpPut(c.keys[p.Key], p.Value))
			els = append(els, clientv3.OpGet(c.keys[p.Key]))
		}
		r, err := c.cli.Txn(ctx).If(cmp).Then(then...).Else(els...).Commit()
		if err != nil {
			return Response{}, err
		}
		resp := Response{Revision: r.Header.Revision, Succeeded: r.Succeeded}
		if !r.Succeeded {
			if len(r.Responses) != len(req.Puts) {
				return Response{}, fmt.Errorf("txn else branch: %d responses for %d gets", len(r.Responses), len(req.Puts))
			}
			for i, p := range req.Puts {
				rr := r.Responses[i].GetResponseRange()
				if rr == nil {
					return Response{}, fmt.Errorf("txn else branch: response %d is not a range", i)
				}
				resp.KVs = append(resp.KVs, c.one(p.Key, rr.Kvs))
			}
		}
		return resp, nil
	}
	return Response{}, fmt.Errorf("unknown request %v", req)
}

// one turns a Get of key k into one KV; a key absent, or a response with
// more than one KV (which the model then refuses), keep their shape.
func (c *client) one(k int, kvs []*mvccpb.KeyValue) KV {
	if len(kvs) == 0 {
		return KV{Key: k}
	}
	kv := c.toKV(kvs[0])
	if len(kvs) > 1 {
		kv.Key = -1
	}
	return kv
}

// toKV converts a KeyValue; a key outside the key set gets Key -1, which
// the model never accepts.
func (c *client) toKV(kv *mvccpb.KeyValue) KV {
	return KV{
		Key:       c.keys.Index(string(kv.Key)),
		Value:     string(kv.Value),
		CreateRev: kv.CreateRevision,
		ModRev:    kv.ModRevision,
		Version:   kv.Version,
	}
}
