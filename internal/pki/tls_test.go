package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// handshake runs a TLS handshake over loopback TCP and a one-byte echo,
// so that a client certificate the server rejects (reported to the client
// only after its own handshake under TLS 1.3) fails the client too.
// (net.Pipe would not do: it has no buffer, and both ends writing at once,
// as a failed handshake's alert and the client's first write do,
// deadlock.)
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second)
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(deadline)
		s := tls.Server(conn, server)
		err = s.Handshake()
		if err == nil {
			buf := make([]byte, 1)
			if _, err = io.ReadFull(s, buf); err == nil {
				_, err = s.Write(buf)
			}
		}
		done <- err
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	c := tls.Client(conn, client)
	clientErr = c.Handshake()
	if clientErr == nil {
		if _, clientErr = c.Write([]byte{'x'}); clientErr == nil {
			_, clientErr = io.ReadFull(c, make([]byte, 1))
		}
	}
	return <-done, clientErr
}

func tlsCert(t *testing.T, kp *KeyPair) tls.Certificate {
	t.Helper()
	c, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSelfSignedTLS is auto-TLS: a self-signed server certificate that a
// client pins, and a self-signed peer certificate used on both ends.
func TestSelfSignedTLS(t *testing.T) {
	srv, err := SelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour, ProfileServer)
	if err != nil {
		t.Fatal(err)
	}
	pinned := x509.NewCertPool()
	pinned.AddCert(srv.Cert)
	sErr, cErr := handshake(t,
		&tls.Config{Certificates: []tls.Certificate{tlsCert(t, srv)}},
		&tls.Config{RootCAs: pinned, ServerName: "localhost"})
	if sErr != nil || cErr != nil {
		t.Fatalf("server: %v, client: %v", sErr, cErr)
	}

	// etcd's peer auto-TLS: both ends present a self-signed certificate
	// and skip verification; the server still demands one.
	a, err := SelfSigned([]string{"127.0.0.1"}, time.Hour, ProfilePeer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SelfSigned([]string{"127.0.0.1"}, time.Hour, ProfilePeer)
	if err != nil {
		t.Fatal(err)
	}
	sErr, cErr = handshake(t,
		&tls.Config{Certificates: []tls.Certificate{tlsCert(t, a)}, ClientAuth: tls.RequireAnyClientCert},
		&tls.Config{Certificates: []tls.Certificate{tlsCert(t, b)}, InsecureSkipVerify: true})
	if sErr != nil || cErr != nil {
		t.Fatalf("peer auto-TLS: server: %v, client: %v", sErr, cErr)
	}
}

// TestCAMutualTLS is the guide's setup: members' peer certificates from
// one CA serve and dial, verified both ways; a client certificate from
// another CA is refused.
func TestCAMutualTLS(t *testing.T) {
	ca := mustCA(t, CAOptions{})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	infra0 := mustIssue(t, ca, IssueOptions{Profile: ProfilePeer, Hosts: []string{"10.0.1.10", "127.0.0.1"}, CommonName: "infra0"})
	infra1 := mustIssue(t, ca, IssueOptions{Profile: ProfilePeer, Hosts: []string{"10.0.1.11", "127.0.0.1"}, CommonName: "infra1"})
	server := &tls.Config{
		Certificates: []tls.Certificate{tlsCert(t, infra0)},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	sErr, cErr := handshake(t, server, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(t, infra1)},
		RootCAs:      pool,
		ServerName:   "10.0.1.10",
	})
	if sErr != nil || cErr != nil {
		t.Fatalf("server: %v, client: %v", sErr, cErr)
	}

	stranger := mustIssue(t, mustCA(t, CAOptions{}), IssueOptions{Profile: ProfileClient, CommonName: "root"})
	sErr, cErr = handshake(t, server, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(t, stranger)},
		RootCAs:      pool,
		ServerName:   "10.0.1.10",
	})
	var unknown x509.UnknownAuthorityError
	if !errors.As(sErr, &unknown) || cErr == nil {
		t.Errorf("client from another CA: server: %v, client: %v; want an unknown-authority refusal", sErr, cErr)
	}

	// A server certificate cannot dial: it lacks client auth.
	srvOnly := mustIssue(t, ca, IssueOptions{Profile: ProfileServer, Hosts: []string{"127.0.0.1"}})
	sErr, cErr = handshake(t, server, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(t, srvOnly)},
		RootCAs:      pool,
		ServerName:   "10.0.1.10",
	})
	if sErr == nil || cErr == nil {
		t.Errorf("server-profile certificate as a client: server: %v, client: %v; want a refusal", sErr, cErr)
	}
}
