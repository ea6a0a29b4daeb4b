// Package srvtest runs a DNS server for tests of SRV lookups: an in-process
// github.com/miekg/dns server on 127.0.0.1 and a resolver that asks only
// it, so that no lookup leaves the machine.
//
// The caller gives the zone as owner name (lower case, with the trailing
// dot) → records in zone-file syntax. A known name asked for another type
// gets an empty answer; an unknown name gets NXDOMAIN. The server stops at
// the test's cleanup.
package srvtest

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Start serves zone on 127.0.0.1 over UDP until t's cleanup and returns a
// resolver that asks only that server. A record that does not parse fails
// the test at once.
func Start(t testing.TB, zone map[string][]string) *net.Resolver {
	t.Helper()
	parsed := make(map[string][]dns.RR, len(zone))
	for name, rrs := range zone {
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatalf("srvtest: record %q: %v", s, err)
			}
			parsed[strings.ToLower(name)] = append(parsed[strings.ToLower(name)], rr)
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Authoritative = true
			if len(req.Question) != 1 {
				m.Rcode = dns.RcodeFormatError
				_ = w.WriteMsg(m)
				return
			}
			q := req.Question[0]
			rrs, ok := parsed[strings.ToLower(q.Name)]
			if !ok {
				m.Rcode = dns.RcodeNameError
			}
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, dns.Copy(rr))
				}
			}
			_ = w.WriteMsg(m)
		})}
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
