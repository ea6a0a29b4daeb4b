package pki_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-db/cairn/internal/pki"
)

// Make the guide's cluster certificates: one CA, a peer certificate per
// member (used for both its client and peer ports), and a client
// certificate for etcdctl.
func Example() {
	dir, err := os.MkdirTemp("", "pki-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ca, err := pki.NewCA(pki.CAOptions{CommonName: "Cairn CA"})
	if err != nil {
		log.Fatal(err)
	}
	if err := ca.WriteFiles(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), pki.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"infra0", "infra1", "infra2"} {
		member, err := pki.Issue(ca, pki.IssueOptions{
			Profile:    pki.ProfilePeer,
			CommonName: name,
			Hosts:      []string{fmt.Sprintf("10.0.1.%d", 10+i), "127.0.0.1", "localhost"},
		})
		if err != nil {
			log.Fatal(err)
		}
		if err := member.WriteFiles(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"), pki.WriteOptions{}); err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, member.Cert.DNSNames, member.Cert.IPAddresses)
	}
	client, err := pki.Issue(ca, pki.IssueOptions{Profile: pki.ProfileClient, CommonName: "root"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Cert.Subject, client.Cert.ExtKeyUsage)
	// Output:
	// infra0 [localhost] [10.0.1.10 127.0.0.1]
	// infra1 [localhost] [10.0.1.11 127.0.0.1]
	// infra2 [localhost] [10.0.1.12 127.0.0.1]
	// CN=root [clientAuth]
}

// autoTLS is what a member's --peer-auto-tls does on start: reuse the
// certificate made last time unless it is missing or out of date, and stop
// on a damaged one.
func autoTLS(dir string, hosts []string) (*pki.KeyPair, bool, error) {
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kp, err := pki.LoadKeyPair(certPath, keyPath)
	switch {
	case err == nil:
		return kp, false, nil
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, pki.ErrExpired) && !errors.Is(err, pki.ErrNotYetValid):
		return nil, false, err
	}
	kp, err = pki.SelfSigned(hosts, 365*24*time.Hour, pki.ProfilePeer)
	if err != nil {
		return nil, false, err
	}
	if err := kp.WriteFiles(certPath, keyPath, pki.WriteOptions{Force: true}); err != nil {
		return nil, false, err
	}
	return kp, true, nil
}

func Example_autoTLS() {
	dataDir, err := os.MkdirTemp("", "pki-autotls")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataDir)
	dir := filepath.Join(dataDir, "fixtures", "peer")
	hosts := []string{"10.0.1.10", "127.0.0.1"}

	first, made, err := autoTLS(dir, hosts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first start, made a new certificate:", made)
	again, made, err := autoTLS(dir, hosts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("restart, made a new certificate:", made, "same:", again.Cert.Equal(first.Cert))
	if _, err := again.TLSCertificate(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// first start, made a new certificate: true
	// restart, made a new certificate: false same: true
}
