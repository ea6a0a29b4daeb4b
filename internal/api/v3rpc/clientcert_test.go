package v3rpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cairn-db/cairn/internal/pki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestClientCommonName serves gRPC the way a TLS client listener does
// (http.Server handing requests to grpc.Server.ServeHTTP) and checks that
// a handler sees the verified client certificate's CN.
func TestClientCommonName(t *testing.T) {
	ca, err := pki.NewCA(pki.CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srvKP, err := pki.Issue(ca, pki.IssueOptions{Profile: pki.ProfileServer, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cliKP, err := pki.Issue(ca, pki.IssueOptions{Profile: pki.ProfileClient, CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srvCert, _ := srvKP.TLSCertificate()
	cliCert, _ := cliKP.TLSCertificate()

	seen := make(chan string, 1)
	gs := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		seen <- ClientCommonName(ctx)
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(gs, health.NewServer())
	ts := httptest.NewUnstartedServer(http.HandlerFunc(gs.ServeHTTP))
	ts.EnableHTTP2 = true
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	ts.StartTLS()
	defer ts.Close()

	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cliCert}})
	conn, err := grpc.NewClient(ts.Listener.Addr().String(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if cn := <-seen; cn != "alice" {
		t.Fatalf("ClientCommonName = %q, want alice", cn)
	}
	if cn := ClientCommonName(context.Background()); cn != "" {
		t.Fatalf("without a peer: %q", cn)
	}
}
