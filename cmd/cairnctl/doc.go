// Command cairnctl administers Cairn clusters. For now it has one command
// group, cert, which makes and inspects the TLS certificates of a cluster
// set up as in the clustering guide's TLS section, without an outside tool
// such as cfssl:
//
//	cairnctl cert ca     [--out-dir DIR] [--name ca | --cert FILE --key FILE]
//	                     [--cn "Cairn CA"] [--org ORG] [--validity 3650d]
//	                     [--key-type ecdsa|rsa2048|rsa4096] [--force]
//	cairnctl cert issue  --ca-cert FILE --ca-key FILE --profile server|peer|client
//	                     [--hosts IP,NAME,...] [--cn CN] [--org ORG]
//	                     [--out-dir DIR] [--name NAME | --cert FILE --key FILE]
//	                     [--validity 365d] [--key-type ...] [--force]
//	cairnctl cert show   FILE...
//
// ca writes a self-signed CA (10 years by default) to <out-dir>/ca.crt and
// <out-dir>/ca.key. issue writes a certificate signed by it (1 year by
// default) to <out-dir>/<name>.crt and .key; a peer certificate serves
// and dials, so one per member covers its client and peer ports. show
// prints every certificate in each file: names, usages, validity and
// fingerprint. --validity takes a Go duration (8760h) or days (365d).
//
// Files are PEM; certificates get mode 0644, keys 0600, new directories
// 0700; existing files are replaced only with --force. The certificate
// logic lives in internal/pki.
//
// Exit status: 0 on success; 1 when a command fails, with one line
// "cairnctl: <message>" on stderr per failure; 2 for a malformed command
// line (unknown or missing flag, bad flag value), with a pointer to --help.
package main
