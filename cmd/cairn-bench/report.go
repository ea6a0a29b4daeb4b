package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/benchstat"
)

// report is what a benchmark prints.
type report struct {
	Benchmark   string
	Endpoints   []string
	Conns       int
	Clients     int
	Interrupted bool

	// Main describes the requests the benchmark is about; MainLabel says
	// what they are ("put", "txn", "event delivery", …).
	Main      benchstat.Summary
	MainLabel string
	// Parts are other series worth a summary of their own: the reads and
	// writes of txn-mixed, the watch creations and puts of watch.
	Parts []part
	// Events is set by the watch benchmarks.
	Events *eventStats
}

type part struct {
	Name    string
	Summary benchstat.Summary
}

// eventStats count the watch events of a watch benchmark.
type eventStats struct {
	Watchers int
	Streams  int
	Expected int64         // events the successful puts should have produced
	Received int64         // events the watchers got
	Elapsed  time.Duration // from the first put to the last event received
	Errors   int           // watch responses carrying an error
	// ErrorSamples are the first distinct texts of those errors.
	ErrorSamples []benchstat.ErrorSample
}

// Missing is the number of expected events that did not arrive.
func (e *eventStats) Missing() int64 { return max(0, e.Expected-e.Received) }

// PerSecond is the rate of delivery: events received per second of
// Elapsed.
func (e *eventStats) PerSecond() float64 {
	if e.Elapsed <= 0 {
		return 0
	}
	return float64(e.Received) / e.Elapsed.Seconds()
}

func (r *report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r.toJSON())
	}
	var sb strings.Builder
	r.writeText(&sb)
	_, err := io.WriteString(w, sb.String())
	return err
}

// JSON form. Durations are seconds as floats, so that any tool can read
// them without knowing Go's duration syntax.

type reportJSON struct {
	Benchmark   string   `json:"benchmark"`
	Endpoints   []string `json:"endpoints"`
	Conns       int      `json:"conns"`
	Clients     int      `json:"clients"`
	Interrupted bool     `json:"interrupted"`
	// The main summary's fields sit at the top level.
	summaryJSON
	Parts  map[string]summaryJSON `json:"parts,omitempty"`
	Events *eventsJSON            `json:"events,omitempty"`
}

type summaryJSON struct {
	What           string             `json:"what"`
	Requests       int                `json:"requests"` // ok + errors
	OK             int                `json:"ok"`
	Errors         int                `json:"errors"`
	ErrorSamples   []errorJSON        `json:"error_samples,omitempty"`
	Total          float64            `json:"total"` // wall time, seconds
	Slowest        float64            `json:"slowest"`
	Fastest        float64            `json:"fastest"`
	Average        float64            `json:"average"`
	Stddev         float64            `json:"stddev"`
	RequestsPerSec float64            `json:"requests_per_sec"`
	Percentiles    map[string]float64 `json:"percentiles,omitempty"` // "p50": seconds
	Histogram      []bucketJSON       `json:"histogram,omitempty"`
}

type errorJSON struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

type bucketJSON struct {
	Upper float64 `json:"upper"` // seconds; the bucket holds (previous upper, upper]
	Count int     `json:"count"`
}

type eventsJSON struct {
	Watchers     int         `json:"watchers"`
	Streams      int         `json:"streams"`
	Expected     int64       `json:"expected"`
	Received     int64       `json:"received"`
	Missing      int64       `json:"missing"`
	Elapsed      float64     `json:"elapsed"`
	PerSec       float64     `json:"events_per_sec"`
	Errors       int         `json:"errors"`
	ErrorSamples []errorJSON `json:"error_samples,omitempty"`
}

func (r *report) toJSON() reportJSON {
	out := reportJSON{
		Benchmark:   r.Benchmark,
		Endpoints:   r.Endpoints,
		Conns:       r.Conns,
		Clients:     r.Clients,
		Interrupted: r.Interrupted,
		summaryJSON: summaryToJSON(r.MainLabel, r.Main),
	}
	if len(r.Parts) > 0 {
		out.Parts = make(map[string]summaryJSON, len(r.Parts))
		for _, p := range r.Parts {
			out.Parts[p.Name] = summaryToJSON(p.Name, p.Summary)
		}
	}
	if e := r.Events; e != nil {
		out.Events = &eventsJSON{
			Watchers:     e.Watchers,
			Streams:      e.Streams,
			Expected:     e.Expected,
			Received:     e.Received,
			Missing:      e.Missing(),
			Elapsed:      e.Elapsed.Seconds(),
			PerSec:       e.PerSecond(),
			Errors:       e.Errors,
			ErrorSamples: errorsToJSON(e.ErrorSamples),
		}
	}
	return out
}

