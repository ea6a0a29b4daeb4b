package tlsutil

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/soheilhy/cmux"
)

// TestUnderCmux: the listener works with cmux stacked either way, as
// Cairn's server does: cmux over the TLS listener (matching on the
// decrypted bytes), and the TLS listener over a cmux branch (etcd's layout,
// which keeps *tls.Conn visible to net/http).
func TestUnderCmux(t *testing.T) {
	p := newPKI(t)
	cfg, err := p.serverInfo().ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := p.clientInfo(p.ca.issue(t, leafOpts{cn: "alice"})).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "-"
		if r.TLS != nil {
			cn = CommonName(*r.TLS)
		}
		fmt.Fprint(w, cn)
	})

	t.Run("cmux over TLS", func(t *testing.T) {
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tlsl := NewListener(raw, cfg, ListenerOptions{})
		m := cmux.New(tlsl)
		h2l := m.Match(cmux.HTTP2())
		h1l := m.Match(cmux.HTTP1Fast())
		srv := &http.Server{Handler: handler}
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); _ = m.Serve() }()
		go func() { defer wg.Done(); _ = srv.Serve(h1l) }()
		go func() {
			// A stand-in for gRPC: read the HTTP/2 preface, answer.
			defer wg.Done()
			for {
				c, err := h2l.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 24)
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, buf); err == nil && string(buf) == "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
					_, _ = io.WriteString(c, "h2 ok")
				}
				c.Close()
			}
		}()
		defer func() {
			_ = srv.Close()
			_ = tlsl.Close()
			m.Close()
			wg.Wait()
		}()

		tr := &http.Transport{TLSClientConfig: cc.Clone()}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + raw.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// cmux hands net/http its own conn type, so r.TLS is nil here.
		if resp.StatusCode != 200 || string(body) != "-" {
			t.Fatalf("HTTP/1: %d %q", resp.StatusCode, body)
		}

		c, err := tls.Dial("tcp", raw.Addr().String(), cc)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		if string(got) != "h2 ok" {
			t.Fatalf("HTTP/2 branch: %q", got)
		}
	})

	t.Run("TLS over cmux", func(t *testing.T) {
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		m := cmux.New(raw)
		tlsl := NewListener(m.Match(cmux.Any()), cfg, ListenerOptions{})
		srv := &http.Server{Handler: handler, TLSConfig: cfg}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = m.Serve() }()
		go func() { defer wg.Done(); _ = srv.Serve(tlsl) }()
		defer func() {
			_ = srv.Close()
			_ = raw.Close()
			wg.Wait()
		}()

		tr := &http.Transport{TLSClientConfig: cc.Clone(), ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + raw.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(body) != "alice" {
			t.Fatalf("%s %q", resp.Proto, body)
		}
	})
}
