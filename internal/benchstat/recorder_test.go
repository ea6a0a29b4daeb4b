package benchstat

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(1000)
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			for i := range 100 {
				if i%10 == 0 {
					r.Record(time.Hour, errors.New("boom")) // a failure's latency is not kept
				} else {
					r.Record(time.Duration(g*100+i+1)*time.Microsecond, nil)
				}
			}
		})
	}
	wg.Wait()
	if r.Done() != 1000 {
		t.Fatalf("Done = %d, want 1000", r.Done())
	}
	s := r.Summary(time.Second)
	if s.Count != 900 || s.Errors != 100 {
		t.Fatalf("count %d errors %d, want 900 and 100", s.Count, s.Errors)
	}
	if s.Slowest >= time.Hour {
		t.Fatalf("a failed request's latency was summarized: slowest %v", s.Slowest)
	}
	if want := []ErrorSample{{"boom", 100}}; !slices.Equal(s.ErrorSamples, want) {
		t.Fatalf("samples %v, want %v", s.ErrorSamples, want)
	}
}

func TestRecorderErrorSamples(t *testing.T) {
	var r Recorder // the zero value is ready
	// Texts e0…e6 in order, e1 three times: only the first five distinct
	// texts are kept, but every error is counted.
	for _, i := range []int{0, 1, 1, 2, 3, 4, 5, 6, 1, 5} {
		r.Record(0, fmt.Errorf("e%d", i))
	}
	r.Record(time.Millisecond, nil)
	s := r.Summary(time.Second)
	want := []ErrorSample{{"e0", 1}, {"e1", 3}, {"e2", 1}, {"e3", 1}, {"e4", 1}}
	if !slices.Equal(s.ErrorSamples, want) {
		t.Fatalf("samples %v, want %v", s.ErrorSamples, want)
	}
	if s.Errors != 10 || s.Count != 1 || r.Done() != 11 {
		t.Fatalf("errors %d count %d done %d, want 10, 1, 11", s.Errors, s.Count, r.Done())
	}
	// The summary is a copy: recording more does not change it.
	r.Record(0, errors.New("e0"))
	if s.ErrorSamples[0].Count != 1 {
		t.Fatal("a Summary shares its samples with the Recorder")
	}
}
