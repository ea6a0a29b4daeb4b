// Package srvtest serves DNS records for tests of SRV lookups: Zone, a
// github.com/miekg/dns handler over a set of records that a test may
// replace, and Start, which serves records on 127.0.0.1 and returns a
// resolver that asks only that server, so that no lookup leaves the
// machine. tests/seed serves a Zone on sockets of its own, inside a
// network namespace.
//
// A Zone answers the records whose owner name (case-insensitively) and
// type match the question; a known name asked for another type gets an
// empty answer (resolvers ask for AAAA records too); an unknown name gets
// NXDOMAIN.
package srvtest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Zone is a dns.Handler answering from its records. Its methods are safe
// for concurrent use.
type Zone struct {
	mu  sync.Mutex
	rrs []dns.RR // protected by mu
}

// NewZone returns a zone holding rrs.
func NewZone(rrs []dns.RR) *Zone { return &Zone{rrs: rrs} }

// Set replaces the zone's records.
func (z *Zone) Set(rrs []dns.RR) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.rrs = rrs
}

// ServeDNS implements dns.Handler.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	known := false
	z.mu.Lock()
	for _, rr := range z.rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, q.Name) {
			continue
		}
		known = true
		if h.Rrtype == q.Qtype {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	z.mu.Unlock()
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// Parse parses records in zone-file syntax, failing the test on the first
// that does not parse.
func Parse(t testing.TB, records ...string) []dns.RR {
	t.Helper()
	rrs := make([]dns.RR, 0, len(records))
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil || rr == nil {
			t.Fatalf("srvtest: record %q: %v", s, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// Start serves zone (owner name → records in zone-file syntax) on
// 127.0.0.1 over UDP until t's cleanup and returns a resolver that asks
// only that server.
func Start(t testing.TB, zone map[string][]string) *net.Resolver {
	t.Helper()
	var rrs []dns.RR
	for _, records := range zone {
		rrs = append(rrs, Parse(t, records...)...)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: NewZone(rrs), NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}
