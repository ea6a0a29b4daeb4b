package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Raft is the part of the raft node the Transport delivers to.
type Raft interface {
	// Process steps a message received from a peer.
	Process(ctx context.Context, m raftpb.Message) error
	// IsRemovedID reports whether the member id was removed from the cluster.
	IsRemovedID(id uint64) bool
	// ReportUnreachable tells raft that id could not be reached. It may be
	// called from Send's caller and must not block.
	ReportUnreachable(id uint64)
	// ReportSnapshot is told whether a snapshot sent to id was installed.
	ReportSnapshot(id uint64, ok bool)
}

// Snapshotter moves the state behind a MsgSnap: raft's snapshot message
// carries only metadata, the state follows it on the same request.
type Snapshotter interface {
	// OpenSnapshot captures the current state. meta describes exactly that
	// state and replaces the message's metadata; write streams it; release
	// frees it and must be called once, whatever happened.
	OpenSnapshot() (meta raftpb.SnapshotMetadata, write func(io.Writer) error, release func(), err error)
	// ReceiveSnapshot stages the state read from r, which m's metadata
	// describes, and then hands m to raft. An error refuses the snapshot.
	ReceiveSnapshot(ctx context.Context, m raftpb.Message, r io.Reader) error
}

// Options configures a Transport.
type Options struct {
	// ID is this member's ID. Required.
	ID uint64
	// ClusterID returns the current cluster ID. Required; it is called for
	// every stream, so it may change after start-up (e.g. on join).
	ClusterID func() uint64
	// Raft receives incoming messages. Required.
	Raft Raft
	// Logger; default zap.NewNop().
	Logger *zap.Logger
	// DialTimeout bounds connecting and waiting for the stream's response
	// headers. Default 1s.
	DialTimeout time.Duration
	// QueueSize is the number of messages buffered per peer. Default 4096.
	QueueSize int
	// OnClusterMismatch, if set, is told the remote cluster ID when a peer
	// refuses a stream because it belongs to another cluster. It is called
	// from a peer's goroutine and must not block.
	OnClusterMismatch func(remote uint64)
	// OnRemoved, if set, is called when a peer refuses a stream because
	// this member was removed from the cluster. It is called from a peer's
	// goroutine and must not block.
	OnRemoved func()
	// Snapshots produces and consumes the state behind MsgSnap messages.
	// Nil: snapshots cannot be sent (each is reported failed) or received.
	Snapshots Snapshotter
	// TLSConfig, if set, secures outgoing connections (https peer URLs)
	// of the Transport's own client. Its NextProtos should offer only
	// http/1.1: the streams are HTTP/1.1.
	TLSConfig *tls.Config
	// HTTPClient, if set, is used for outgoing streams (e.g. for TLS). It
	// must speak HTTP/1.1 and must not set Client.Timeout, which would cut
	// long-lived streams. Default: a private client built from DialTimeout.
	HTTPClient *http.Client
}

// Default option values.
const (
	DefaultDialTimeout = time.Second
	DefaultQueueSize   = 4096
)

// EnsureDefaults fills unset fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	return o
}

// Validate reports the first required field that is missing.
func (o *Options) Validate() error {
	switch {
	case o.ID == 0:
		return errors.New("transport: Options.ID is zero")
	case o.ClusterID == nil:
		return errors.New("transport: Options.ClusterID is nil")
	case o.Raft == nil:
		return errors.New("transport: Options.Raft is nil")
	case o.HTTPClient != nil && o.HTTPClient.Timeout != 0:
		return errors.New("transport: Options.HTTPClient must not set Timeout")
	}
	return nil
}
