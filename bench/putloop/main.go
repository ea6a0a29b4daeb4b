// Command putloop measures single-client, sequential put latency against
// any etcd-compatible endpoint: the simplest number to compare with the
// disk's fsync latency. cairn-bench (a later issue) does the full job.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "client URL or host:port")
	n := flag.Int("n", 2000, "number of puts")
	val := flag.Int("val-size", 256, "value size in bytes")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer cli.Close()
	value := string(make([]byte, *val))
	lat := make([]time.Duration, 0, *n)
	for i := 0; i < *n; i++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := cli.Put(ctx, fmt.Sprintf("putloop/%08d", i%1000), value)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("puts=%d avg=%v p50=%v p99=%v max=%v\n", len(lat), sum/time.Duration(len(lat)), pct(0.5), pct(0.99), lat[len(lat)-1])
}
