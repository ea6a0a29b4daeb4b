package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/pki"
)

const day = 24 * time.Hour

// validityValue is a --validity flag: a Go duration ("8760h") or a whole
// number of days ("365d"). Go durations stop at hours, and certificate
// lifetimes are thought of in days.
type validityValue time.Duration

func (v *validityValue) String() string {
	d := time.Duration(*v)
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

func (v *validityValue) Set(s string) error {
	d, err := parseValidity(s)
	if err != nil {
		return err
	}
	*v = validityValue(d)
	return nil
}

func (v *validityValue) Type() string { return "duration" }

func parseValidity(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, errors.New("want a whole number of days before \"d\", as in 365d")
		}
		if days <= 0 {
			return 0, errors.New("validity must be positive")
		}
		if days > math.MaxInt64/int64(day) {
			return 0, fmt.Errorf("at most %d days", math.MaxInt64/int64(day))
		}
		return time.Duration(days) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a Go duration (8760h) or a number of days (365d)")
	}
	if d <= 0 {
		return 0, errors.New("validity must be positive")
	}
	return d, nil
}

// keyTypeValue is a --key-type flag, checked as it is parsed.
type keyTypeValue pki.KeyType

func (v *keyTypeValue) String() string { return string(*v) }
func (v *keyTypeValue) Type() string   { return "type" }

func (v *keyTypeValue) Set(s string) error {
	kt, err := pki.ParseKeyType(s)
	if err != nil {
		return errors.New("want ecdsa, rsa2048 or rsa4096")
	}
	*v = keyTypeValue(kt)
	return nil
}

// profileValue is a --profile flag, checked as it is parsed.
type profileValue pki.Profile

func (v *profileValue) String() string { return string(*v) }
func (v *profileValue) Type() string   { return "profile" }

func (v *profileValue) Set(s string) error {
	p, err := pki.ParseProfile(s)
	if err != nil {
		return errors.New("want server, peer or client")
	}
	*v = profileValue(p)
	return nil
}
