package benchstat

import (
	"slices"
	"testing"
	"time"
)

// series returns n, n+step, …: count latencies in whole units.
func series(first, step time.Duration, count int) []time.Duration {
	out := make([]time.Duration, count)
	for i := range out {
		out[i] = first + time.Duration(i)*step
	}
	return out
}

func TestPercentile(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		want   map[float64]time.Duration
	}{
		{
			name:   "1..100ms",
			sorted: series(ms, ms, 100),
			want:   map[float64]time.Duration{10: 10 * ms, 25: 25 * ms, 50: 50 * ms, 75: 75 * ms, 90: 90 * ms, 95: 95 * ms, 99: 99 * ms, 99.9: 100 * ms, 100: 100 * ms},
		},
		{
			name:   "1..1000ms",
			sorted: series(ms, ms, 1000),
			want:   map[float64]time.Duration{10: 100 * ms, 50: 500 * ms, 99: 990 * ms, 99.9: 999 * ms},
		},
		{
			// Ranks that are not whole round up: ceil(0.3)=1, ceil(1.5)=2,
			// ceil(2.25)=3.
			name:   "three",
			sorted: []time.Duration{1, 2, 3},
			want:   map[float64]time.Duration{10: 1, 50: 2, 75: 3, 99.9: 3},
		},
		{
			name:   "one",
			sorted: []time.Duration{7},
			want:   map[float64]time.Duration{0.001: 7, 10: 7, 99.9: 7},
		},
		{
			name:   "none",
			sorted: nil,
			want:   map[float64]time.Duration{50: 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for p, want := range tc.want {
				if got := PercentileOf(tc.sorted, p); got != want {
					t.Errorf("p%v = %v, want %v", p, got, want)
				}
			}
		})
	}
}

// TestPercentileExactRanks checks every sample size up to 10000 for the
// reported percentiles against integer arithmetic, where p/100·n cannot
// be off by a rounding error.
func TestPercentileExactRanks(t *testing.T) {
	all := series(1, 1, 10000) // all[i] = i+1, so a latency is its rank
	for n := 1; n <= len(all); n++ {
		sorted := all[:n]
		for _, p := range StandardPercentiles {
			tenths := int(p*10 + 0.5)       // p in tenths of a percent
			rank := (tenths*n + 999) / 1000 // ceil(tenths·n / 1000)
			want := time.Duration(max(1, min(rank, n)))
			if got := PercentileOf(sorted, p); got != want {
				t.Fatalf("n=%d p%v = rank %d, want %d", n, p, got, want)
			}
		}
	}
}

func TestHistogram(t *testing.T) {
	ms := time.Millisecond
	pow2 := make([]time.Duration, 11) // 1, 2, 4, …, 1024 ms
	for i := range pow2 {
		pow2[i] = time.Duration(1<<i) * ms
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		n      int
		want   []Bucket
	}{
		{
			// The ratio 1024 over 10 buckets doubles each bound; 1ms and
			// 2ms share the first bucket, as bounds are inclusive.
			name:   "geometric",
			sorted: pow2,
			n:      10,
			want: []Bucket{
				{2 * ms, 2}, {4 * ms, 1}, {8 * ms, 1}, {16 * ms, 1}, {32 * ms, 1},
				{64 * ms, 1}, {128 * ms, 1}, {256 * ms, 1}, {512 * ms, 1}, {1024 * ms, 1},
			},
		},
		{
			name:   "long tail",
			sorted: []time.Duration{ms, ms, ms, ms, ms, ms, ms, 2 * ms, 3 * ms, 100 * ms},
			n:      2,
			want:   []Bucket{{10 * ms, 9}, {100 * ms, 1}},
		},
		{
			name:   "linear from zero",
			sorted: series(0, 10*ms, 11), // 0, 10, …, 100 ms
			n:      10,
			want: []Bucket{
				{10 * ms, 2}, {20 * ms, 1}, {30 * ms, 1}, {40 * ms, 1}, {50 * ms, 1},
				{60 * ms, 1}, {70 * ms, 1}, {80 * ms, 1}, {90 * ms, 1}, {100 * ms, 1},
			},
		},
		{
			name:   "all equal",
			sorted: []time.Duration{5 * ms, 5 * ms, 5 * ms},
			n:      10,
			want:   []Bucket{{5 * ms, 3}},
		},
		{
			// 3^(i/10) rounds to 1,1,1,2,2,2,2,2,3,3 ns: equal bounds merge.
			name:   "merged bounds",
			sorted: []time.Duration{1, 3},
			n:      10,
			want:   []Bucket{{1, 1}, {2, 0}, {3, 1}},
		},
		{
			name:   "one bucket",
			sorted: []time.Duration{1, 2, 3},
			n:      1,
			want:   []Bucket{{3, 3}},
		},
		{name: "empty", sorted: nil, n: 10, want: nil},
		{name: "no buckets", sorted: []time.Duration{1}, n: 0, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Histogram(tc.sorted, tc.n)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Histogram = %v\nwant        %v", got, tc.want)
			}
			total := 0
			for _, b := range got {
				total += b.Count
			}
			if len(tc.sorted) > 0 && tc.n > 0 && total != len(tc.sorted) {
				t.Fatalf("counts add up to %d, want %d", total, len(tc.sorted))
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	in := []time.Duration{3 * ms, 1 * ms, 5 * ms, 2 * ms, 4 * ms}
	orig := slices.Clone(in)
	s := Summarize(in, 2*time.Second)
	if !slices.Equal(in, orig) {
		t.Fatalf("Summarize modified its input: %v", in)
	}
	if s.Count != 5 || s.Fastest != ms || s.Slowest != 5*ms || s.Mean != 3*ms {
		t.Errorf("count/fastest/slowest/mean = %d %v %v %v", s.Count, s.Fastest, s.Slowest, s.Mean)
	}
	// Population deviation of 1..5 ms: sqrt(2) ms, rounded to the ns.
	if s.Stddev != 1414214*time.Nanosecond {
		t.Errorf("stddev = %v, want 1.414214ms", s.Stddev)
	}
	if s.Throughput != 2.5 {
		t.Errorf("throughput = %v, want 2.5", s.Throughput)
	}
	if len(s.Percentiles) != len(StandardPercentiles) {
		t.Fatalf("%d percentiles, want %d", len(s.Percentiles), len(StandardPercentiles))
	}
	for i, p := range s.Percentiles {
		if p.P != StandardPercentiles[i] {
			t.Errorf("percentile %d is p%v, want p%v", i, p.P, StandardPercentiles[i])
		}
	}
	if p50 := s.Percentiles[2]; p50.Latency != 3*ms {
		t.Errorf("p50 = %v, want 3ms", p50.Latency)
	}
	total := 0
	for _, b := range s.Histogram {
		total += b.Count
	}
	if total != 5 || s.Histogram[len(s.Histogram)-1].Upper != 5*ms {
		t.Errorf("histogram %v: want 5 samples up to 5ms", s.Histogram)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	s := Summarize(nil, time.Second)
	if s.Count != 0 || s.Fastest != 0 || s.Slowest != 0 || s.Mean != 0 || s.Stddev != 0 ||
		s.Throughput != 0 || s.Percentiles != nil || s.Histogram != nil || s.Elapsed != time.Second {
		t.Fatalf("empty summary = %+v", s)
	}
	if s := Summarize([]time.Duration{1}, 0); s.Throughput != 0 {
		t.Fatalf("throughput with no elapsed time = %v, want 0", s.Throughput)
	}
}
