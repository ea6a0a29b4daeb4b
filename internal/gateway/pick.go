package gateway

import "time"

// endpoint is one upstream and when it may be tried again.
type endpoint struct {
	Endpoint
	failUntil time.Time // zero when live
}

// picker chooses the upstream of each new client connection. It is the
// proxy's pure core: time and random numbers come from the caller, and it
// has no lock of its own (Proxy.mu protects it).
type picker struct {
	eps  []*endpoint
	next int             // round-robin cursor, shared by both round-robin paths as in etcd
	intn func(n int) int // uniform in [0, n)
}

// pick returns the endpoint for a new connection, or nil when none is
// live. An endpoint is live when its retry delay has passed at now and it
// is not in skip (those already tried for this connection).
//
// The policy is etcd's gateway's: among the live endpoints take those of
// the lowest priority. If some of them have a weight, choose among those
// in proportion to weight, except one time in a hundred when a weight-0
// endpoint of that priority gets a turn (round robin), so that RFC 2782's
// "very small chance" for them is not zero. If none of them has a weight,
// go round robin over every live endpoint, whatever its priority: etcd
// weighs priority only together with weights, and plain --endpoints (all
// priority 0, weight 0) take this path.
func (pk *picker) pick(now time.Time, skip map[*endpoint]bool) *endpoint {
	live := func(ep *endpoint) bool { return !skip[ep] && !now.Before(ep.failUntil) }

	var (
		weighted, unweighted []*endpoint // the live ones of priority best
		best                 uint16
		total                int // the sum of weighted's weights
	)
	for _, ep := range pk.eps {
		switch {
		case !live(ep):
			continue
		case len(weighted)+len(unweighted) == 0:
			best = ep.Priority
		case ep.Priority > best:
			continue
		case ep.Priority < best:
			best = ep.Priority
			weighted, unweighted, total = nil, nil, 0
		}
		if ep.Weight > 0 {
			weighted = append(weighted, ep)
			total += int(ep.Weight)
		} else {
			unweighted = append(unweighted, ep)
		}
	}

	if len(weighted) > 0 {
		if len(unweighted) > 0 && pk.intn(100) == 0 {
			ep := unweighted[pk.next%len(unweighted)]
			pk.next++
			return ep
		}
		n := pk.intn(total)
		for _, ep := range weighted {
			if n < int(ep.Weight) {
				return ep
			}
			n -= int(ep.Weight)
		}
	}
	for range pk.eps {
		ep := pk.eps[pk.next%len(pk.eps)]
		pk.next++
		if live(ep) {
			return ep
		}
	}
	return nil
}
