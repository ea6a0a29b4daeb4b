package v3gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// etcdBinary is the reference etcd the comparison tests run against.
const etcdBinary = "/usr/bin/etcd"

// refEtcd is a running single-member etcd: its own JSON gateway is the
// reference, its gRPC endpoint the backend of the gateway under test.
type refEtcd struct {
	clientURL  string // http://127.0.0.1:port, etcd's own gateway
	peerURL    string
	grpcTarget string // 127.0.0.1:port
	cmd        *exec.Cmd
	done       chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEtcd starts /usr/bin/etcd on free loopback ports with its data in
// t.TempDir and stops it when the test ends; the test is skipped when the
// binary is missing.
func startEtcd(t *testing.T) *refEtcd {
	t.Helper()
	if _, err := os.Stat(etcdBinary); err != nil {
		t.Skipf("reference etcd not available (%s: %v); install etcd-server to run the gateway comparison tests", etcdBinary, err)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		e, err := tryStartEtcd(t, dir, attempt)
		if err == nil {
			return e
		}
		lastErr = err
	}
	t.Fatalf("start reference etcd: %v", lastErr)
	return nil
}

func tryStartEtcd(t *testing.T, dir string, attempt int) (*refEtcd, error) {
	cport, pport := freePort(t), freePort(t)
	curl := "http://127.0.0.1:" + strconv.Itoa(cport)
	purl := "http://127.0.0.1:" + strconv.Itoa(pport)
	logPath := filepath.Join(dir, "etcd-"+strconv.Itoa(attempt)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(etcdBinary,
		"--name", "ref",
		"--data-dir", filepath.Join(dir, "data-"+strconv.Itoa(attempt)),
		"--listen-client-urls", curl,
		"--advertise-client-urls", curl,
		"--listen-peer-urls", purl,
		"--initial-advertise-peer-urls", purl,
		"--initial-cluster", "ref="+purl,
		"--initial-cluster-token", "v3gateway-test",
	)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	e := &refEtcd{clientURL: curl, peerURL: purl, grpcTarget: "127.0.0.1:" + strconv.Itoa(cport), cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(e.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-e.done:
			b, _ := os.ReadFile(logPath)
			return nil, &startError{log: tail(string(b))}
		default:
		}
		resp, err := http.Get(curl + "/health")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"true"`) {
				t.Cleanup(func() {
					e.stop()
					if t.Failed() {
						b, _ := os.ReadFile(logPath)
						t.Logf("reference etcd log:\n%s", tail(string(b)))
					}
				})
				return e, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.stop()
	b, _ := os.ReadFile(logPath)
	return nil, &startError{log: "not healthy within 15s\n" + tail(string(b))}
}

func (e *refEtcd) stop() {
	select {
	case <-e.done:
		return
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

type startError struct{ log string }

func (e *startError) Error() string { return "etcd exited:\n" + e.log }

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// newGateway serves the gateway under test, backed by e's gRPC endpoint,
// routed as the client port routes it.
func newGateway(t *testing.T, e *refEtcd) string {
	t.Helper()
	h, closeFn, err := New(context.Background(), e.grpcTarget)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Route(h, http.NotFoundHandler()))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		if err := closeFn(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv.URL
}

// reply is what the comparison looks at in an HTTP answer.
type reply struct {
	status int
	header map[string]string
	body   string
}

// comparedHeaders are the response headers that must match etcd's.
var comparedHeaders = []string{"Content-Type", "Grpc-Metadata-Content-Type"}

func do(t *testing.T, method, url, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// What curl -d sends.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	r := reply{status: resp.StatusCode, header: map[string]string{}, body: string(b)}
	for _, h := range comparedHeaders {
		r.header[h] = resp.Header.Get(h)
	}
	return r
}

type normalizer func(string) string

// replaceAll replaces every match of re by repl.
func replaceAll(re, repl string) normalizer {
	rx := regexp.MustCompile(re)
	return func(s string) string { return rx.ReplaceAllString(s, repl) }
}

var (
	// anyRevision hides revision numbers, for writes that each side makes
	// in turn against the same member.
	anyRevision = replaceAll(`"revision":"\d+"`, `"revision":"R"`)
	// anyLeaseID hides the IDs of leases granted by each side.
	anyLeaseID = replaceAll(`"ID":"\d+"`, `"ID":"L"`)
	// anyMessage hides an error message whose text comes from the JSON
	// decoder (encoding/json in etcd, protojson here).
	anyMessage = replaceAll(`"(error|message)":"(\\.|[^"\\])*"`, `"$1":"M"`)
)

func sameReply(t *testing.T, what string, want, got reply, norm ...normalizer) {
	t.Helper()
	wb, gb := want.body, got.body
	for _, n := range norm {
		wb, gb = n(wb), n(gb)
	}
	if want.status != got.status {
		t.Errorf("%s: status %d, etcd %d\n got: %s\netcd: %s", what, got.status, want.status, got.body, want.body)
	}
	for _, h := range comparedHeaders {
		if want.header[h] != got.header[h] {
			t.Errorf("%s: header %s %q, etcd %q", what, h, got.header[h], want.header[h])
		}
	}
	if wb != gb {
		t.Errorf("%s: body differs\n got: %s\netcd: %s", what, got.body, want.body)
	}
}

// stream is an open streaming call (watch, lease keep-alive).
type stream struct {
	resp   *http.Response
	lines  chan string
	cancel context.CancelFunc
}

func openStream(t *testing.T, url, body string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("POST %s: %v", url, err)
	}
	s := &stream{resp: resp, lines: make(chan string, 64), cancel: cancel}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

func (s *stream) next(t *testing.T, what string) string {
	t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			t.Fatalf("%s: stream ended", what)
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no message within 10s", what)
	}
	return ""
}
