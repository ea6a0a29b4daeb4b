package v3rpc

import (
	"bytes"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// watchResponse returns a response whose encoding is about n bytes.
func watchResponse(n int) *pb.WatchResponse {
	wr := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 7}, WatchId: 3}
	for size := 0; size < n; size += 300 {
		wr.Events = append(wr.Events, &mvccpb.Event{Kv: &mvccpb.KeyValue{
			Key: []byte("key"), Value: bytes.Repeat([]byte{'v'}, 280), ModRevision: 7}})
	}
	return wr
}

func TestCodecRoundTripAndBufferSize(t *testing.T) {
	c := newCodec()
	for _, n := range []int{100, 2 << 10, 40 << 10, 300 << 10} {
		in := watchResponse(n)
		data, err := c.Marshal(in)
		if err != nil {
			t.Fatalf("%d: marshal: %v", n, err)
		}
		size := proto.Size(in)
		if data.Len() != size {
			t.Errorf("%d: encoded %d bytes, proto.Size says %d", n, data.Len(), size)
		}
		// The point of this codec: a buffer at most twice its message
		// (gRPC's default pool gives a 40 KiB message a 1 MiB buffer).
		for _, b := range data {
			if c := cap(b.ReadOnlyData()); c > 2*size && c > poolThreshold {
				t.Errorf("%d: a %d-byte message holds a %d-byte buffer", n, size, c)
			}
		}
		out := &pb.WatchResponse{}
		if err := c.Unmarshal(data, out); err != nil {
			t.Fatalf("%d: unmarshal: %v", n, err)
		}
		if !proto.Equal(in, out) {
			t.Errorf("%d: round trip changed the message", n)
		}
		data.Free()
	}
}

func TestCodecRefusesNonProto(t *testing.T) {
	c := newCodec()
	if _, err := c.Marshal(struct{}{}); err == nil {
		t.Error("Marshal of a non-proto value succeeded")
	}
	data, _ := c.Marshal(&pb.RangeRequest{Key: []byte("k")})
	if err := c.Unmarshal(data, &struct{}{}); err == nil {
		t.Error("Unmarshal into a non-proto value succeeded")
	}
	// Garbage bytes are an error, never a panic.
	bad := mem.BufferSlice{mem.SliceBuffer([]byte{0xff, 0xff, 0xff})}
	if err := c.Unmarshal(bad, &pb.WatchResponse{}); err == nil {
		t.Error("Unmarshal of garbage succeeded")
	}
}
