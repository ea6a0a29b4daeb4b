package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrUsage marks errors in the shape of the command line itself: an unknown
// flag, a malformed value, a stray argument. etcd prints its usage line
// and exits with status 2 for these, and with status 1 for the rest.
var ErrUsage = errors.New("config: usage error")

type usageError struct{ error }

func (usageError) Is(target error) bool { return target == ErrUsage }
func (e usageError) Unwrap() error      { return e.error }

// Parse builds the configuration from args (the command line without the
// program name) and environ (os.Environ() form). See the package
// documentation for the rules.
func Parse(args []string, environ []string) (*Config, error) {
	c, err := parse(args, environ)
	if err != nil {
		return nil, singleLine(err)
	}
	return c, nil
}

func parse(args []string, environ []string) (*Config, error) {
	if help, version := scanHelpVersion(args); help || version {
		c := newDefaults()
		c.ShowHelp, c.ShowVersion = help, version
		c.derive()
		return c, nil
	}

	c := newDefaults()
	fs := newFlagSet(c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.ShowHelp = true
			return c, nil
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		// etcd exits 1 here, not 2: a stray argument is not a flag error.
		return nil, fmt.Errorf("'%s' is not a valid flag", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { c.explicit[f.Name] = true })

	env := environMap(environ)
	path := c.ConfigFile
	if path == "" {
		path = env[envKey("config-file")]
	}
	if path == "" {
		if err := c.applyEnv(env); err != nil {
			return nil, err
		}
		if err := c.finish(); err != nil {
			return nil, err
		}
		return c, nil
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config-file: %s", oneLine(err.Error()))
	}
	fc, err := parseFile(data, path)
	if err != nil {
		return nil, err
	}
	fc.warnIgnoredSources(c, env)
	return fc, nil
}

// parseFile is the config-file path of Parse on bytes already read.
func parseFile(data []byte, path string) (*Config, error) {
	c := newDefaults()
	c.ConfigFile = path
	c.fromFile = true
	c.explicit["config-file"] = true
	if err := c.applyFile(data, path); err != nil {
		return nil, err
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

// newDefaults returns a Config holding every flag's default.
func newDefaults() *Config {
	c := &Config{explicit: make(map[string]bool)}
	for i := range flagTable {
		d := &flagTable[i]
		if d.alias != "" {
			continue
		}
		if err := d.bind(c).Set(d.def); err != nil {
			panic(fmt.Sprintf("config: default of --%s does not parse: %v", d.name, err))
		}
	}
	return c
}

func newFlagSet(c *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for i := range flagTable {
		d := &flagTable[i]
		if d.fileOnly {
			continue
		}
		fs.Var(d.bind(c), d.name, d.usage)
	}
	return fs
}

// scanHelpVersion finds -h, --help or --version among the flags, which
// win over everything else on the line.
func scanHelpVersion(args []string) (help, version bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch name {
		case "h", "help":
			help = help || !hasValue
		case "version":
			if !hasValue {
				version = true
			} else if b, err := strconv.ParseBool(value); err == nil && b {
				version = true
			}
		}
	}
	return help, version
}

// warnIgnoredSources notes the flags and ETCD_* variables that a config
// file made Parse ignore; cmd holds what the command line set.
func (c *Config) warnIgnoredSources(cmd *Config, env map[string]string) {
	var flags, vars []string
	for i := range flagTable {
		d := &flagTable[i]
		if d.name == "config-file" || d.fileOnly {
			continue
		}
		if cmd.explicit[d.name] {
			flags = append(flags, "--"+d.name)
		}
		if _, ok := env[envKey(d.name)]; ok {
			vars = append(vars, envKey(d.name))
		}
	}
	if len(flags) > 0 {
		c.warnf("ignoring command-line flags because a config file is given: %s", strings.Join(flags, " "))
	}
	if len(vars) > 0 {
		c.warnf("ignoring environment variables because a config file is given: %s", strings.Join(vars, " "))
	}
}

// finish resolves aliases, fills derived defaults and validates.
func (c *Config) finish() error {
	for i := range flagTable {
		d := &flagTable[i]
		switch {
		case d.alias != "" && c.explicit[d.name]:
			if c.explicit[d.alias] {
				return fmt.Errorf("cannot set --%s and --%s at the same time, please use --%s only", d.name, d.alias, d.alias)
			}
			c.warnf("--%s is deprecated, use --%s", d.name, d.alias)
		case d.noEffect() && c.explicit[d.name]:
			c.warnf("--%s has no effect in Cairn (accepted for etcd compatibility)", d.name)
		}
	}
	for i := range flagTable {
		if d := &flagTable[i]; d.alias != "" && c.explicit[d.name] {
			c.explicit[d.alias] = true
		}
	}
	c.derive()
	return c.validate()
}

// derive fills the defaults that depend on other flags, as etcd does.
func (c *Config) derive() {
	// A discovery method replaces the default static cluster.
	if !c.explicit["initial-cluster"] &&
		(c.Discovery != "" || c.DiscoverySRV != "" || c.DiscoverySRVName != "" || len(c.DiscoveryEndpoints) > 0) {
		c.InitialCluster = ""
	}
	// `--name infra0` alone bootstraps infra0 at its advertise peer URLs.
	// Like etcd, this compares values: the default text is replaced even
	// when given explicitly.
	if c.Name != defaultName && c.InitialCluster == defaultInitialCluster {
		c.InitialCluster = initialClusterFromName(c.Name, c.AdvertisePeerURLs)
	}
	if c.DataDir == "" {
		c.DataDir = c.Name + ".etcd"
	}
	// On the command line, an explicit listen URL drops the default
	// advertise URL; etcd's config file keeps it.
	if !c.fromFile && c.explicit["listen-client-urls"] && !c.explicit["advertise-client-urls"] {
		c.AdvertiseClientURLs = nil
	}
	if c.SelfSignedCertValidity == 0 {
		c.SelfSignedCertValidity = 1
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		c.warnf("--bcrypt-cost %d is outside 4..31, using 10", c.BcryptCost)
		c.BcryptCost = 10
	}
}

func (c *Config) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

// singleLine keeps err's text on one line (arguments may hold newlines).
func singleLine(err error) error {
	msg := oneLine(err.Error())
	switch {
	case msg == err.Error():
		return err
	case errors.Is(err, ErrUsage):
		return usageError{errors.New(msg)}
	default:
		return errors.New(msg)
	}
}

// oneLine keeps an error text on one line.
func oneLine(s string) string {
	return lineBreaks.Replace(s)
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
