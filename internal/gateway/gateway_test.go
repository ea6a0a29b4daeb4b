package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer answers each line with name+": "+line; it stops at cleanup.
func echoServer(t *testing.T, name string) string {
	t.Helper()
	return echoServerAt(t, name, "127.0.0.1:0")
}

// echoServerAt is echoServer on a given address.
func echoServerAt(t *testing.T, name, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					fmt.Fprintf(c, "%s: %s", name, line)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// plain is endpoints as --endpoints gives them: no priority, no weight.
func plain(addrs ...string) []Endpoint {
	eps := make([]Endpoint, len(addrs))
	for i, a := range addrs {
		eps[i] = Endpoint{Addr: a}
	}
	return eps
}

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// startProxy runs a proxy on a free port until cleanup, logging into the
// returned observer.
func startProxy(t *testing.T, opts Options) (*Proxy, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	opts.Logger = zap.New(core)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(ln, opts)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.Serve() }()
	t.Cleanup(func() {
		p.Close()
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Errorf("Serve returned %v, want ErrClosed", err)
		}
	})
	return p, logs
}

// ask sends one line through the proxy on a new connection and returns
// the answer, or an error if the connection is closed first.
func ask(t *testing.T, p *Proxy, line string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(c, line); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func TestProxiesBothWaysRoundRobin(t *testing.T) {
	a, b := echoServer(t, "a"), echoServer(t, "b")
	p, _ := startProxy(t, Options{Endpoints: plain(a, b)})
	seen := map[string]int{}
	for i := range 4 {
		got, err := ask(t, p, fmt.Sprintf("hello %d", i))
		if err != nil {
			t.Fatal(err)
		}
		name, rest, _ := strings.Cut(got, ": ")
		if rest != fmt.Sprintf("hello %d", i) {
			t.Fatalf("answer %q", got)
		}
		seen[name]++
	}
	if seen["a"] != 2 || seen["b"] != 2 {
		t.Fatalf("connections per endpoint %v, want 2 each (round robin)", seen)
	}

	// Many lines both ways on one connection.
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for i := range 100 {
		fmt.Fprintf(c, "line %d\n", i)
		got, err := r.ReadString('\n')
		if err != nil || !strings.HasSuffix(got, fmt.Sprintf(": line %d\n", i)) {
			t.Fatalf("line %d: %q, %v", i, got, err)
		}
	}
}

func TestDeadEndpointSkippedAndRetried(t *testing.T) {
	live := echoServer(t, "live")
	dead := deadAddr(t)
	const delay = 300 * time.Millisecond
	p, logs := startProxy(t, Options{Endpoints: plain(dead, live), RetryDelay: delay})

	// The first connection goes to dead, fails over to live, and marks
	// dead failed with one log line.
	for i := range 4 {
		if got, err := ask(t, p, "x"); err != nil || got != "live: x" {
			t.Fatalf("ask %d: %q, %v", i, got, err)
		}
	}
	if n := logs.FilterMessage("deactivated endpoint").FilterField(zap.String("address", dead)).Len(); n != 1 {
		t.Fatalf("%d deactivation lines for %s within the retry delay, want 1: %v", n, dead, logs.All())
	}

	// After the delay the dead endpoint is tried again: now it answers.
	echoServerAt(t, "revived", dead)
	time.Sleep(delay + 50*time.Millisecond)
	seen := map[string]bool{}
	for range 4 {
		got, err := ask(t, p, "y")
		if err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(got, ": ")
		seen[name] = true
	}
	if !seen["revived"] || !seen["live"] {
		t.Fatalf("after the retry delay, answers from %v, want both endpoints", seen)
	}
}

func TestAllDeadClosesClientPromptly(t *testing.T) {
	p, logs := startProxy(t, Options{Endpoints: plain(deadAddr(t), deadAddr(t))})
	start := time.Now()
	if got, err := ask(t, p, "anyone?"); err == nil {
		t.Fatalf("answer %q with every endpoint dead", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("client closed after %v", d)
	}
	// A second client is closed at once, without dialing again.
	if _, err := ask(t, p, "still?"); err == nil {
		t.Fatal("answer with every endpoint dead")
	}
	if n := logs.FilterMessage("deactivated endpoint").Len(); n != 2 {
		t.Errorf("%d deactivation lines, want 2", n)
	}
	if n := logs.FilterMessage("closing client connection").Len(); n != 2 {
		t.Errorf("%d client-closed lines, want 2", n)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	a := echoServer(t, "a")
	core, _ := observer.New(zap.InfoLevel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(ln, Options{Endpoints: plain(a), Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.Serve() }()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprintln(c, "open")
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Fatalf("proxied connection after Close: %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr().String(), time.Second); err == nil {
		t.Fatal("listener still accepts after Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{}, {Endpoints: plain("a:1"), RetryDelay: -1}, {Endpoints: plain("")}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(ln, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestParseEndpoints(t *testing.T) {
	got, err := ParseEndpoints([]string{"http://127.0.0.1:2379", "https://h.example:2379/", "10.0.0.1:2379", "[::1]:2379", "unix://x:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := plain("127.0.0.1:2379", "h.example:2379", "10.0.0.1:2379", "[::1]:2379", "x:1")
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"127.0.0.1", "http://127.0.0.1", "h:port", "h:0", "h:70000"} {
		if _, err := ParseEndpoints([]string{bad}); err == nil {
			t.Errorf("ParseEndpoints(%q) accepted", bad)
		}
	}
	if _, err := ParseEndpoints([]string{""}); err == nil {
		t.Error("no endpoints accepted")
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) LookupHost(h string) ([]string, error) {
	if a, ok := f[h]; ok {
		return a, nil
	}
	if net.ParseIP(h) != nil {
		return []string{h}, nil
	}
	return nil, fmt.Errorf("no such host %s", h)
}

func TestCheckSelfLoop(t *testing.T) {
	r := fakeResolver{"me.example": {"10.0.0.5"}, "other.example": {"10.0.0.6"}, "localhost": {"127.0.0.1", "::1"},
		"infra0.example.com.": {"127.0.0.1"}}
	cases := []struct {
		listen string
		eps    []string
		loop   bool
	}{
		// An SRV target keeps its trailing dot.
		{"127.0.0.1:23790", []string{"infra0.example.com.:2379"}, false},
		{"127.0.0.1:23790", []string{"infra0.example.com.:23790"}, true},
		{"127.0.0.1:23790", []string{"127.0.0.1:2379"}, false},
		{"127.0.0.1:23790", []string{"127.0.0.1:2379", "127.0.0.1:23790"}, true},
		{"127.0.0.1:23790", []string{"localhost:23790"}, true},
		{"localhost:23790", []string{"[::1]:23790"}, true},
		{"me.example:2379", []string{"10.0.0.5:2379"}, true},
		{"me.example:2379", []string{"other.example:2379"}, false},
		{"0.0.0.0:2379", []string{"127.0.0.1:2379"}, true},
		{":2379", []string{"localhost:2379"}, true},
		{"0.0.0.0:2379", []string{"other.example:2380"}, false},
	}
	for _, tc := range cases {
		err := CheckSelfLoop(tc.listen, plain(tc.eps...), r)
		if (err != nil) != tc.loop {
			t.Errorf("CheckSelfLoop(%s, %v) = %v, want loop %v", tc.listen, tc.eps, err, tc.loop)
		}
		if err != nil && !strings.Contains(err.Error(), "should not resolve to the gateway listen addr ("+tc.listen+")") {
			t.Errorf("message %q", err)
		}
	}
	if err := CheckSelfLoop("127.0.0.1:1", plain("nowhere.example:2"), r); err == nil || !strings.Contains(err.Error(), "failed to resolve endpoint host") {
		t.Errorf("unresolvable endpoint: %v", err)
	}
	if err := CheckSelfLoop("no-port", plain("127.0.0.1:2"), r); err == nil {
		t.Error("bad listen address accepted")
	}
}

func TestProxySRVPriorityFailover(t *testing.T) {
	a, b := echoServer(t, "a"), echoServer(t, "b")
	dead := deadAddr(t)
	p, logs := startProxy(t, Options{
		Endpoints: []Endpoint{
			{Addr: dead, Priority: 0, Weight: 5},
			{Addr: a, Priority: 0, Weight: 1},
			{Addr: b, Priority: 1},
		},
		intn: func(int) int { return 0 }, // always the first weighted endpoint
	})
	// The first draw picks dead, whose failure leaves a alone in the best
	// priority; b, a lower priority, is never used while a is live.
	for i := range 4 {
		if got, err := ask(t, p, "x"); err != nil || got != "a: x" {
			t.Fatalf("ask %d: %q, %v", i, got, err)
		}
	}
	if n := logs.FilterMessage("deactivated endpoint").Len(); n != 1 {
		t.Fatalf("%d deactivation lines, want 1: %v", n, logs.All())
	}

	// With every endpoint of the best priority down, the next one serves.
	q, _ := startProxy(t, Options{Endpoints: []Endpoint{{Addr: dead, Weight: 1}, {Addr: b, Priority: 1, Weight: 1}}})
	if got, err := ask(t, q, "y"); err != nil || got != "b: y" {
		t.Fatalf("ask: %q, %v", got, err)
	}
}
