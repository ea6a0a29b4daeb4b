package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/benchstat"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchFlags are the flags of watch and watch-latency.
type watchFlags struct {
	watchers int
	streams  int
	putTotal int
	wait     time.Duration
}

func (f *watchFlags) register(cmd *cobra.Command, watchers, streams int) {
	fs := cmd.Flags()
	fs.IntVar(&f.watchers, "watchers", watchers, "watchers; watcher j watches key j mod --key-space-size")
	fs.IntVar(&f.streams, "streams", streams, "gRPC watch streams the watchers share, spread over the connections")
	fs.IntVar(&f.putTotal, "put-total", 0, "puts that produce the events; 0 means --total")
	fs.DurationVar(&f.wait, "wait", 30*time.Second, "after the last put, how long to wait for the events still due")
}

func (f *watchFlags) check(g *globals) func([]string) error {
	return func([]string) error {
		switch {
		case f.watchers < 1:
			return usagef("--watchers must be at least 1")
		case f.streams < 1 || f.streams > f.watchers:
			return usagef("--streams must be between 1 and --watchers")
		case f.putTotal < 0:
			return usagef("--put-total must not be negative")
		case f.wait <= 0:
			return usagef("--wait must be positive")
		}
		if f.putTotal == 0 {
			f.putTotal = g.total
		}
		return nil
	}
}

func newWatchCmd(g *globals) *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Deliver the events of many puts to many watchers over many streams",
		Long: `watch opens --streams watch streams and creates --watchers watchers on
them, watcher j on key j mod --key-space-size (so with the default key space
of 1, every watcher sees every put). Then it sends --put-total puts to the
key space, paced by --rate, and waits until every watcher has received the
event of every put to its key, or --wait has passed since the last put.

The report gives the events expected, received and missing and the rate of
delivery (events per second from the first put to the last event), then the
latency of the puts and of the watch creations.`,
		Args: cobra.NoArgs,
		RunE: g.benchmarkE("watch", f.check(g), func(ctx context.Context, b *bench, _ []string) (*report, error) {
			o := runWatch(ctx, b, &f, false)
			return &report{
				MainLabel: "put",
				Main:      o.put,
				Parts:     []part{{Name: "watch create", Summary: o.create}},
				Events:    &o.events,
			}, nil
		}),
	}
	f.register(cmd, 100, 10)
	return cmd
}

func newWatchLatencyCmd(g *globals) *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch-latency",
		Short: "Time from a put's response to its watch event, at each watcher",
		Long: `watch-latency sets up watchers and puts as watch does, and for every event a
watcher receives takes the time from the moment the client had the put's
response to the moment the watcher had the event; the event and the put are
matched by revision. An event that arrives before the put's response counts
as 0. Pace the puts with --rate to measure delivery rather than queueing.

The report gives the delivery latencies (one per event; a missing event is
an error), then the puts and the watch creations.`,
		Args: cobra.NoArgs,
		RunE: g.benchmarkE("watch-latency", f.check(g), func(ctx context.Context, b *bench, _ []string) (*report, error) {
			o := runWatch(ctx, b, &f, true)
			return &report{
				MainLabel: "event delivery",
				Main:      o.delivery,
				Parts: []part{
					{Name: "put", Summary: o.put},
					{Name: "watch create", Summary: o.create},
				},
				Events: &o.events,
			}, nil
		}),
	}
	f.register(cmd, 10, 10)
	return cmd
}

// watchOutcome is what runWatch measured.
type watchOutcome struct {
	create   benchstat.Summary // one latency per watch creation
	put      benchstat.Summary // one latency per put
	events   eventStats
	delivery benchstat.Summary // one latency per event; only when timed
}

// watcher is one watch, set up by the goroutine that created it.
type watcher struct {
	keyIdx int
	cancel context.CancelFunc
	got    *arrivals // nil unless created
}

// arrivals are written by a watch's consuming goroutine and read only after
// it ended; they sit behind a pointer so that reading a watcher never
// copies them while they change.
type arrivals struct {
	last   time.Time      // when the last event arrived
	events []eventArrival // every event, when timed
}

type eventArrival struct {
	rev int64
	at  time.Time
}

// putAck is the outcome of one put, written by the goroutine that sent it.
type putAck struct {
	ok     bool
	keyIdx int
	rev    int64
	at     time.Time // when the response arrived
}

