package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/benchstat"
)

func sampleReport() *report {
	ms := time.Millisecond
	rec := benchstat.NewRecorder(4)
	for _, d := range []time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms} {
		rec.Record(d, nil)
	}
	rec.Record(0, errors.New("etcdserver: request timed out"))
	return &report{
		Benchmark: "txn-mixed",
		Endpoints: []string{"127.0.0.1:2379"},
		Conns:     1,
		Clients:   2,
		MainLabel: "txn",
		Main:      rec.Summary(2 * time.Second),
		Parts:     []part{{Name: "read", Summary: benchstat.Summarize([]time.Duration{ms}, 2*time.Second)}},
		Events:    &eventStats{Watchers: 3, Streams: 1, Expected: 30, Received: 27, Elapsed: 3 * time.Second},
	}
}

func TestReportJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().write(&buf, true); err != nil {
		t.Fatal(err)
	}
	var got reportJSON
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if got.Benchmark != "txn-mixed" || got.What != "txn" || got.Clients != 2 || got.Conns != 1 {
		t.Errorf("header %+v", got)
	}
	if got.Requests != 5 || got.OK != 4 || got.Errors != 1 {
		t.Errorf("requests/ok/errors = %d/%d/%d, want 5/4/1", got.Requests, got.OK, got.Errors)
	}
	if len(got.ErrorSamples) != 1 || got.ErrorSamples[0].Error != "etcdserver: request timed out" || got.ErrorSamples[0].Count != 1 {
		t.Errorf("error samples %+v", got.ErrorSamples)
	}
	// Durations are seconds.
	if got.Total != 2 || got.Fastest != 0.001 || got.Slowest != 0.004 || got.Average != 0.0025 || got.RequestsPerSec != 2 {
		t.Errorf("total %v fastest %v slowest %v average %v rps %v", got.Total, got.Fastest, got.Slowest, got.Average, got.RequestsPerSec)
	}
	wantP := map[string]float64{"p10": 0.001, "p25": 0.001, "p50": 0.002, "p75": 0.003, "p90": 0.004, "p95": 0.004, "p99": 0.004, "p99.9": 0.004}
	for k, v := range wantP {
		if got.Percentiles[k] != v {
			t.Errorf("percentile %s = %v, want %v", k, got.Percentiles[k], v)
		}
	}
	if len(got.Percentiles) != len(wantP) {
		t.Errorf("percentiles %v", got.Percentiles)
	}
	sum := 0
	for _, b := range got.Histogram {
		sum += b.Count
	}
	if sum != 4 || got.Histogram[len(got.Histogram)-1].Upper != 0.004 {
		t.Errorf("histogram %+v", got.Histogram)
	}
	if r := got.Parts["read"]; r.OK != 1 || r.What != "read" {
		t.Errorf("parts %+v", got.Parts)
	}
	if e := got.Events; e == nil || e.Expected != 30 || e.Received != 27 || e.Missing != 3 || e.PerSec != 9 {
		t.Errorf("events %+v", got.Events)
	}
}

func TestReportText(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().write(&buf, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"txn-mixed against 127.0.0.1:2379: 1 connection, 2 clients",
		"Missing:               3",
		"Summary (txn):",
		"Total:            2.0000 s",
		"Slowest:           4.000 ms",
		"Fastest:           1.000 ms",
		"Average:           2.500 ms",
		"Stddev:            1.118 ms",
		"Requests/sec:        2.0",
		"Requests:              5 (4 ok, 1 errors)",
		"Latency histogram",
		"p99.9:             4.000 ms",
		"1 × etcdserver: request timed out",
		"Summary (read):",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The order the numbers are listed in.
	last := -1
	for _, label := range []string{"Total:", "Slowest:", "Fastest:", "Average:", "Stddev:", "Requests/sec:", "Latency histogram", "Latency percentiles", "Errors:"} {
		i := strings.Index(out, label)
		if i < last {
			t.Errorf("%q comes before an earlier section", label)
		}
		last = i
	}
}
