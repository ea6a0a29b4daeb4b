package main

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cairn-db/cairn/internal/benchstat"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func newPutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "put",
		Short: "Put --total keys of --key-size bytes with values of --val-size bytes",
		Long: `put sends --total Put requests. Keys are numbers below --key-space-size
in decimal, zero-padded to --key-size bytes, chosen at random or, with
--sequential-keys, in turn.`,
		Args: cobra.NoArgs,
		RunE: g.benchmarkE("put", nil, func(ctx context.Context, b *bench, _ []string) (*report, error) {
			val := value(g.valSize)
			return b.single(ctx, "put", "put", func(ctx context.Context, w, i int) error {
				_, err := b.client(w).Put(ctx, b.ks.key(b.ks.index(i)), val)
				return err
			}), nil
		}),
	}
}

// readFlags are the flags of the benchmarks that read a range.
type readFlags struct {
	prefix bool
	limit  int64
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.prefix, "prefix", false, "read every key with KEY as prefix")
	cmd.Flags().Int64Var(&f.limit, "limit", 0, "return at most this many keys per read; 0 is no limit")
}

// check validates the flags against the KEY [END] arguments.
func (f *readFlags) check(args []string) error {
	if f.prefix && len(args) == 2 {
		return usagef("give either --prefix or END, not both")
	}
	if f.limit < 0 {
		return usagef("--limit must not be negative")
	}
	return nil
}

// options are the clientv3 options of one read of [args[0], args[1]).
func (f *readFlags) options(g *globals, args []string) []clientv3.OpOption {
	var opts []clientv3.OpOption
	switch {
	case len(args) == 2:
		opts = append(opts, clientv3.WithRange(args[1]))
	case f.prefix:
		opts = append(opts, clientv3.WithPrefix())
	}
	if f.limit > 0 {
		opts = append(opts, clientv3.WithLimit(f.limit))
	}
	if g.serializable() {
		opts = append(opts, clientv3.WithSerializable())
	}
	return opts
}

func newRangeCmd(g *globals) *cobra.Command {
	var rf readFlags
	cmd := &cobra.Command{
		Use:   "range KEY [END]",
		Short: "Read KEY, the range [KEY, END), or with --prefix every key under KEY",
		Long: `range sends --total Range requests for KEY, for the keys in [KEY, END), or
with --prefix for the keys that start with KEY. --consistency s makes them
serializable: any member answers from its own state.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: g.benchmarkE("range", rf.check, func(ctx context.Context, b *bench, args []string) (*report, error) {
			key, opts := args[0], rf.options(g, args)
			return b.single(ctx, "range", "range", func(ctx context.Context, w, _ int) error {
				_, err := b.client(w).Get(ctx, key, opts...)
				return err
			}), nil
		}),
	}
	rf.register(cmd)
	return cmd
}

func newTxnPutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "txn-put",
		Short: "Like put, but each request is a Txn holding one Put",
		Long: `txn-put sends --total Txn requests, each with no condition and one Put in
its success branch; keys and values are chosen as by put. Compared with
put, it measures what the transaction path adds.`,
		Args: cobra.NoArgs,
		RunE: g.benchmarkE("txn-put", nil, func(ctx context.Context, b *bench, _ []string) (*report, error) {
			val := value(g.valSize)
			return b.single(ctx, "txn-put", "txn", func(ctx context.Context, w, i int) error {
				_, err := b.client(w).Txn(ctx).Then(clientv3.OpPut(b.ks.key(b.ks.index(i)), val)).Commit()
				return err
			}), nil
		}),
	}
}

func newTxnMixedCmd(g *globals) *cobra.Command {
	var rf readFlags
	var rwRatio float64
	cmd := &cobra.Command{
		Use:   "txn-mixed [KEY [END]]",
		Short: "Txns that each read or write, --rw-ratio reads per write",
		Long: `txn-mixed sends --total Txn requests, each holding either one Range or one
Put, drawn at random with --rw-ratio reads per write (1: half and half).
Writes go to the keys put would write. Reads read KEY, [KEY, END) or with
--prefix every key under KEY; without KEY each read reads one key of the
key space, chosen as the writes choose theirs, so reads find what writes
wrote. --consistency s makes the reads serializable.

The report has the mix as a whole, then the reads and the writes apart.`,
		Args: cobra.MaximumNArgs(2),
		RunE: g.benchmarkE("txn-mixed", func(args []string) error {
			if rwRatio < 0 || math.IsInf(rwRatio, 0) || math.IsNaN(rwRatio) {
				return usagef("--rw-ratio must be a finite number, at least 0")
			}
			if rf.prefix && len(args) == 0 {
				return usagef("--prefix needs KEY")
			}
			return rf.check(args)
		}, func(ctx context.Context, b *bench, args []string) (*report, error) {
			val := value(g.valSize)
			opts := rf.options(g, args)
			// The mix is drawn before the run so that the choice costs
			// nothing while requests are timed, and so that recording
			// knows which series request i belongs to.
			reads := make([]bool, g.total)
			pRead := rwRatio / (rwRatio + 1)
			for i := range reads {
				reads[i] = rand.Float64() < pRead
			}
			all := benchstat.NewRecorder(g.total)
			readRec := benchstat.NewRecorder(g.total)
			writeRec := benchstat.NewRecorder(g.total)
			elapsed := b.run(ctx, phase{
				label: "txn-mixed",
				total: g.total,
				pace:  newPacer(g.rate),
				do: func(ctx context.Context, w, i int) error {
					n := b.ks.index(i)
					op := clientv3.OpPut(b.ks.key(n), val)
					if reads[i] {
						key := b.ks.key(n)
						if len(args) > 0 {
							key = args[0]
						}
						op = clientv3.OpGet(key, opts...)
					}
					_, err := b.client(w).Txn(ctx).Then(op).Commit()
					return err
				},
				record: func(i int, latency time.Duration, err error) {
					all.Record(latency, err)
					if reads[i] {
						readRec.Record(latency, err)
					} else {
						writeRec.Record(latency, err)
					}
				},
			})
			return &report{
				MainLabel: "txn",
				Main:      all.Summary(elapsed),
				Parts: []part{
					{Name: "read", Summary: readRec.Summary(elapsed)},
					{Name: "write", Summary: writeRec.Summary(elapsed)},
				},
			}, nil
		}),
	}
	rf.register(cmd)
	cmd.Flags().Float64Var(&rwRatio, "rw-ratio", 1, "reads per write")
	return cmd
}
