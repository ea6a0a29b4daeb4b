package main

import (
	"context"
	"fmt"

	"github.com/cairn-db/cairn/internal/benchstat"
	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func newLeaseKeepaliveCmd(g *globals) *cobra.Command {
	var leases int
	var ttl int64
	var keep bool
	cmd := &cobra.Command{
		Use:   "lease-keepalive",
		Short: "Keep many leases alive; time each keepalive round trip",
		Long: `lease-keepalive grants --leases leases of --ttl seconds, then sends --total
keepalive requests, request i refreshing lease i mod --leases. Each client
goroutine keeps one LeaseKeepAlive stream open and has one request on it at
a time, so a latency is one round trip on an open stream, not the opening of
one. The leases are revoked at the end unless --keep-leases is given.

The report gives the keepalives, then the grants and the revocations.`,
		Args: cobra.NoArgs,
		RunE: g.benchmarkE("lease-keepalive", func([]string) error {
			if leases < 1 {
				return usagef("--leases must be at least 1")
			}
			if ttl < 1 {
				return usagef("--ttl must be at least 1 second")
			}
			return nil
		}, func(ctx context.Context, b *bench, _ []string) (*report, error) {
			return runLeaseKeepalive(ctx, b, leases, ttl, keep)
		}),
	}
	cmd.Flags().IntVar(&leases, "leases", 100, "leases to grant and keep alive")
	cmd.Flags().Int64Var(&ttl, "ttl", 60, "TTL of the leases, in seconds")
	cmd.Flags().BoolVar(&keep, "keep-leases", false, "do not revoke the leases at the end; they expire after --ttl")
	return cmd
}

func runLeaseKeepalive(ctx context.Context, b *bench, leases int, ttl int64, keep bool) (*report, error) {
	g := b.g
	// 1. Grant.
	ids := make([]clientv3.LeaseID, leases)
	grantRec := benchstat.NewRecorder(leases)
	grantElapsed := b.run(ctx, phase{
		label: "grant",
		total: leases,
		do: func(rctx context.Context, w, i int) error {
			resp, err := b.client(w).Grant(rctx, ttl)
			if err != nil {
				return err
			}
			ids[i] = resp.ID
			return nil
		},
		record: into(grantRec),
	})
	var granted []clientv3.LeaseID
	for _, id := range ids {
		if id != 0 {
			granted = append(granted, id)
		}
	}
	r := &report{MainLabel: "keepalive", Parts: []part{{Name: "grant", Summary: grantRec.Summary(grantElapsed)}}}
	if len(granted) == 0 {
		if ctx.Err() != nil {
			return r, nil // interrupted: report what there is
		}
		return nil, fmt.Errorf("no lease could be granted: %v", firstError(grantRec))
	}

	// 2. Keep alive, one stream per client goroutine.
	streams := make([]*keepaliveStream, g.clients)
	defer func() {
		for _, s := range streams {
			s.close()
		}
	}()
	rec := benchstat.NewRecorder(g.total)
	elapsed := b.run(ctx, phase{
		label: "keepalive",
		total: g.total,
		pace:  newPacer(g.rate),
		do: func(rctx context.Context, w, i int) error {
			if streams[w] == nil {
				s, err := openKeepaliveStream(ctx, b.client(w))
				if err != nil {
					return err
				}
				streams[w] = s
			}
			err := streams[w].keepalive(rctx, granted[i%len(granted)])
			if err != nil && streams[w].broken {
				// A stream that failed or fell out of step is dropped;
				// the goroutine's next request opens a new one.
				streams[w].close()
				streams[w] = nil
			}
			return err
		},
		record: into(rec),
	})
	r.Main = rec.Summary(elapsed)

	// 3. Revoke, unless asked not to or interrupted (the TTL then cleans
	// up, and a user who pressed ^C does not want to wait).
	if !keep && ctx.Err() == nil {
		revokeRec := benchstat.NewRecorder(len(granted))
		revokeElapsed := b.run(ctx, phase{
			label: "revoke",
			total: len(granted),
			do: func(rctx context.Context, w, i int) error {
				_, err := b.client(w).Revoke(rctx, granted[i])
				return err
			},
			record: into(revokeRec),
		})
		r.Parts = append(r.Parts, part{Name: "revoke", Summary: revokeRec.Summary(revokeElapsed)})
	}
	return r, nil
}

func firstError(r *benchstat.Recorder) string {
	s := r.Summary(0)
	if len(s.ErrorSamples) == 0 {
		return "no error recorded"
	}
	return s.ErrorSamples[0].Text
}

// keepaliveStream is one LeaseKeepAlive stream used by one goroutine, one
// request at a time. Responses are read by a goroutine of their own so that
// a request can give up at its deadline.
type keepaliveStream struct {
	cancel context.CancelFunc
	stream pb.Lease_LeaseKeepAliveClient
	resps  chan keepaliveResult // from the reading goroutine
	broken bool                 // a request failed: the stream is out of step
}

type keepaliveResult struct {
	resp *pb.LeaseKeepAliveResponse
	err  error
}

// openKeepaliveStream opens a stream on cli's connection. The raw gRPC
// client is used because clientv3's KeepAliveOnce opens a stream per call,
// and its KeepAlive paces requests by the TTL: neither times a round trip.
func openKeepaliveStream(ctx context.Context, cli *clientv3.Client) (*keepaliveStream, error) {
	sctx, cancel := context.WithCancel(ctx)
	stream, err := pb.NewLeaseClient(cli.ActiveConnection()).LeaseKeepAlive(sctx)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &keepaliveStream{cancel: cancel, stream: stream, resps: make(chan keepaliveResult, 1)}
	go func() {
		for {
			resp, err := stream.Recv()
			select {
			case s.resps <- keepaliveResult{resp, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return s, nil
}

// keepalive refreshes lease id and waits for the answer.
func (s *keepaliveStream) keepalive(ctx context.Context, id clientv3.LeaseID) error {
	if err := s.stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(id)}); err != nil {
		s.broken = true
		return err
	}
	select {
	case r := <-s.resps:
		switch {
		case r.err != nil:
			s.broken = true
			return r.err
		case r.resp.ID != int64(id):
			s.broken = true
			return fmt.Errorf("keepalive of lease %x answered for lease %x", id, r.resp.ID)
		case r.resp.TTL <= 0:
			return fmt.Errorf("lease %x not found", id)
		}
		return nil
	case <-ctx.Done():
		s.broken = true // its answer may still come and be taken for the next one's
		return ctx.Err()
	}
}

// close ends the stream and its reading goroutine; nil is fine.
func (s *keepaliveStream) close() {
	if s == nil {
		return
	}
	s.cancel()
}
