package server

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// Fast timings for in-process tests: with these, minLeaseTTL is 1s.
const (
	testTick     = 10 * time.Millisecond
	testElection = 100 * time.Millisecond
	// testWait bounds every wait in these tests; nothing should need more
	// than a fraction of it.
	testWait = 15 * time.Second
)

// testOptions are the options of a one-member cluster in dir.
func testOptions(t testing.TB, dir string) Options {
	self := membership.NewMember("m0", []string{"http://127.0.0.1:2380"}, "cairn-test")
	return Options{
		Name:                       "m0",
		DataDir:                    dir,
		InitialMembers:             []*membership.Member{self},
		Self:                       self,
		ClientURLs:                 []string{"http://127.0.0.1:2379"},
		TickInterval:               testTick,
		ElectionTimeout:            testElection,
		InitialElectionTickAdvance: true,
		Logger:                     zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	}
}

// startServer starts a member with opts and waits until it serves clients.
// The server is stopped at cleanup (Stop is idempotent, so a test may stop
// it earlier).
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		s.Stop()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Stop)
	select {
	case <-s.ReadyNotify():
	case <-s.StopNotify():
		t.Fatal("raft stopped before the member was ready")
	case <-time.After(testWait):
		t.Fatal("member not ready in time")
	}
	return s
}

// newTestServer starts a one-member cluster in a fresh directory; mutate,
// if given, adjusts the options first.
func newTestServer(t testing.TB, mutate ...func(*Options)) *Server {
	t.Helper()
	opts := testOptions(t, t.TempDir())
	for _, m := range mutate {
		m(&opts)
	}
	return startServer(t, opts)
}

// testCtx is a context that ends with the test or after testWait.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or testWait passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
