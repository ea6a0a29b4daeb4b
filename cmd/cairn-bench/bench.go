package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/benchstat"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// bench is one benchmark run: its connections and settings.
type bench struct {
	g         *globals
	ks        keyspace
	endpoints []string           // the endpoints requests go to
	conns     []*clientv3.Client // connection i talks to endpoints[i % len]
	progress  bool               // draw a progress bar on g.stderr
}

// client returns the connection of client goroutine w.
func (b *bench) client(w int) *clientv3.Client { return b.conns[w%len(b.conns)] }

// benchmarkE adapts a benchmark body into a cobra RunE: it validates the
// flags, connects, runs the body until it finishes or SIGINT/SIGTERM
// arrives, prints the report (also a partial one after an interrupt) and
// closes the connections. check, when not nil, validates the subcommand's
// own flags and arguments first.
func (g *globals) benchmarkE(name string, check func(args []string) error, body func(ctx context.Context, b *bench, args []string) (*report, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := g.validate(); err != nil {
			return err
		}
		if check != nil {
			if err := check(args); err != nil {
				return err
			}
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		b, err := g.connect(ctx)
		if err != nil {
			return &runtimeError{err: err}
		}
		defer b.close()
		r, err := body(ctx, b, args)
		if err != nil {
			return &runtimeError{err: err}
		}
		r.Benchmark = name
		r.Endpoints = b.endpoints
		r.Conns, r.Clients = len(b.conns), g.clients
		r.Interrupted = ctx.Err() != nil
		if err := r.write(cmd.OutOrStdout(), g.json); err != nil {
			return &runtimeError{err: err}
		}
		if r.Interrupted {
			return &runtimeError{err: errors.New("interrupted: the results above are partial")}
		}
		return nil
	}
}

// connect resolves the endpoints (the leader alone with --target-leader),
// opens the connections and checks that every endpoint answers Status.
func (g *globals) connect(ctx context.Context) (*bench, error) {
	ks, err := newKeyspace(g.keySize, g.keySpaceSize, g.sequentialKeys)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := g.tlsConfig()
	if err != nil {
		return nil, err
	}
	b := &bench{g: g, ks: ks, endpoints: g.endpoints, progress: isTerminal(g.stderr)}
	if g.targetLeader {
		leader, err := g.findLeader(ctx, tlsCfg)
		if err != nil {
			return nil, err
		}
		b.endpoints = []string{leader}
	}
	if len(b.endpoints) > g.conns {
		// Connection i talks to endpoint i mod len, so endpoints past
		// --conns would get no traffic: leave them out, also of the report.
		b.endpoints = b.endpoints[:g.conns]
	}
	for i := range g.conns {
		// One endpoint per connection, not all of them: the spread over
		// the endpoints is then fixed by --conns, not left to a balancer.
		cli, err := clientv3.New(g.clientConfig([]string{b.endpoints[i%len(b.endpoints)]}, tlsCfg))
		if err != nil {
			b.close()
			return nil, fmt.Errorf("connect to %s: %w", b.endpoints[i%len(b.endpoints)], err)
		}
		b.conns = append(b.conns, cli)
	}
	// clientv3 connects lazily; without this an unreachable endpoint
	// would show up as a run of failed requests instead of one message.
	for i, ep := range b.endpoints {
		sctx, cancel := context.WithTimeout(ctx, g.dialTimeout)
		_, err := b.conns[i].Status(sctx, ep)
		cancel()
		if err != nil {
			b.close()
			return nil, fmt.Errorf("endpoint %s does not answer: %w", ep, err)
		}
	}
	return b, nil
}

// findLeader asks each endpoint for its status and returns the endpoint of
// the member that is the leader.
func (g *globals) findLeader(ctx context.Context, tlsCfg *tls.Config) (string, error) {
	cli, err := clientv3.New(g.clientConfig(g.endpoints, tlsCfg))
	if err != nil {
		return "", fmt.Errorf("--target-leader: %w", err)
	}
	defer cli.Close()
	var errs []error
	var leader uint64
	for _, ep := range g.endpoints {
		sctx, cancel := context.WithTimeout(ctx, g.dialTimeout)
		st, err := cli.Status(sctx, ep)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
			continue
		}
		if st.Leader != 0 && st.Leader == st.Header.GetMemberId() {
			return ep, nil
		}
		leader = st.Leader
	}
	if leader != 0 {
		errs = append(errs, fmt.Errorf("the leader is member %x, which is not among --endpoints", leader))
	} else {
		errs = append(errs, errors.New("no endpoint knows a leader"))
	}
	return "", fmt.Errorf("--target-leader: %w", errors.Join(errs...))
}

func (b *bench) close() {
	for _, c := range b.conns {
		c.Close()
	}
}

// phase is one batch of requests: total requests, numbered 0…total-1,
// taken in order by client goroutines as they become free (a closed loop:
// each goroutine has at most one request in flight).
type phase struct {
	label  string                                         // for the progress bar
	total  int                                            // requests
	pace   *pacer                                         // nil: unlimited
	do     func(ctx context.Context, worker, i int) error // sends request i from goroutine worker, within ctx's deadline
	record func(i int, latency time.Duration, err error)  // the outcome of request i
}

// run runs ph from --clients goroutines and returns its wall time, from
// the start of the first request to the end of the last. Each request gets
// --request-timeout. Requests cut short by ctx (an interrupt) are not
// recorded: they say nothing about the server.
func (b *bench) run(ctx context.Context, ph phase) time.Duration {
	var next, done atomic.Int64
	stopProgress := b.showProgress(ph.label, ph.total, done.Load)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range min(b.g.clients, ph.total) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= ph.total || ph.pace.wait(ctx) != nil {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, b.g.requestTimeout)
				t0 := time.Now()
				err := ph.do(rctx, w, i)
				latency := time.Since(t0)
				cancel()
				if ctx.Err() != nil {
					return
				}
				ph.record(i, latency, err)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return elapsed
}

// single runs --total requests of one kind, each sent by do, and reports
// their latencies as the main series, labelled mainLabel; label is the
// progress bar's.
func (b *bench) single(ctx context.Context, label, mainLabel string, do func(ctx context.Context, worker, i int) error) *report {
	rec := benchstat.NewRecorder(b.g.total)
	elapsed := b.run(ctx, phase{label: label, total: b.g.total, pace: newPacer(b.g.rate), do: do, record: into(rec)})
	return &report{MainLabel: mainLabel, Main: rec.Summary(elapsed)}
}

// into is a phase's record function that records every outcome in rec.
func into(rec *benchstat.Recorder) func(int, time.Duration, error) {
	return func(_ int, latency time.Duration, err error) { rec.Record(latency, err) }
}