// runWatch creates the watchers, sends the puts, waits for the events and
// tears the watchers down. With timed, it keeps every event's arrival and
// matches it with its put's response.
func runWatch(ctx context.Context, b *bench, f *watchFlags, timed bool) watchOutcome {
	g := b.g
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	streams := make([]clientv3.Watcher, f.streams)
	for s := range streams {
		// A Watcher multiplexes all its watches onto one gRPC stream
		// (per distinct context metadata), so one Watcher is one stream.
		streams[s] = clientv3.NewWatcher(b.conns[s%len(b.conns)])
	}

	var (
		watchers  = make([]watcher, f.watchers)
		received  atomic.Int64
		consumers sync.WaitGroup
		streamErr = benchstat.NewRecorder(0) // errors only
	)
	consume := func(got *arrivals, ch clientv3.WatchChan) {
		for resp := range ch {
			if err := resp.Err(); err != nil {
				if wctx.Err() == nil { // not our own teardown
					streamErr.Record(0, fmt.Errorf("watch: %w", err))
				}
				continue
			}
			if len(resp.Events) == 0 {
				continue
			}
			now := time.Now()
			got.last = now
			if timed {
				for _, ev := range resp.Events {
					got.events = append(got.events, eventArrival{rev: ev.Kv.ModRevision, at: now})
				}
			}
			received.Add(int64(len(resp.Events)))
		}
	}

	// 1. Create the watchers, each awaiting its creation notice, so that
	// every put below is after every watch's start revision.
	createRec := benchstat.NewRecorder(f.watchers)
	createElapsed := b.run(ctx, phase{
		label: "watch create",
		total: f.watchers,
		do: func(rctx context.Context, _, j int) error {
			w := &watchers[j]
			w.keyIdx = j % b.ks.space
			wc, cancel := context.WithCancel(wctx)
			ch := streams[j%len(streams)].Watch(wc, b.ks.key(w.keyIdx), clientv3.WithCreatedNotify())
			select {
			case resp, ok := <-ch:
				switch {
				case !ok:
					cancel()
					return errors.New("watch closed before it was created")
				case resp.Err() != nil:
					cancel()
					return resp.Err()
				case !resp.Created:
					cancel()
					return errors.New("watch answered before its creation notice")
				}
			case <-rctx.Done():
				cancel()
				return rctx.Err()
			}
			w.cancel, w.got = cancel, &arrivals{}
			consumers.Go(func() { consume(w.got, ch) })
			return nil
		},
		record: into(createRec),
	})

	// 2. Put.
	val := value(g.valSize)
	puts := make([]putAck, f.putTotal)
	putRec := benchstat.NewRecorder(f.putTotal)
	putStart := time.Now()
	putElapsed := b.run(ctx, phase{
		label: "put",
		total: f.putTotal,
		pace:  newPacer(g.rate),
		do: func(rctx context.Context, w, i int) error {
			n := b.ks.index(i)
			resp, err := b.client(w).Put(rctx, b.ks.key(n), val)
			if err != nil {
				return err
			}
			puts[i] = putAck{ok: true, keyIdx: n, rev: resp.Header.Revision, at: time.Now()}
			return nil
		},
		record: into(putRec),
	})

	// 3. Wait for the events every successful put owes its key's watchers.
	perKey := make([]int64, b.ks.space)
	for _, w := range watchers {
		if w.got != nil {
			perKey[w.keyIdx]++
		}
	}
	var expected int64
	for _, p := range puts {
		if p.ok {
			expected += perKey[p.keyIdx]
		}
	}
	deadline := time.Now().Add(f.wait)
	tick := time.NewTicker(2 * time.Millisecond) // the arrival times, not this poll, are what is measured
	for received.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		<-tick.C
	}
	tick.Stop()

	// 4. Tear down: cancel every watch, close the streams, and wait for
	// the consumers, after which their fields may be read.
	wcancel()
	for _, w := range watchers {
		if w.cancel != nil {
			w.cancel()
		}
	}
	for _, s := range streams {
		s.Close()
	}
	consumers.Wait()

	var last time.Time
	for _, w := range watchers {
		if w.got != nil && w.got.last.After(last) {
			last = w.got.last
		}
	}
	errs := streamErr.Summary(0)
	o := watchOutcome{
		create: createRec.Summary(createElapsed),
		put:    putRec.Summary(putElapsed),
		events: eventStats{
			Watchers:     f.watchers,
			Streams:      f.streams,
			Expected:     expected,
			Received:     received.Load(),
			Errors:       errs.Errors,
			ErrorSamples: errs.ErrorSamples,
		},
	}
	if !last.IsZero() {
		o.events.Elapsed = last.Sub(putStart)
	}
	if timed {
		o.delivery = deliveryLatencies(watchers, puts, o.events, f.wait)
	}
	return o
}

// deliveryLatencies matches each event with the response of the put that
// made it, by revision, and summarizes the time between the two. An event
// without a matching response (its put failed at the client but was
// applied) and an expected event that never came are errors.
func deliveryLatencies(watchers []watcher, puts []putAck, ev eventStats, wait time.Duration) benchstat.Summary {
	ackAt := make(map[int64]time.Time, len(puts))
	for _, p := range puts {
		if p.ok {
			ackAt[p.rev] = p.at
		}
	}
	rec := benchstat.NewRecorder(int(ev.Received))
	unmatched := errors.New("event of a put whose response never came")
	for _, w := range watchers {
		if w.got == nil {
			continue
		}
		for _, e := range w.got.events {
			ack, ok := ackAt[e.rev]
			if !ok {
				rec.Record(0, unmatched)
				continue
			}
			// The member may send the event before the put's response;
			// the event was then delivered no later than the response.
			rec.Record(max(0, e.at.Sub(ack)), nil)
		}
	}
	missing := fmt.Errorf("event not received within --wait %v", wait)
	for range ev.Missing() {
		rec.Record(0, missing)
	}
	return rec.Summary(ev.Elapsed)
}