func summaryToJSON(what string, s benchstat.Summary) summaryJSON {
	out := summaryJSON{
		What:           what,
		Requests:       s.Count + s.Errors,
		OK:             s.Count,
		Errors:         s.Errors,
		ErrorSamples:   errorsToJSON(s.ErrorSamples),
		Total:          s.Elapsed.Seconds(),
		Slowest:        s.Slowest.Seconds(),
		Fastest:        s.Fastest.Seconds(),
		Average:        s.Mean.Seconds(),
		Stddev:         s.Stddev.Seconds(),
		RequestsPerSec: s.Throughput,
	}
	if len(s.Percentiles) > 0 {
		out.Percentiles = make(map[string]float64, len(s.Percentiles))
		for _, p := range s.Percentiles {
			out.Percentiles[percentileName(p.P)] = p.Latency.Seconds()
		}
	}
	for _, b := range s.Histogram {
		out.Histogram = append(out.Histogram, bucketJSON{Upper: b.Upper.Seconds(), Count: b.Count})
	}
	return out
}

func errorsToJSON(samples []benchstat.ErrorSample) []errorJSON {
	var out []errorJSON
	for _, e := range samples {
		out = append(out, errorJSON{Error: e.Text, Count: e.Count})
	}
	return out
}

// percentileName is "p50", "p99.9".
func percentileName(p float64) string {
	return "p" + strconv.FormatFloat(p, 'f', -1, 64)
}

// Text form: labels padded to one column and numbers right-aligned in the
// next, so that runs printed one after the other line up.

func (r *report) writeText(w *strings.Builder) {
	fmt.Fprintf(w, "%s against %s: %s, %s\n", r.Benchmark, strings.Join(r.Endpoints, ","),
		plural(r.Conns, "connection"), plural(r.Clients, "client"))
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: partial results")
	}
	if e := r.Events; e != nil {
		fmt.Fprintf(w, "\nEvents (%d watchers over %d streams):\n", e.Watchers, e.Streams)
		field(w, "Expected", "%10d", e.Expected)
		field(w, "Received", "%10d", e.Received)
		field(w, "Missing", "%10d", e.Missing())
		field(w, "Elapsed", "%10.4f s (first put to last event)", e.Elapsed.Seconds())
		field(w, "Events/sec", "%10.1f", e.PerSecond())
		writeErrors(w, e.Errors, e.ErrorSamples)
	}
	writeSummary(w, r.MainLabel, r.Main)
	for _, p := range r.Parts {
		writeSummary(w, p.Name, p.Summary)
	}
}

// field writes one "  Label:   value" line.
func field(w *strings.Builder, label, format string, args ...any) {
	fmt.Fprintf(w, "  %-14s"+format+"\n", append([]any{label + ":"}, args...)...)
}

func writeSummary(w *strings.Builder, what string, s benchstat.Summary) {
	fmt.Fprintf(w, "\nSummary (%s):\n", what)
	field(w, "Total", "%10.4f s", s.Elapsed.Seconds())
	field(w, "Slowest", "%s", latency(s.Slowest))
	field(w, "Fastest", "%s", latency(s.Fastest))
	field(w, "Average", "%s", latency(s.Mean))
	field(w, "Stddev", "%s", latency(s.Stddev))
	field(w, "Requests/sec", "%10.1f", s.Throughput)
	field(w, "Requests", "%10d (%d ok, %d errors)", s.Count+s.Errors, s.Count, s.Errors)
	if len(s.Histogram) > 0 {
		fmt.Fprintf(w, "\n  Latency histogram (upper bound, count):\n")
		most := 0
		for _, b := range s.Histogram {
			most = max(most, b.Count)
		}
		const width = 40
		for _, b := range s.Histogram {
			bar := b.Count * width / most
			if bar == 0 && b.Count > 0 {
				bar = 1 // a bucket with samples never looks empty
			}
			fmt.Fprintf(w, "  %s %8d |%s\n", latency(b.Upper), b.Count, strings.Repeat("#", bar))
		}
	}
	if len(s.Percentiles) > 0 {
		fmt.Fprintf(w, "\n  Latency percentiles:\n")
		for _, p := range s.Percentiles {
			field(w, percentileName(p.P), "%s", latency(p.Latency))
		}
	}
	writeErrors(w, s.Errors, s.ErrorSamples)
}

// writeErrors writes the error count and the first distinct texts.
func writeErrors(w *strings.Builder, n int, samples []benchstat.ErrorSample) {
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "\n  Errors: %d\n", n)
	shown := 0
	for _, e := range samples {
		fmt.Fprintf(w, "  %8d × %s\n", e.Count, e.Text)
		shown += e.Count
	}
	if shown < n {
		fmt.Fprintf(w, "  %8d × with other texts\n", n-shown)
	}
}

// latency formats a latency in milliseconds with microsecond precision:
// loopback round trips are a fraction of a millisecond, which seconds with
// four decimals would flatten.
func latency(d time.Duration) string {
	return fmt.Sprintf("%10.3f ms", float64(d)/float64(time.Millisecond))
}

// plural is "1 client", "2 clients".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
