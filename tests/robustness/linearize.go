package robustness

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinearizabilityResult is the outcome of CheckLinearizable.
type LinearizabilityResult struct {
	Result   porcupine.CheckResult
	Ops      int           // calls checked
	Duration time.Duration // time porcupine took
	// Visualization is the HTML file showing the longest linearizable
	// prefixes, written when the history is not linearizable.
	Visualization string
}

// CheckLinearizable checks the attributed calls with porcupine against the
// model of a store that was empty at initRev. Calls of Patched failed
// writes return, for the checker, after every other call. When the history
// is not linearizable and vizDir is not empty, porcupine's visualization
// is written to vizDir/linearizability.html. A timeout of 0 means none;
// past it the result is porcupine.Unknown.
func CheckLinearizable(a *Attribution, initRev int64, timeout time.Duration, vizDir string) (LinearizabilityResult, error) {
	var end int64
	clients := 0
	for _, op := range a.Ops {
		end = max(end, op.Return, op.Call)
		clients = max(clients, op.Client+1)
	}
	history := make([]porcupine.Operation, len(a.Ops))
	for i, op := range a.Ops {
		ret, client, meta := op.Return, op.Client, ""
		if a.Patched[i] {
			// The outcome was unknown; porcupine renders each client on one
			// row, so a pending call gets a row of its own kind.
			ret, client, meta = end+1, op.Client+clients, "failed: "+op.Err
		}
		history[i] = porcupine.Operation{
			ClientId: client,
			Input:    op.Req,
			Call:     op.Call,
			Output:   op.Resp,
			Return:   ret,
			Metadata: meta,
		}
	}
	model := Model(initRev)
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(model, history, timeout)
	out := LinearizabilityResult{Result: res, Ops: len(history), Duration: time.Since(start)}
	if res != porcupine.Illegal || vizDir == "" {
		return out, nil
	}
	// Check again, keeping what the visualization needs.
	_, info := porcupine.CheckOperationsVerbose(model, history, timeout)
	path := filepath.Join(vizDir, "linearizability.html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return out, fmt.Errorf("robustness: writing the visualization: %w", err)
	}
	out.Visualization = path
	return out, nil
}
