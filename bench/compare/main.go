// Command compare runs the same workloads against a 3-member cluster of
// binary A and one of binary B, on loopback with the same flags and the
// same data-dir disk, and prints one table with both numbers and the ratio
// A/B for each workload, plus each cluster's peak resident memory.
//
//	go run ./bench/compare                      # A: ./cmd/cairn, B: Debian's etcd
//	go run ./bench/compare -a ./bin/cairn -b /usr/bin/etcd -rounds 3 -scale 2
//
// What it does, in order, for each round: start A's cluster, wait until it
// has a leader, run the matrix (each workload one cairn-bench process with
// --json), read each member's peak RSS (VmHWM) and stop the cluster; then
// the same for B (the order alternates every round, so neither binary
// always runs on a warmer machine). Each cluster starts from empty data
// dirs under -dir, which are removed afterwards. A workload's number is the
// median over the rounds.
//
// The matrix (issue 7): put with one connection and one client to the
// leader (average latency); put, linearizable range, serializable range,
// txn-put and txn-mixed with 100 connections and 1000 clients over all
// members (requests per second); 1000 watchers fanned out over 100 streams
// (events per second); 10,000 leases kept alive (keep-alives per second).
// "better" in the table says whether a higher or a lower ratio favours A.
//
// It measures; it asserts nothing. Numbers on a shared or busy machine are
// noisy: use several rounds and read the spread it prints.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	a, b, bench string
	dir         string
	rounds      int
	scale       float64
	only        string
	jsonOut     bool
	keep        bool
}

func run(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.a, "a", "", "binary A (default: ./cmd/cairn, built now)")
	fs.StringVar(&o.b, "b", "", "binary B (default: Debian's etcd at /usr/bin/etcd)")
	fs.StringVar(&o.bench, "bench", "", "cairn-bench binary (default: ./cmd/cairn-bench, built now)")
	fs.StringVar(&o.dir, "dir", os.TempDir(), "directory on the disk to measure; each cluster's data dirs go under it")
	fs.IntVar(&o.rounds, "rounds", 1, "times each binary runs the matrix, alternating")
	fs.Float64Var(&o.scale, "scale", 1, "multiplies every workload's request count")
	fs.StringVar(&o.only, "only", "", "comma-separated workload names to run (default: all)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&o.keep, "keep", false, "keep the data dirs and member logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rounds < 1 || o.scale <= 0 {
		return errors.New("-rounds must be at least 1 and -scale positive")
	}
	work, err := os.MkdirTemp(o.dir, "cairn-compare-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintf(stderr, "compare: keeping %s\n", work)
	}
	if o.a == "" {
		if o.a, err = build(work, "cairn", "./cmd/cairn"); err != nil {
			return err
		}
	}
	if o.bench == "" {
		if o.bench, err = build(work, "cairn-bench", "./cmd/cairn-bench"); err != nil {
			return err
		}
	}
	if o.b == "" {
		o.b = "/usr/bin/etcd"
		if _, err := os.Stat(o.b); err != nil {
			return fmt.Errorf("no binary B: give -b, or install Debian's etcd-server (%v)", err)
		}
	}
	wls := matrix(o.scale)
	if o.only != "" {
		wls = slices.DeleteFunc(wls, func(w workload) bool { return !slices.Contains(strings.Split(o.only, ","), w.name) })
		if len(wls) == 0 {
			return fmt.Errorf("-only %q names no workload", o.only)
		}
	}

	res := newResults(o.a, o.b)
	for round := range o.rounds {
		order := []string{"A", "B"}
		if round%2 == 1 {
			order = []string{"B", "A"}
		}
		for _, side := range order {
			bin := o.a
			if side == "B" {
				bin = o.b
			}
			fmt.Fprintf(stderr, "compare: round %d, %s (%s)\n", round+1, side, bin)
			dir := filepath.Join(work, fmt.Sprintf("%s-%d", side, round))
			if err := runSide(res, side, bin, o.bench, dir, wls, stderr); err != nil {
				return fmt.Errorf("%s (%s): %w", side, bin, err)
			}
		}
	}
	if o.jsonOut {
		return res.writeJSON(stdout, wls)
	}
	return res.writeTable(stdout, wls)
}

// build compiles pkg into dir and returns the binary's path.
func build(dir, name, pkg string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (run compare from the module root): %w", pkg, err)
	}
	return out, nil
}

