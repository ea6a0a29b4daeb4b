package benchstat

import (
	"math"
	"slices"
	"time"
)

// StandardPercentiles are the percentiles Summarize reports.
var StandardPercentiles = []float64{10, 25, 50, 75, 90, 95, 99, 99.9}

// HistogramBuckets is the number of histogram buckets Summarize asks for.
const HistogramBuckets = 10

// Summary describes one series of requests.
type Summary struct {
	// Count is the number of successful requests: the latencies summarized.
	Count int
	// Errors is the number of failed requests.
	Errors int
	// ErrorSamples are the first distinct error texts with their counts
	// (at most MaxErrorSamples); their counts add up to at most Errors.
	ErrorSamples []ErrorSample
	// Elapsed is the wall time of the run, as given to Summarize.
	Elapsed time.Duration
	// Fastest, Slowest, Mean and Stddev describe the latencies.
	Fastest, Slowest, Mean, Stddev time.Duration
	// Throughput is Count per second of Elapsed; 0 when Elapsed is 0.
	Throughput float64
	// Percentiles are the StandardPercentiles, in that order.
	Percentiles []Percentile
	// Histogram buckets, by increasing upper bound.
	Histogram []Bucket
}

// Percentile is one percentile of a series.
type Percentile struct {
	P       float64 // in (0, 100]
	Latency time.Duration
}

// Bucket is one histogram bucket: the latencies in (previous Upper, Upper].
type Bucket struct {
	Upper time.Duration
	Count int
}

// Summarize describes the latencies of the successful requests of a run
// that took elapsed. Errors are left for the caller (Recorder.Summary fills
// them in).
func Summarize(latencies []time.Duration, elapsed time.Duration) Summary {
	s := Summary{Count: len(latencies), Elapsed: elapsed}
	if elapsed > 0 {
		s.Throughput = float64(len(latencies)) / elapsed.Seconds()
	}
	if len(latencies) == 0 {
		return s
	}
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	s.Fastest, s.Slowest = sorted[0], sorted[len(sorted)-1]

	// Sums in float64 nanoseconds: an int64 sum of a million multi-second
	// latencies would still fit, but the squares would not.
	var sum float64
	for _, d := range sorted {
		sum += float64(d)
	}
	mean := sum / float64(len(sorted))
	var sq float64
	for _, d := range sorted {
		dev := float64(d) - mean
		sq += dev * dev
	}
	s.Mean = time.Duration(math.Round(mean))
	s.Stddev = time.Duration(math.Round(math.Sqrt(sq / float64(len(sorted)))))

	s.Percentiles = make([]Percentile, len(StandardPercentiles))
	for i, p := range StandardPercentiles {
		s.Percentiles[i] = Percentile{P: p, Latency: PercentileOf(sorted, p)}
	}
	s.Histogram = Histogram(sorted, HistogramBuckets)
	return s
}

// PercentileOf returns the p-th percentile (0 < p ≤ 100) of sorted, which must
// be in increasing order, by nearest rank; 0 for an empty slice.
func PercentileOf(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// For the percentiles reported p/100·n is a multiple of 1/1000, but
	// p/100 is not exact in binary and the product can land a hair above a
	// whole rank, which Ceil would then skip past.
	rank := int(math.Ceil(p/100*float64(n) - 1e-6))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Histogram sorts sorted, which must be in increasing order, into at most
// n buckets with geometrically growing upper bounds from its first to its
// last element (linearly growing when the first is not positive, where a
// ratio means nothing). It returns nil for an empty slice or n < 1.
func Histogram(sorted []time.Duration, n int) []Bucket {
	if len(sorted) == 0 || n < 1 {
		return nil
	}
	lo, hi := sorted[0], sorted[len(sorted)-1]
	bounds := make([]time.Duration, 0, n)
	for i := 1; i <= n; i++ {
		var b time.Duration
		switch {
		case i == n:
			b = hi // exact, whatever the rounding above
		case lo > 0:
			b = time.Duration(math.Round(float64(lo) * math.Pow(float64(hi)/float64(lo), float64(i)/float64(n))))
		default:
			b = lo + time.Duration(math.Round(float64(hi-lo)*float64(i)/float64(n)))
		}
		if len(bounds) > 0 && b <= bounds[len(bounds)-1] {
			continue // rounding made it equal to its neighbour
		}
		bounds = append(bounds, b)
	}
	buckets := make([]Bucket, len(bounds))
	j := 0
	for i, b := range bounds {
		buckets[i].Upper = b
		for j < len(sorted) && sorted[j] <= b {
			buckets[i].Count++
			j++
		}
	}
	return buckets
}
