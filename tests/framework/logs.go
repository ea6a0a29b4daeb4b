package framework

import (
	"fmt"
	"os"
	"strings"
)

// startMarker begins the line written to the log before each run.
const startMarker = "=== framework: start #"

// logTailLines is how many log lines failures show.
const logTailLines = 150

// LogTail returns the last n lines of the member's log (all runs).
func (m *Member) LogTail(n int) string {
	data, err := os.ReadFile(m.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Log returns the member's whole log (all runs).
func (m *Member) Log() string {
	data, _ := os.ReadFile(m.logPath)
	return string(data)
}

// logTailMessage frames the log tail for an error message.
func (m *Member) logTailMessage() string {
	return fmt.Sprintf("--- log of member %s (%s), last %d lines ---\n%s\n--- end of log ---",
		m.cfg.Name, m.logPath, logTailLines, m.LogTail(logTailLines))
}

// RunLog returns the log of the latest run only: what follows the last
// "=== framework: start #N" line.
func (m *Member) RunLog() string {
	log := m.Log()
	if i := strings.LastIndex(log, startMarker); i >= 0 {
		if j := strings.IndexByte(log[i:], '\n'); j >= 0 {
			return log[i+j+1:]
		}
		return ""
	}
	return log
}
