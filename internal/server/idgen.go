package server

import (
	"sync/atomic"
	"time"
)

// idGenerator makes request and lease IDs unique across members and
// restarts: the member's low 16 bits on top, then a millisecond timestamp
// that leaves 8 bits for a counter, incremented atomically (etcd's scheme).
type idGenerator struct {
	prefix uint64
	suffix atomic.Uint64
}

const (
	idTsBits  = 40
	idCntBits = 8
	idSufBits = idTsBits + idCntBits
)

func newIDGenerator(memberID uint64, now time.Time) *idGenerator {
	g := &idGenerator{prefix: (memberID & 0xffff) << idSufBits}
	ms := uint64(now.UnixNano()/int64(time.Millisecond)) & (1<<idTsBits - 1)
	g.suffix.Store(ms << idCntBits)
	return g
}

func (g *idGenerator) next() uint64 {
	s := g.suffix.Add(1) & (1<<idSufBits - 1)
	return g.prefix | s
}
