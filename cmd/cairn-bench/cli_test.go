package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/tests/framework"
)

// TestUsageErrors runs command lines that must be refused before any
// connection is made: exit status 2 and a pointer to --help.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"put", "--no-such-flag"}, "unknown flag"},
		{[]string{"nonsense"}, "unknown command"},
		{[]string{"put", "--consistency", "x"}, "--consistency must be l or s"},
		{[]string{"put", "--clients", "0"}, "--clients must be at least 1"},
		{[]string{"put", "--key-size", "2", "--key-space-size", "101"}, "needs keys of 3 digits"},
		{[]string{"put", "--cert", "c.pem"}, "--cert and --key go together"},
		{[]string{"put", "--user", "root"}, "--user needs a name and a password"},
		{[]string{"put", "--user", "root:pw", "--password", "pw"}, "not both"},
		{[]string{"put", "extra"}, "unknown command"},
		{[]string{"range"}, "accepts between 1 and 2 arg(s)"},
		{[]string{"range", "a", "b", "--prefix"}, "either --prefix or END"},
		{[]string{"txn-mixed", "--rw-ratio", "-1"}, "--rw-ratio"},
		{[]string{"txn-mixed", "--prefix"}, "--prefix needs KEY"},
		{[]string{"watch", "--watchers", "2", "--streams", "3"}, "--streams must be between 1 and --watchers"},
		{[]string{"lease-keepalive", "--leases", "0"}, "--leases must be at least 1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "--help") {
				t.Errorf("stderr does not mention %q and --help:\n%s", tc.want, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
		})
	}
}

// TestUnreachableEndpoint checks that a dead endpoint is one clear error
// (exit 1), not a run of failed requests.
func TestUnreachableEndpoint(t *testing.T) {
	// A port FreePort reserved and nobody listens on.
	ep := "127.0.0.1:" + strconv.Itoa(framework.FreePort(t))
	var stdout, stderr bytes.Buffer
	code := run([]string{"put", "--endpoints", ep, "--dial-timeout", "500ms", "--total", "1"}, &stdout, &stderr)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr.String(), "endpoint "+ep+" does not answer") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %s", stdout.String())
	}
}
