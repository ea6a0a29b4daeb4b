package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line is malformed
)

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	// One "cairnctl: " line per line of the message: show joins the
	// errors of several files.
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "cairnctl: %s\n", line)
	}
	var re *runtimeError
	if errors.As(err, &re) {
		return exitError
	}
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return exitUsage
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cairnctl",
		Short: "Administer Cairn clusters",
		Long: `cairnctl administers Cairn clusters. For now it makes and inspects the
TLS certificates members and clients use; see 'cairnctl cert --help'.`,
		// run prints errors its own way and tells usage errors apart.
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	// Errors cobra finds before a command runs (a bad flag value, an
	// unknown flag or command, a missing required flag, a wrong number of
	// arguments) come back unmarked and so count as usage errors; only a
	// RunE's errors are marked as runtime errors (runE).
	root.AddCommand(newCertCmd())
	return root
}

// runtimeError marks an error from a command that ran: exit status 1.
// Errors without it are usage errors: exit status 2.
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }
func (e *runtimeError) Unwrap() error { return e.err }

// usageError marks an error a RunE found in its flags or arguments.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// runE adapts a command body: its errors are runtime errors unless it
// says they are usage errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		var ue *usageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &runtimeError{err: err}
	}
}
