package tlsutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// httpsOnlyAnswer is what net/http answers a plaintext request on a TLS
// port; clients and people recognise it.
const httpsOnlyAnswer = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

// plaintextKind tells what a non-TLS first record header (5 bytes) is.
func plaintextKind(hdr [5]byte) error {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE":
		return ErrPlaintextHTTP
	case "PRI *":
		return ErrPlaintextHTTP2
	}
	return ErrNotTLS
}

// rejectPlaintext handles a client speaking plaintext to the TLS port: an
// HTTP/1 request gets the 400 answer, anything else is just closed. It
// reports whether it closed the connection.
func (l *listener) rejectPlaintext(err error) bool {
	var rhe tls.RecordHeaderError
	if !errors.As(err, &rhe) || rhe.Conn == nil {
		return false
	}
	if plaintextKind(rhe.RecordHeader) == ErrPlaintextHTTP {
		_ = rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(rhe.Conn, httpsOnlyAnswer)
		// Half-close so the answer is followed by FIN rather than lost to
		// an RST from closing with unread request bytes.
		if cw, ok := rhe.Conn.(interface{ CloseWrite() error }); ok {
			// Drain at most a second, and not past Close.
			stop := context.AfterFunc(l.ctx, func() { _ = rhe.Conn.Close() })
			defer stop()
			_ = cw.CloseWrite()
			_ = rhe.Conn.SetReadDeadline(time.Now().Add(time.Second))
			_, _ = io.CopyN(io.Discard, rhe.Conn, 64<<10)
		}
	}
	_ = rhe.Conn.Close()
	return true
}

// describe turns a failed handshake into the reason and certificate
// subject of the log line, and the level to log it at.
func describe(err error, timeout time.Duration) (reason, subject string, level zapcore.Level) {
	level = zapcore.WarnLevel
	var (
		ref *refusal
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ref):
		return ref.msg, subjectOf(ref.cert), level
	case errors.As(err, &rhe):
		switch kind := plaintextKind(rhe.RecordHeader); kind {
		case ErrNotTLS:
			return fmt.Sprintf("not a TLS handshake (first bytes %q)", rhe.RecordHeader[:]), "", level
		default:
			return reasonText(kind), "", level
		}
	case errors.As(err, &cve):
		if len(cve.UnverifiedCertificates) > 0 {
			subject = subjectOf(cve.UnverifiedCertificates[0])
		}
		return reasonText(cve.Err), subject, level
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("no TLS handshake within %v", timeout), "", level
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		// Load balancer probes and port scanners connect and leave; that
		// is not worth a warning.
		return "connection closed by the client during the TLS handshake", "", zapcore.DebugLevel
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "didn't provide a certificate"):
		// crypto/tls has no exported value for this one.
		return reasonText(ErrNoClientCert), "", level
	case strings.HasPrefix(msg, "remote error: "):
		// The client sent an alert: usually it does not trust our certificate.
		return "client aborted the handshake: " + msg, "", level
	}
	return reasonText(err), "", level
}

// refusalLog writes the one line per refused connection, limited per
// remote IP by a token bucket so that a misconfigured client retrying in a
// loop does not flood the log.
type refusalLog struct {
	lg    *zap.Logger
	burst int           // lines in a row before limiting; < 0: no limit
	every time.Duration // one more line allowed per this much time

	mu struct {
		sync.Mutex
		byIP map[string]*logBucket // protected by mu
	}
}

type logBucket struct {
	tokens  float64
	last    time.Time
	skipped int
}

// maxLogBuckets bounds the per-IP state; past it the state is dropped,
// which at worst lets some extra lines through.
const maxLogBuckets = 4096

func newRefusalLog(lg *zap.Logger, burst int, every time.Duration) *refusalLog {
	r := &refusalLog{lg: lg, burst: burst, every: every}
	r.mu.byIP = make(map[string]*logBucket)
	return r
}

// allow reports whether a line may be written for ip now, and how many
// were skipped since the last one.
func (r *refusalLog) allow(ip string, now time.Time) (bool, int) {
	if r.burst < 0 {
		return true, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.mu.byIP[ip]
	if b == nil {
		if len(r.mu.byIP) >= maxLogBuckets {
			clear(r.mu.byIP)
		}
		b = &logBucket{tokens: float64(r.burst), last: now}
		r.mu.byIP[ip] = b
	}
	b.tokens = min(float64(r.burst), b.tokens+float64(now.Sub(b.last))/float64(r.every))
	b.last = now
	if b.tokens < 1 {
		b.skipped++
		return false, 0
	}
	b.tokens--
	skipped := b.skipped
	b.skipped = 0
	return true, skipped
}

func (r *refusalLog) refused(remote net.Addr, err error, timeout time.Duration) {
	reason, subject, level := describe(err, timeout)
	if !r.lg.Core().Enabled(level) {
		return
	}
	addr := remote.String()
	ip := addr
	if h, _, serr := net.SplitHostPort(addr); serr == nil {
		ip = h
	}
	ok, skipped := r.allow(ip, time.Now())
	if !ok {
		return
	}
	var b bytes.Buffer
	b.WriteString("refused TLS connection from ")
	b.WriteString(addr)
	if subject != "" {
		fmt.Fprintf(&b, " (client certificate %q)", subject)
	}
	b.WriteString(": ")
	b.WriteString(reason)
	if skipped > 0 {
		fmt.Fprintf(&b, " (%d more refused from %s not logged)", skipped, ip)
	}
	fields := []zap.Field{zap.String("remote-addr", addr), zap.String("reason", reason)}
	if subject != "" {
		fields = append(fields, zap.String("client-subject", subject))
	}
	if ce := r.lg.Check(level, b.String()); ce != nil {
		ce.Write(fields...)
	}
}
