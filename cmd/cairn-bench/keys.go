package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// keyspace names the keys a benchmark writes: key number n (0 ≤ n < space)
// is n in decimal, zero-padded to size bytes. Fixed-width decimal keys are
// readable with etcdctl, and sort in the order of their numbers, so the
// whole key space is the range [key(0), key(space)).
type keyspace struct {
	size       int  // key length in bytes
	space      int  // number of distinct keys
	sequential bool // request i writes key i mod space, else a random one
}

func newKeyspace(size, space int, sequential bool) (keyspace, error) {
	if size < 1 {
		return keyspace{}, errors.New("--key-size must be at least 1")
	}
	if space < 1 {
		return keyspace{}, errors.New("--key-space-size must be at least 1")
	}
	if digits := len(strconv.Itoa(space - 1)); digits > size {
		return keyspace{}, fmt.Errorf("--key-space-size %d needs keys of %d digits, more than --key-size %d", space, digits, size)
	}
	return keyspace{size: size, space: space, sequential: sequential}, nil
}

// index returns the key number request i uses.
func (k keyspace) index(i int) int {
	if k.sequential {
		return i % k.space
	}
	return rand.IntN(k.space)
}

// key returns key number n.
func (k keyspace) key(n int) string {
	b := make([]byte, 0, max(k.size, 20))
	digits := strconv.AppendInt(nil, int64(n), 10)
	for range k.size - len(digits) {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// value returns a value of size bytes. It is random letters rather than
// zeros so that nothing on the path can shrink it by compression.
func value(size int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, size)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}
