package v3gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/websocket"
)

// isWebSocket reports whether r asks to upgrade to the WebSocket protocol.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade")
}

// serveWebSocket bridges a WebSocket connection onto a streaming gateway
// call, as etcd's gateway does: every message from the client is one JSON
// request appended to the request body, every line of the response body is
// sent back as one text message. The call is always a POST. It ends when
// either side closes.
func serveWebSocket(next http.Handler, w http.ResponseWriter, r *http.Request) {
	s := websocket.Server{
		// Any origin is accepted, like the rest of the client port.
		Handshake: func(*websocket.Config, *http.Request) error { return nil },
		Handler: func(ws *websocket.Conn) {
			defer ws.Close()
			ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
			defer cancel()

			body, bodyW := io.Pipe()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL.String(), body)
			if err != nil {
				return
			}
			for k, vs := range r.Header {
				switch http.CanonicalHeaderKey(k) {
				case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
					"Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Content-Length":
					continue
				}
				req.Header[k] = vs
			}
			req.RemoteAddr = r.RemoteAddr
			req.Host = r.Host

			// Client messages → request body.
			go func() {
				defer cancel()
				for {
					var msg []byte
					if err := websocket.Message.Receive(ws, &msg); err != nil {
						bodyW.CloseWithError(io.EOF)
						return
					}
					msg = append(msg, '\n')
					if _, err := bodyW.Write(msg); err != nil {
						return
					}
				}
			}()

			lw := &lineWriter{ws: ws, header: http.Header{}, onError: cancel}
			next.ServeHTTP(lw, req)
			lw.finish()
			// Ends the request body for a decoder still reading it and
			// unblocks the reader goroutine; a plain EOF keeps it quiet.
			_ = bodyW.CloseWithError(io.EOF)
		},
	}
	s.ServeHTTP(w, r)
}

// lineWriter is the ResponseWriter of a bridged call: it sends each
// complete line of the body as one WebSocket text message.
type lineWriter struct {
	ws      *websocket.Conn
	header  http.Header
	onError func()

	mu      sync.Mutex
	pending []byte
	failed  bool
}

func (l *lineWriter) Header() http.Header { return l.header }
func (l *lineWriter) WriteHeader(int)     {}
func (l *lineWriter) Flush()              {}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed {
		return 0, io.ErrClosedPipe
	}
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		if err := l.send(l.pending[:i]); err != nil {
			return 0, err
		}
		l.pending = l.pending[i+1:]
	}
	return len(p), nil
}

// finish sends what is left after the last newline.
func (l *lineWriter) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failed && len(l.pending) > 0 {
		_ = l.send(l.pending)
	}
	l.pending = nil
}

func (l *lineWriter) send(line []byte) error {
	if len(line) == 0 {
		return nil
	}
	if err := websocket.Message.Send(l.ws, string(line)); err != nil {
		l.failed = true
		l.onError()
		return err
	}
	return nil
}
