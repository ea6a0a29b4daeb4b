package framework

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// Ports are drawn at random below Linux's ephemeral range (32768–60999), so
// that outgoing connections never take a port a member is about to bind.
const (
	portMin = 20000
	portMax = 32767
)

var ports struct {
	mu    sync.Mutex
	taken map[int]*os.File // protected by mu; port → its held lock file
}

// FreePort returns a 127.0.0.1 TCP port that is free now and that no other
// test binary using this package will hand out while this one runs: each
// port is reserved with an flock(2) on a file under $TMPDIR, held until the
// process exits (the kernel drops the lock even on a crash).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) {
	dir := filepath.Join(os.TempDir(), "cairn-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("framework: port locks: %w", err)
	}
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.taken == nil {
		ports.taken = make(map[int]*os.File)
	}
	for range 1000 {
		p := portMin + rand.IntN(portMax-portMin+1)
		if _, ok := ports.taken[p]; ok {
			continue
		}
		f, ok := lockPort(dir, p)
		if !ok {
			continue
		}
		if !bindable(p) {
			f.Close() // releases the lock
			continue
		}
		ports.taken[p] = f
		return p, nil
	}
	return 0, fmt.Errorf("framework: no free 127.0.0.1 port in [%d, %d] after 1000 tries", portMin, portMax)
}

// lockPort takes the exclusive lock of port p's file, without waiting.
func lockPort(dir string, p int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// bindable reports whether 127.0.0.1:p can be listened on right now.
func bindable(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
