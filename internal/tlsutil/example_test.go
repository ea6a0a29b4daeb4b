package tlsutil_test

import (
	"fmt"
	"net"
	"net/http"

	"github.com/cairn-db/cairn/internal/tlsutil"
)

// Serving the client port over TLS with client certificates, and reading
// the authenticated CN in a handler.
func Example() {
	info := &tlsutil.Info{
		Side:           tlsutil.SideClient,
		CertFile:       "/etc/cairn/server.crt",
		KeyFile:        "/etc/cairn/server.key",
		TrustedCAFile:  "/etc/cairn/ca.crt",
		ClientCertAuth: true,
	}
	// At start-up: one message naming the flag and the file.
	if err := info.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	raw, err := net.Listen("tcp", "127.0.0.1:2379")
	if err != nil {
		return
	}
	ln, err := info.NewListener(raw) // handshakes off the Accept path
	if err != nil {
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", tlsutil.CommonName(*r.TLS))
	})}
	_ = srv.Serve(ln)
	// Output: tlsutil: --cert-file /etc/cairn/server.crt: open: no such file or directory
}
