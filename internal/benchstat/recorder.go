package benchstat

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MaxErrorSamples is how many distinct error texts a Recorder keeps.
const MaxErrorSamples = 5

// ErrorSample is one distinct error text and how many requests failed
// with it.
type ErrorSample struct {
	Text  string
	Count int
}

// Recorder collects the outcomes of a run's requests. Its methods are safe
// for concurrent use; the zero value is ready.
type Recorder struct {
	done atomic.Int64 // outcomes recorded, successes and errors

	mu struct {
		sync.Mutex
		latencies []time.Duration // protected by mu; successes only
		errors    int             // protected by mu
		samples   []ErrorSample   // protected by mu; at most MaxErrorSamples
	}
}

// NewRecorder returns a Recorder with room for expected outcomes, so that
// the hot path does not grow the slice.
func NewRecorder(expected int) *Recorder {
	r := &Recorder{}
	r.mu.latencies = make([]time.Duration, 0, max(expected, 0))
	return r
}

// Record adds the outcome of one request: its latency when err is nil,
// else the error.
func (r *Recorder) Record(latency time.Duration, err error) {
	r.mu.Lock()
	if err == nil {
		r.mu.latencies = append(r.mu.latencies, latency)
	} else {
		r.recordErrorLocked(err.Error())
	}
	r.mu.Unlock()
	r.done.Add(1)
}

func (r *Recorder) recordErrorLocked(text string) {
	r.mu.errors++
	for i := range r.mu.samples {
		if r.mu.samples[i].Text == text {
			r.mu.samples[i].Count++
			return
		}
	}
	if len(r.mu.samples) < MaxErrorSamples {
		r.mu.samples = append(r.mu.samples, ErrorSample{Text: text, Count: 1})
	}
}

// Done returns the number of outcomes recorded so far.
func (r *Recorder) Done() int64 { return r.done.Load() }

// Summary summarizes what was recorded, for a run that took elapsed.
func (r *Recorder) Summary(elapsed time.Duration) Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summarize(r.mu.latencies, elapsed)
	s.Errors = r.mu.errors
	s.ErrorSamples = slices.Clone(r.mu.samples)
	return s
}
