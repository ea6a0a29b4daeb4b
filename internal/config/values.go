package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The flag.Value kinds that back the flag table. Each one writes straight
// into a Config field. Their error texts follow the standard flag package,
// which is what etcd prints: a malformed number is "parse error".

var (
	errParse = errors.New("parse error")
	errRange = errors.New("value out of range")
)

func numError(err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return errRange
	}
	return errParse
}

// listValue is implemented by values whose flag syntax is a comma-separated
// list; the config file may give them as a YAML sequence.
type listValue interface{ isList() }

// durationKind marks values that a config file may give as a number of
// nanoseconds, as etcd's config file does.
type durationKind interface{ isDuration() }

type stringValue struct{ p *string }

func (v stringValue) Set(s string) error { *v.p = s; return nil }
func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// enumValue accepts one of a fixed set of words.
type enumValue struct {
	p     *string
	valid []string
}

func (v enumValue) Set(s string) error {
	if !slices.Contains(v.valid, s) {
		quoted := make([]string, len(v.valid))
		for i, w := range v.valid {
			quoted[i] = strconv.Quote(w)
		}
		return fmt.Errorf("valid values are %s", strings.Join(quoted, ", "))
	}
	*v.p = s
	return nil
}

func (v enumValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

type boolValue struct{ p *bool }

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errParse
	}
	*v.p = b
	return nil
}

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

// IsBoolFlag lets the flag package accept "--x" without a value.
func (v boolValue) IsBoolFlag() bool { return true }

type uintValue struct{ p *uint }

func (v uintValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = uint(n)
	return nil
}

func (v uintValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*v.p), 10)
}

type uint32Value struct{ p *uint32 }

func (v uint32Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return numError(err)
	}
	*v.p = uint32(n)
	return nil
}

func (v uint32Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*v.p), 10)
}

type uint64Value struct{ p *uint64 }

func (v uint64Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	*v.p = n
	return nil
}

func (v uint64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatUint(*v.p, 10)
}

type intValue struct{ p *int }

func (v intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = int(n)
	return nil
}

func (v intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

// int64Value holds a signed 64-bit number; with nonNegative set it refuses
// values below zero (etcd keeps those flags unsigned).
type int64Value struct {
	p           *int64
	nonNegative bool
}

func (v int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	if v.nonNegative && n < 0 {
		return errParse
	}
	*v.p = n
	return nil
}

func (v int64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(*v.p, 10)
}

type durationValue struct{ p *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errParse
	}
	*v.p = d
	return nil
}

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (durationValue) isDuration() {}

// stringsValue is a comma-separated list of words. With unique set,
// repeated words are kept once, in first-seen order. An empty string gives
// an empty list.
type stringsValue struct {
	p      *[]string
	unique bool
}

func (v stringsValue) Set(s string) error {
	*v.p = splitList(s, v.unique)
	return nil
}

func (v stringsValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (stringsValue) isList() {}

func splitList(s string, unique bool) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" || (unique && slices.Contains(out, part)) {
			continue
		}
		out = append(out, part)
	}
	return out
}

// urlsValue is a comma-separated list of URLs, checked as etcd checks them,
// de-duplicated and sorted. An empty string gives an empty list.
type urlsValue struct{ p *[]url.URL }

func (v urlsValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*v.p = nil
		return nil
	}
	us, err := parseURLs(strings.Split(s, ","))
	if err != nil {
		return err
	}
	*v.p = us
	return nil
}

func (v urlsValue) String() string {
	if v.p == nil {
		return ""
	}
	return joinURLs(*v.p)
}

func (urlsValue) isList() {}

// corsValue is a comma-separated list of origins: "*" or URLs.
type corsValue struct{ p *[]string }

func (v corsValue) Set(s string) error {
	list := splitList(s, true)
	for _, o := range list {
		if o == "*" {
			continue
		}
		if _, err := parseURL(o); err != nil {
			return err
		}
	}
	*v.p = list
	return nil
}

func (v corsValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (corsValue) isList() {}

// parseURL checks one URL with etcd's rules: scheme http, https, unix or
// unixs; http(s) URLs carry host:port and no path. A host name is accepted.
func parseURL(in string) (url.URL, error) {
	in = strings.TrimSpace(in)
	u, err := url.Parse(in)
	if err != nil {
		return url.URL{}, err
	}
	switch u.Scheme {
	case "http", "https":
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return url.URL{}, fmt.Errorf(`URL address does not have the form "host:port": %s`, in)
		}
		if u.Path != "" {
			return url.URL{}, fmt.Errorf("URL must not contain a path: %s", in)
		}
	case "unix", "unixs":
	default:
		return url.URL{}, fmt.Errorf("URL scheme must be http, https, unix, or unixs: %s", in)
	}
	return *u, nil
}

// parseURLs parses each URL, drops repeats and sorts the result by its
// string form, as etcd does.
func parseURLs(ins []string) ([]url.URL, error) {
	var out []url.URL
	seen := make(map[string]bool)
	for _, in := range ins {
		u, err := parseURL(in)
		if err != nil {
			return nil, err
		}
		if s := u.String(); !seen[s] {
			seen[s] = true
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b url.URL) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func joinURLs(us []url.URL) string {
	s := make([]string, len(us))
	for i := range us {
		s[i] = us[i].String()
	}
	return strings.Join(s, ",")
}
