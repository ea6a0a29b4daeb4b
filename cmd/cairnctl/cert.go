package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-db/cairn/internal/pki"
)

func newCertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Make and inspect TLS certificates",
		Long: `Make and inspect the TLS certificates of a Cairn cluster: a self-signed
CA, a certificate per member signed by it, and client certificates.

Files are PEM. A certificate is written with mode 0644, its key with 0600,
and missing directories with 0700. An existing file is never replaced
without --force.

--validity takes a Go duration (8760h, 90m) or a whole number of days
(365d). Keys are ECDSA P-256 unless --key-type says rsa2048 or rsa4096.`,
		Example: `  # The CA, then one certificate per member for both its client and peer
  # ports, then a client certificate for etcdctl:
  cairnctl cert ca --out-dir certs
  cairnctl cert issue --ca-cert certs/ca.crt --ca-key certs/ca.key --profile peer \
    --hosts 10.0.1.10,127.0.0.1,localhost --cn infra0 --out-dir certs --name infra0
  cairnctl cert issue --ca-cert certs/ca.crt --ca-key certs/ca.key --profile client \
    --cn root --out-dir certs --name client
  cairnctl cert show certs/infra0.crt`,
		// Runnable only so that a mistyped subcommand is an error: cobra
		// answers a command without Run with its help, whatever follows.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newCACmd(), newIssueCmd(), newShowCmd())
	return cmd
}

// outputFlags choose where a command writes its certificate and key.
type outputFlags struct {
	outDir, name, cert, key string
	force                   bool
}

func (o *outputFlags) register(cmd *cobra.Command, defaultName string) {
	f := cmd.Flags()
	f.StringVar(&o.outDir, "out-dir", ".", "`directory` to write <name>.crt and <name>.key to (made with mode 0700 if missing)")
	nameUsage := "file name `stem`: writes <out-dir>/<name>.crt and <out-dir>/<name>.key"
	if defaultName == "" {
		nameUsage += " (required unless both --cert and --key are given)"
	}
	f.StringVar(&o.name, "name", defaultName, nameUsage)
	f.StringVar(&o.cert, "cert", "", "certificate `path`, instead of <out-dir>/<name>.crt")
	f.StringVar(&o.key, "key", "", "private key `path`, instead of <out-dir>/<name>.key")
	f.BoolVar(&o.force, "force", false, "replace existing files")
}

