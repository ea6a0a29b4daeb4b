package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"text/tabwriter"
	"time"
)

type memberRSS struct {
	name  string
	bytes int64
}

// usage is the CPU one run of a workload cost: all three members
// together, and the cairn-bench process that drove it, over ops
// operations (requests, or events for the watch workload).
type usage struct {
	server, client time.Duration
	ops            int64
}

// perOp is CPU microseconds per operation, or 0 when nothing was counted.
func perOp(d time.Duration, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(ops)
}

// results holds every round's numbers: side → workload → values.
type results struct {
	a, b   string
	values map[string]map[string][]float64
	cpu    map[string]map[string][]usage
	rss    map[string][]memberRSS
}

func newResults(a, b string) *results {
	return &results{
		a: a, b: b,
		values: map[string]map[string][]float64{"A": {}, "B": {}},
		cpu:    map[string]map[string][]usage{"A": {}, "B": {}},
		rss:    map[string][]memberRSS{},
	}
}

// cpuPerOp is the median over rounds of the members' and the client's CPU
// microseconds per operation.
func (r *results) cpuPerOp(side, workload string) (server, client float64) {
	var s, c []float64
	for _, u := range r.cpu[side][workload] {
		s = append(s, perOp(u.server, u.ops))
		c = append(c, perOp(u.client, u.ops))
	}
	return median(s), median(c)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(v []float64) string {
	if len(v) < 2 {
		return ""
	}
	return fmt.Sprintf("%.4g–%.4g", slices.Min(v), slices.Max(v))
}

func (r *results) maxRSS(side string) int64 {
	var m int64
	for _, x := range r.rss[side] {
		m = max(m, x.bytes)
	}
	return m
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// writeTable prints the comparison, then the CPU each side spent per
// operation: on a small machine the load generator shares the cores, so
// a throughput ratio is capped by its cost, and the server CPU per
// operation is the fairer measure of the servers themselves.
func (r *results) writeTable(w io.Writer, wls []workload) error {
	fmt.Fprintf(w, "A: %s\nB: %s\n\n", r.a, r.b)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tunit\tA\tB\tA/B\tbetter\tA range\tB range")
	for _, wl := range wls {
		a, b := median(r.values["A"][wl.name]), median(r.values["B"][wl.name])
		better := "lower"
		if wl.higher {
			better = "higher"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.2f\t%s\t%s\t%s\n", wl.name, wl.unit, a, b, ratioOf(a, b), better,
			spread(r.values["A"][wl.name]), spread(r.values["B"][wl.name]))
	}
	ra, rb := r.maxRSS("A"), r.maxRSS("B")
	fmt.Fprintf(tw, "peak RSS (largest member)\tMiB\t%.1f\t%.1f\t%.2f\tlower\t\t\n",
		float64(ra)/(1<<20), float64(rb)/(1<<20), ratioOf(float64(ra), float64(rb)))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCPU µs per operation (members together; the client is cairn-bench)")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tA server\tB server\tA/B\tA client\tB client")
	for _, wl := range wls {
		as, ac := r.cpuPerOp("A", wl.name)
		bs, bc := r.cpuPerOp("B", wl.name)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\n", wl.name, as, bs, ratioOf(as, bs), ac, bc)
	}
	return tw.Flush()
}

func (r *results) writeJSON(w io.Writer, wls []workload) error {
	type row struct {
		Workload   string    `json:"workload"`
		Unit       string    `json:"unit"`
		Higher     bool      `json:"higher_is_better"`
		A          []float64 `json:"a"`
		B          []float64 `json:"b"`
		Ratio      float64   `json:"ratio_of_medians"`
		ServerCPUA float64   `json:"server_cpu_us_per_op_a"`
		ServerCPUB float64   `json:"server_cpu_us_per_op_b"`
		ClientCPUA float64   `json:"client_cpu_us_per_op_a"`
		ClientCPUB float64   `json:"client_cpu_us_per_op_b"`
	}
	out := struct {
		A        string  `json:"binary_a"`
		B        string  `json:"binary_b"`
		Rows     []row   `json:"rows"`
		PeakRSSA []int64 `json:"peak_rss_a"`
		PeakRSSB []int64 `json:"peak_rss_b"`
	}{A: r.a, B: r.b}
	for _, wl := range wls {
		a, b := r.values["A"][wl.name], r.values["B"][wl.name]
		as, ac := r.cpuPerOp("A", wl.name)
		bs, bc := r.cpuPerOp("B", wl.name)
		out.Rows = append(out.Rows, row{wl.name, wl.unit, wl.higher, a, b, ratioOf(median(a), median(b)), as, bs, ac, bc})
	}
	for _, x := range r.rss["A"] {
		out.PeakRSSA = append(out.PeakRSSA, x.bytes)
	}
	for _, x := range r.rss["B"] {
		out.PeakRSSB = append(out.PeakRSSB, x.bytes)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
