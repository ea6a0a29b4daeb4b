// Package benchstat turns the outcomes of a benchmark's requests into the
// numbers cairn-bench reports: latency extremes, mean and deviation,
// throughput, a histogram, percentiles and a tally of errors.
//
// The contract:
//
//  1. A Recorder collects one outcome per request (Record) from any number
//     of goroutines. It keeps every successful latency, 8 bytes each, so
//     that percentiles are exact rather than estimated; a failed request
//     adds to the error tally and not to the latencies.
//  2. Summarize, PercentileOf and Histogram are pure: they read no clock and
//     do not modify their input. The wall time of a run (Summary.Elapsed,
//     the divisor of Throughput) is whatever the caller measured.
//  3. Percentiles use the nearest-rank definition: the p-th percentile of
//     n sorted latencies is the one at 1-based rank ceil(p/100·n), clamped
//     to [1, n], so it is always a latency that was observed. p50 of
//     1ms…100ms is 50ms, and p99.9 of 1ms…1000ms is 999ms.
//  4. The histogram has at most HistogramBuckets buckets whose upper bounds
//     grow geometrically from the fastest latency to the slowest (the last
//     bound is the slowest exactly), because request latencies are long
//     tailed and equal-width buckets would put nearly every sample in the
//     first one. A latency counts in the first bucket whose bound is at
//     least the latency, so the counts add up to Summary.Count. Bounds are
//     rounded to the nanosecond and equal neighbours merged; a run whose
//     latencies are all equal has one bucket.
//  5. Stddev is the population standard deviation. Throughput counts
//     successful requests only.
//  6. Errors are grouped by their text. The first MaxErrorSamples distinct
//     texts are kept, in order of first appearance, each with its count;
//     errors with other texts are only counted (Summary.Errors), so a flood
//     of unique messages cannot grow memory.
//  7. A Summary of no samples has zero durations, no histogram and no
//     percentiles.
package benchstat
