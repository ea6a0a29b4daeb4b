package v3rpc

import (
	"fmt"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// codec is gRPC's proto codec with a finer buffer pool. gRPC's default
// pool has size classes 256 B, 4, 16 and 32 KiB, then 1 MiB, so every
// encoded message between 32 KiB and 1 MiB holds a whole MiB while it
// waits for the client: a watch stream behind on a busy key queues many
// such responses, and a member's heap grew to hundreds of MiB of mostly
// empty buffers. Here every power of two is a class, so a buffer is at
// most twice its message.
type codec struct{ pool mem.BufferPool }

// poolThreshold is gRPC's: smaller messages are allocated, not pooled.
const poolThreshold = 1 << 10

func newCodec() codec {
	exps := make([]uint8, 0, 13)
	for e := uint8(8); e <= 20; e++ {
		exps = append(exps, e)
	}
	p, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		panic(fmt.Sprintf("v3rpc: buffer pool classes: %v", err)) // constant input
	}
	return codec{pool: p}
}

func (codec) Name() string { return "proto" }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("v3rpc: cannot marshal %T: not a proto message", v)
	}
	size := proto.Size(m)
	// UseCachedSize reuses the Size just computed; nothing else touches m.
	opts := proto.MarshalOptions{UseCachedSize: true}
	if size < poolThreshold {
		b, err := opts.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	buf := c.pool.Get(size)
	b, err := opts.MarshalAppend((*buf)[:0], m)
	if err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	*buf = b
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("v3rpc: cannot unmarshal into %T: not a proto message", v)
	}
	buf := data.MaterializeToBuffer(c.pool)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}