// runSide starts a cluster of bin, runs the workloads against it, records
// their numbers and the members' peak RSS, and stops it.
func runSide(res *results, side, bin, bench, dir string, wls []workload, stderr io.Writer) error {
	c, err := startCluster(bin, dir)
	if err != nil {
		return err
	}
	defer c.stop()
	for _, w := range wls {
		if w.prepare != nil {
			if err := w.prepare(c); err != nil {
				return fmt.Errorf("%s: prepare: %w", w.name, err)
			}
		}
		before, err := c.cpuTime()
		if err != nil {
			return err
		}
		v, u, err := runBench(bench, c, w)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		after, err := c.cpuTime()
		if err != nil {
			return err
		}
		u.server = after - before
		fmt.Fprintf(stderr, "compare:   %-22s %12.4g %-8s cpu/op: server %.1f µs, client %.1f µs\n",
			w.name, v, w.unit, perOp(u.server, u.ops), perOp(u.client, u.ops))
		res.values[side][w.name] = append(res.values[side][w.name], v)
		res.cpu[side][w.name] = append(res.cpu[side][w.name], u)
	}
	for _, m := range c.members {
		rss, err := peakRSS(m.cmd.Process.Pid)
		if err != nil {
			return err
		}
		res.rss[side] = append(res.rss[side], memberRSS{name: m.name, bytes: rss})
	}
	return nil
}

// runBench runs one workload and returns its number, with the client's
// CPU time and the operations it counted.
func runBench(bench string, c *cluster, w workload) (float64, usage, error) {
	args := append([]string{"--json"}, w.args(c)...)
	cmd := exec.Command(bench, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, usage{}, fmt.Errorf("cairn-bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var r benchReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return 0, usage{}, fmt.Errorf("cairn-bench %s: reading its JSON: %v", strings.Join(args, " "), err)
	}
	if r.Errors > 0 || (r.Events != nil && (r.Events.Errors > 0 || r.Events.Missing > 0)) {
		return 0, usage{}, fmt.Errorf("cairn-bench %s: %d errors (%v)", strings.Join(args, " "), r.Errors, r.ErrorSamples)
	}
	u := usage{client: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), ops: int64(r.Requests)}
	if r.Events != nil {
		u.ops = r.Events.Received
	}
	return w.metric(&r), u, nil
}

