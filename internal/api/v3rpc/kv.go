package v3rpc

import (
	"context"

	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/server"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

type kvServer struct {
	pb.UnimplementedKVServer
	s         *server.Server
	maxTxnOps int
}

func newKVServer(s *server.Server) pb.KVServer {
	return &kvServer{s: s, maxTxnOps: s.Options().MaxTxnOps}
}

func (k *kvServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := mvcc.CheckRange(r); err != nil {
		return nil, toGRPC(err)
	}
	resp, err := k.s.Range(ctx, r)
	return resp, toGRPC(err)
}

func (k *kvServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := mvcc.CheckPut(r); err != nil {
		return nil, toGRPC(err)
	}
	resp, err := k.s.Put(ctx, r)
	return resp, toGRPC(err)
}

func (k *kvServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := mvcc.CheckDeleteRange(r); err != nil {
		return nil, toGRPC(err)
	}
	resp, err := k.s.DeleteRange(ctx, r)
	return resp, toGRPC(err)
}

func (k *kvServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := mvcc.CheckTxn(r, k.maxTxnOps); err != nil {
		return nil, toGRPC(err)
	}
	resp, err := k.s.Txn(ctx, r)
	return resp, toGRPC(err)
}

func (k *kvServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := k.s.Compact(ctx, r)
	return resp, toGRPC(err)
}