// paths returns the certificate and key paths the flags choose.
func (o *outputFlags) paths() (certPath, keyPath string, err error) {
	certPath, keyPath = o.cert, o.key
	if certPath != "" && keyPath != "" {
		return certPath, keyPath, nil
	}
	switch {
	case o.name == "":
		return "", "", usagef("required flag \"name\" not set (or give both --cert and --key)")
	case strings.ContainsAny(o.name, `/\`) || o.name == "." || o.name == "..":
		return "", "", usagef("--name %q is a file name stem, not a path; use --out-dir, or --cert and --key", o.name)
	}
	if certPath == "" {
		certPath = filepath.Join(o.outDir, o.name+".crt")
	}
	if keyPath == "" {
		keyPath = filepath.Join(o.outDir, o.name+".key")
	}
	return certPath, keyPath, nil
}

// write writes kp where the flags say.
func (o *outputFlags) write(kp *pki.KeyPair, certPath, keyPath string) error {
	err := kp.WriteFiles(certPath, keyPath, pki.WriteOptions{Force: o.force})
	if errors.Is(err, pki.ErrExists) {
		return fmt.Errorf("%w (use --force to replace it)", err)
	}
	return err
}

func newCACmd() *cobra.Command {
	var (
		out      outputFlags
		cn, org  string
		validity = validityValue(pki.DefaultCAValidity)
		keyType  = keyTypeValue(pki.DefaultKeyType)
	)
	cmd := &cobra.Command{
		Use:   "ca [flags]",
		Short: "Make a self-signed CA",
		Long: `Make a self-signed certificate authority: a certificate and key that sign
the certificates of members and clients (cairnctl cert issue). Give its
certificate to members as --trusted-ca-file and --peer-trusted-ca-file, and
to clients as --cacert. Keep its key off the members.

Writes <out-dir>/ca.crt and <out-dir>/ca.key unless --name, --cert or --key
say otherwise.`,
		Example: `  cairnctl cert ca --out-dir certs
  cairnctl cert ca --cn "Example Corp CA" --org "Example Corp" --validity 3650d --out-dir certs`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			certPath, keyPath, err := out.paths()
			if err != nil {
				return err
			}
			ca, err := pki.NewCA(pki.CAOptions{
				CommonName:   cn,
				Organization: org,
				Validity:     time.Duration(validity),
				KeyType:      pki.KeyType(keyType),
			})
			if err != nil {
				return usagef("%v", err)
			}
			if err := out.write(ca, certPath, keyPath); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s: CA %q, valid until %s\n",
				certPath, keyPath, ca.Cert.Subject.CommonName, formatTime(ca.Cert.NotAfter))
			return nil
		}),
	}
	out.register(cmd, "ca")
	f := cmd.Flags()
	f.StringVar(&cn, "cn", pki.DefaultCACommonName, "common `name` of the CA")
	f.StringVar(&org, "org", "", "`organization` (O) of the CA")
	f.Var(&validity, "validity", "how long the CA is valid: a Go duration (87600h) or days (3650d)")
	f.Var(&keyType, "key-type", "key `type`: ecdsa (P-256), rsa2048 or rsa4096")
	return cmd
}

func newIssueCmd() *cobra.Command {
	var (
		out           outputFlags
		caCert, caKey string
		profile       profileValue
		hosts         []string
		cn, org       string
		validity      = validityValue(pki.DefaultLeafValidity)
		keyType       = keyTypeValue(pki.DefaultKeyType)
	)
	cmd := &cobra.Command{
		Use:   "issue [flags]",
		Short: "Issue a server, peer or client certificate signed by a CA",
		Long: `Issue a certificate signed by the CA in --ca-cert and --ca-key, for a
--profile:

  server  a TLS server certificate (--cert-file when clients present no
          certificate)
  peer    a TLS server and client certificate: a member presents the same
          certificate when it accepts and when it dials, so use peer for
          --cert-file/--key-file and --peer-cert-file/--peer-key-file
          alike
  client  a TLS client certificate (etcdctl --cert/--key); with
          --client-cert-auth its CN is the user name

--hosts lists the names clients reach the member by, comma-separated or
repeated: each is an IP address or a DNS name (no port). Server and peer
certificates need at least one; TLS clients check these, not the CN.

The CN defaults to the first host, or for a client to --name. The
certificate must expire before the CA does.`,
		Example: `  cairnctl cert issue --ca-cert certs/ca.crt --ca-key certs/ca.key --profile peer \
    --hosts 10.0.1.10,infra0.example.com,127.0.0.1,localhost --cn infra0 \
    --out-dir certs --name infra0
  cairnctl cert issue --ca-cert certs/ca.crt --ca-key certs/ca.key --profile client \
    --cn root --out-dir certs --name client --validity 90d`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			certPath, keyPath, err := out.paths()
			if err != nil {
				return err
			}
			opts := pki.IssueOptions{
				Profile:      pki.Profile(profile),
				Hosts:        hosts,
				CommonName:   cn,
				Organization: org,
				Validity:     time.Duration(validity),
				KeyType:      pki.KeyType(keyType),
			}
			if opts.CommonName == "" && opts.Profile == pki.ProfileClient {
				opts.CommonName = out.name
			}
			if len(hosts) == 0 && opts.Profile != pki.ProfileClient {
				return usagef("required flag \"hosts\" not set: a %s certificate needs the IP addresses or DNS names clients reach it by", opts.Profile)
			}
			if opts.CommonName == "" && len(hosts) == 0 {
				return usagef("required flag \"cn\" not set: a client certificate needs a common name (or --name or --hosts)")
			}
			opts.EnsureDefaults()
			if err := opts.Validate(); err != nil {
				return usagef("%v", err)
			}
			ca, err := pki.LoadKeyPair(caCert, caKey)
			if err != nil {
				return err
			}
			kp, err := pki.Issue(ca, opts)
			if err != nil {
				return err
			}
			if err := out.write(kp, certPath, keyPath); err != nil {
				return err
			}
			names := append(append([]string{}, kp.Cert.DNSNames...), ipStrings(kp)...)
			forHosts := ""
			if len(names) > 0 {
				forHosts = " for " + strings.Join(names, ", ")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s: %s certificate %q%s, valid until %s\n",
				certPath, keyPath, opts.Profile, kp.Cert.Subject.CommonName, forHosts, formatTime(kp.Cert.NotAfter))
			return nil
		}),
	}
	out.register(cmd, "")
	f := cmd.Flags()
	f.StringVar(&caCert, "ca-cert", "", "CA certificate `file` (PEM)")
	f.StringVar(&caKey, "ca-key", "", "CA private key `file` (PEM)")
	f.Var(&profile, "profile", "what the certificate is for: server, peer or client")
	f.StringSliceVar(&hosts, "hosts", nil, "IP addresses and DNS names of the subject, comma-separated (required for server and peer)")
	f.StringVar(&cn, "cn", "", "common `name` (default: the first host, or --name for a client)")
	f.StringVar(&org, "org", "", "`organization` (O)")
	f.Var(&validity, "validity", "how long the certificate is valid: a Go duration (8760h) or days (365d)")
	f.Var(&keyType, "key-type", "key `type`: ecdsa (P-256), rsa2048 or rsa4096")
	for _, name := range []string{"ca-cert", "ca-key", "profile"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name typo: a programming error
		}
	}
	return cmd
}

func ipStrings(kp *pki.KeyPair) []string {
	s := make([]string, len(kp.Cert.IPAddresses))
	for i, ip := range kp.Cert.IPAddresses {
		s[i] = ip.String()
	}
	return s
}

func newShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE...",
		Short: "Describe the certificates in PEM files",
		Long: `Describe every certificate in each PEM file (a file may hold a chain):
subject, issuer, serial, validity and whether it has expired, key type and
size, whether it is a CA, key usages, DNS and IP names, and the SHA-256
fingerprint. Files that cannot be read or hold no certificate are reported
on stderr, and the exit status is 1.`,
		Example: `  cairnctl cert show certs/ca.crt certs/infra0.crt`,
		Args:    cobra.MinimumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			w := cmd.OutOrStdout()
			var errs []error
			first := true
			for _, file := range files {
				certs, err := pki.LoadCertificates(file)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for i, c := range certs {
					if !first {
						fmt.Fprintln(w)
					}
					first = false
					fmt.Fprintf(w, "== %s: certificate %d of %d ==\n%s", file, i+1, len(certs), pki.Describe(c))
				}
			}
			return errors.Join(errs...)
		}),
	}
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
