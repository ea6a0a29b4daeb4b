package v3rpc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// watchEventsField is the field number of WatchResponse.events.
const watchEventsField = 11

// watchFragments splits wr into responses that each encode to fewer than limit
// bytes (a single event may exceed it), all marked Fragment but the last,
// as etcd does for watchers created with fragment set. A response that fits,
// or holds fewer than two events, is returned whole.
func watchFragments(wr *pb.WatchResponse, limit int) []*pb.WatchResponse {
	if len(wr.Events) < 2 || proto.Size(wr) < limit {
		return []*pb.WatchResponse{wr}
	}
	frame := func(evs []*mvccpb.Event) *pb.WatchResponse {
		return &pb.WatchResponse{
			Header:          wr.Header,
			WatchId:         wr.WatchId,
			Created:         wr.Created,
			Canceled:        wr.Canceled,
			CompactRevision: wr.CompactRevision,
			CancelReason:    wr.CancelReason,
			Fragment:        true,
			Events:          evs,
		}
	}
	base := proto.Size(frame(nil))
	var out []*pb.WatchResponse
	start, size := 0, base
	for i, ev := range wr.Events {
		cost := protowire.SizeTag(watchEventsField) + protowire.SizeBytes(proto.Size(ev))
		if i > start && size+cost >= limit {
			out = append(out, frame(wr.Events[start:i:i]))
			start, size = i, base
		}
		size += cost
	}
	last := frame(wr.Events[start:])
	last.Fragment = false
	return append(out, last)
}
