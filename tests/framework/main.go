package framework

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// registry tracks the processes started and not yet reaped.
type registry struct {
	mu    sync.Mutex
	procs map[*process]string // protected by mu; process → member name
}

var live registry

func (r *registry) add(p *process, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.procs == nil {
		r.procs = make(map[*process]string)
	}
	r.procs[p] = name
}

func (r *registry) remove(p *process) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.procs, p)
}

// killAll SIGKILLs every process still tracked, waits for each, and
// describes them.
func (r *registry) killAll() []string {
	r.mu.Lock()
	procs := make(map[*process]string, len(r.procs))
	for p, name := range r.procs {
		procs[p] = name
	}
	r.mu.Unlock()
	var leaked []string
	for p, name := range procs {
		leaked = append(leaked, fmt.Sprintf("%s (pid %d)", name, p.cmd.Process.Pid))
		signalGroup(p, syscall.SIGKILL)
		<-p.done
	}
	sort.Strings(leaked)
	return leaked
}

// Main runs the tests of a package that uses the framework; call it from
// TestMain. Afterwards it kills any process a test left running and fails
// the run if there was one, and removes the built binary.
func Main(m *testing.M) {
	code := m.Run()
	if leaked := live.killAll(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "framework: processes left running after the tests, now killed: %s\n",
			strings.Join(leaked, ", "))
		if code == 0 {
			code = 1
		}
	}
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}
