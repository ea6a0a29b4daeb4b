package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// diffTranscripts returns a readable report of the differences between the
// compared lines of a (reference) and b, or "" when they agree. It shows at
// most maxSteps differing steps.
func diffTranscripts(a, b *transcript, maxSteps int) string {
	var out strings.Builder
	shown, differing := 0, 0
	n := max(len(a.steps), len(b.steps))
	for i := range n {
		var sa, sb *step
		if i < len(a.steps) {
			sa = a.steps[i]
		}
		if i < len(b.steps) {
			sb = b.steps[i]
		}
		switch {
		case sa == nil:
			differing++
			if shown < maxSteps {
				fmt.Fprintf(&out, "step %d %q: only in %s\n", i, sb.name, b.backend)
				shown++
			}
			continue
		case sb == nil:
			differing++
			if shown < maxSteps {
				fmt.Fprintf(&out, "step %d %q: only in %s\n", i, sa.name, a.backend)
				shown++
			}
			continue
		}
		if sa.name == sb.name && slices.Equal(sa.lines, sb.lines) {
			continue
		}
		differing++
		if shown >= maxSteps {
			continue
		}
		shown++
		fmt.Fprintf(&out, "step %d %q (- %s, + %s):\n", i, sa.name, a.backend, b.backend)
		if sa.name != sb.name {
			fmt.Fprintf(&out, "  - step name %q\n  + step name %q\n", sa.name, sb.name)
		}
		for _, d := range clipDiff(diffLines(sa.lines, sb.lines), maxStepLines) {
			fmt.Fprintf(&out, "  %s\n", d)
		}
	}
	if differing == 0 {
		return ""
	}
	if differing > shown {
		fmt.Fprintf(&out, "... and %d more differing steps\n", differing-shown)
	}
	return fmt.Sprintf("%d of %d steps differ (later differences often follow from the first):\n%s",
		differing, n, out.String())
}

// maxStepLines caps the diff lines shown for one step.
const maxStepLines = 30

// clipDiff keeps a long step diff readable: beyond max lines it keeps only
// the differing lines, at most max of them.
func clipDiff(d []string, max int) []string {
	if len(d) <= max {
		return d
	}
	var changed []string
	for _, l := range d {
		if !strings.HasPrefix(l, "  ") {
			changed = append(changed, l)
		}
	}
	if len(changed) > max {
		changed = append(changed[:max:max], fmt.Sprintf("... and %d more differing lines", len(changed)-max))
	}
	return changed
}

// diffLines is a longest-common-subsequence line diff: "  " common lines,
// "- " only in a, "+ " only in b.
func diffLines(a, b []string) []string {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	return out
}

// writeTranscripts writes each transcript to dir/<backend>.txt.
func writeTranscripts(dir string, trs ...*transcript) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, tr := range trs {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(tr.backend) + ".txt"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(tr.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