// benchReport is the part of cairn-bench's JSON that compare reads.
type benchReport struct {
	Requests       int     `json:"requests"`
	Errors         int     `json:"errors"`
	ErrorSamples   []any   `json:"error_samples"`
	Average        float64 `json:"average"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	Events         *struct {
		Errors   int     `json:"errors"`
		Missing  int64   `json:"missing"`
		PerSec   float64 `json:"events_per_sec"`
		Received int64   `json:"received"`
	} `json:"events"`
}

// workload is one row of the matrix.
type workload struct {
	name   string
	unit   string
	higher bool // a higher number is better
	args   func(c *cluster) []string
	metric func(r *benchReport) float64
	// prepare, when set, runs against the cluster before the workload.
	prepare func(c *cluster) error
}

func perSec(r *benchReport) float64    { return r.RequestsPerSec }
func avgMs(r *benchReport) float64     { return r.Average * 1000 }
func eventsSec(r *benchReport) float64 { return r.Events.PerSec }

// matrix is issue 7's workload matrix, request counts multiplied by scale.
func matrix(scale float64) []workload {
	n := func(base int) string { return strconv.Itoa(max(1, int(float64(base)*scale))) }
	all := func(c *cluster, rest ...string) []string {
		return append([]string{"--endpoints", strings.Join(c.clientAddrs(), ",")}, rest...)
	}
	wide := []string{"--conns", "100", "--clients", "1000"}
	return []workload{
		{name: "put 1/1 leader", unit: "ms avg", args: func(c *cluster) []string {
			return append(all(c, "--target-leader", "--conns", "1", "--clients", "1", "--total", n(2000)),
				"--key-size", "8", "--val-size", "256", "--key-space-size", "100000", "put")
		}, metric: avgMs},
		{name: "put 100/1000", unit: "req/s", higher: true, args: func(c *cluster) []string {
			return append(all(c, wide...), "--total", n(50000), "--key-size", "8", "--val-size", "256", "--key-space-size", "100000", "put")
		}, metric: perSec},
		{name: "range l 100/1000", unit: "req/s", higher: true, prepare: putFoo, args: func(c *cluster) []string {
			return append(all(c, wide...), "--total", n(50000), "--consistency", "l", "range", "foo")
		}, metric: perSec},
		{name: "range s 100/1000", unit: "req/s", higher: true, prepare: putFoo, args: func(c *cluster) []string {
			return append(all(c, wide...), "--total", n(50000), "--consistency", "s", "range", "foo")
		}, metric: perSec},
		{name: "txn-put 100/1000", unit: "req/s", higher: true, args: func(c *cluster) []string {
			return append(all(c, wide...), "--total", n(50000), "--key-size", "8", "--val-size", "256", "--key-space-size", "100000", "txn-put")
		}, metric: perSec},
		{name: "txn-mixed 100/1000", unit: "req/s", higher: true, args: func(c *cluster) []string {
			return append(all(c, wide...), "--total", n(50000), "--key-size", "8", "--val-size", "256", "--key-space-size", "1000", "txn-mixed", "--rw-ratio", "4")
		}, metric: perSec},
		{name: "watch 1000 fan-out", unit: "events/s", higher: true, args: func(c *cluster) []string {
			return append(all(c), "--conns", "10", "--clients", "10", "--total", n(2000), "--val-size", "256", "watch",
				"--watchers", "1000", "--streams", "100")
		}, metric: eventsSec},
		{name: "lease keepalive 10k", unit: "req/s", higher: true, args: func(c *cluster) []string {
			return append(all(c, "--conns", "10", "--clients", "100", "--total", n(50000)), "lease-keepalive", "--leases", "10000")
		}, metric: perSec},
	}
}

// putFoo writes the key the range workloads read: a 256-byte value.
func putFoo(c *cluster) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.clientAddrs(), DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cli.Put(ctx, "foo", strings.Repeat("v", 256))
	return err
}

// cluster is three members of one binary on loopback.
type cluster struct {
	members []*proc
}

type proc struct {
	name       string
	cmd        *exec.Cmd
	clientAddr string
	done       chan struct{}
}

// cpuTime is the CPU time the members have used so far.
func (c *cluster) cpuTime() (time.Duration, error) {
	var sum time.Duration
	for _, m := range c.members {
		d, err := cpuTime(m.cmd.Process.Pid)
		if err != nil {
			return 0, fmt.Errorf("member %s: %w", m.name, err)
		}
		sum += d
	}
	return sum, nil
}

func (c *cluster) clientAddrs() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.clientAddr)
	}
	return out
}

// startCluster starts three members of bin with identical flags (data
// dirs under dir, logs beside them) and waits until they have a leader.
func startCluster(bin, dir string) (*cluster, error) {
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	var initial []string
	for i := range 3 {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ports[2*i+1]))
	}
	c := &cluster{}
	for i := range 3 {
		name := fmt.Sprintf("m%d", i)
		client := fmt.Sprintf("127.0.0.1:%d", ports[2*i])
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.stop()
			return nil, err
		}
		log, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			c.stop()
			return nil, err
		}
		cmd := exec.Command(bin, "--name", name, "--data-dir", filepath.Join(dir, name),
			"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", "compare",
			"--initial-cluster-state", "new", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			log.Close()
			c.stop()
			return nil, err
		}
		log.Close()
		p := &proc{name: name, cmd: cmd, clientAddr: client, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.done) }()
		c.members = append(c.members, p)
	}
	if err := c.waitLeader(30 * time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%w (logs in %s)", err, dir)
	}
	return c, nil
}

// waitLeader polls Status on every member until all report one leader.
func (c *cluster) waitLeader(bound time.Duration) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.clientAddrs(), DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(bound)
	for {
		leaders := map[uint64]bool{}
		for _, m := range c.members {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cli.Status(ctx, m.clientAddr)
			cancel()
			if err == nil && st.Leader != 0 {
				leaders[st.Leader] = true
			} else {
				leaders[0] = true
			}
		}
		if len(leaders) == 1 && !leaders[0] {
			return nil
		}
		for _, m := range c.members {
			select {
			case <-m.done:
				return fmt.Errorf("member %s exited", m.name)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no leader after %v", bound)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends every member: SIGTERM, then SIGKILL after 10 s.
func (c *cluster) stop() {
	for _, m := range c.members {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, m := range c.members {
		select {
		case <-m.done:
		case <-time.After(10 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
}

// freePorts reserves n loopback ports by binding and releasing them.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
