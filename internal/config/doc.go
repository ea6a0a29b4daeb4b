// Package config turns a command line, the ETCD_* environment and an
// optional YAML config file into one validated *Config, with etcd's flag
// names, defaults, precedence and error texts (spec/compat.md §1).
//
// The caller's duties and the package's promises:
//
//  1. Call Parse(os.Args[1:], os.Environ()) once. If it fails, print the
//     error (one line, naming the flag) and exit 1; errors.Is(err,
//     ErrUsage) marks a malformed command line, for which etcd prints its
//     usage line and exits 2.
//  2. If ShowHelp is set, print Usage() and exit 0; if ShowVersion is set,
//     print the version and exit 0. -h, --help and --version win over
//     everything else on the line, even flags that would not parse.
//  3. Log each of Warnings once the logger is up: unknown ETCD_* variables,
//     deprecated aliases, flags accepted for etcd compatibility that have
//     no effect, flags ignored because of a config file.
//  4. Call Unsupported() and stop with its error if it is not nil: those
//     are flags Cairn parses but does not implement yet. Its table, in
//     unsupported.go, loses a row with each feature that lands.
//  5. Call InitialClusterMap() when bootstrapping a new member; Parse does
//     not check --initial-cluster's URLs, since etcd ignores the flag once
//     a data dir exists.
//
// Sources and precedence, as in etcd:
//
//   - Flags: -flag v, --flag v, -flag=v, --flag=v; a bool flag alone means
//     true, --flag=false turns it off. An unknown flag ("flag provided but
//     not defined: -foo") and a stray argument ("'x' is not a valid flag")
//     are errors.
//   - Environment: ETCD_<FLAG> (upper case, '-' → '_') for every flag not
//     given on the command line. A variable present for a flag also given
//     on the command line is an error; an empty one is otherwise unset. An
//     unknown ETCD_* variable is a warning.
//   - Config file: --config-file, else ETCD_CONFIG_FILE. When set, the file
//     is the only source: other flags and the environment are ignored (with
//     a warning). Keys are flag names; TLS settings sit under
//     client-transport-security and peer-transport-security (cert-file,
//     key-file, client-cert-file, client-key-file, client-cert-auth,
//     trusted-ca-file, crl-file, auto-tls, allowed-cn, allowed-hostname,
//     and skip-client-san-verification for peers). Lists are
//     comma-separated strings or YAML sequences; durations are Go duration
//     strings or, as in etcd, integer nanoseconds. An unknown key is an
//     error.
//
// Derived defaults, as in etcd: --data-dir is <name>.etcd; --name alone
// sets --initial-cluster to <name>=<initial-advertise-peer-urls>; a
// discovery flag clears the default --initial-cluster; on the command
// line, --listen-client-urls requires --advertise-client-urls.
//
// Listen URLs may name hosts, not only IP addresses: Cairn resolves them
// when it binds (compat §1 departs from etcd here).
//
// Every flag is one row of the table in flags.go, which gives its name,
// default, help text and destination field; Usage, the environment and the
// config file are all driven by it.
package config
