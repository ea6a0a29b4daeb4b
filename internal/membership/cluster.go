package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cairn-db/cairn/internal/storage"
)

var (
	// ErrIDExists: a member with this ID is already in the cluster.
	ErrIDExists = errors.New("membership: member ID already exists")
	// ErrIDRemoved: the ID belongs to a removed member and cannot come back.
	ErrIDRemoved = errors.New("membership: member ID was removed")
	// ErrIDNotFound: no member with this ID.
	ErrIDNotFound = errors.New("membership: member not found")
	// ErrPeerURLExists: another member already uses one of the peer URLs.
	ErrPeerURLExists = errors.New("membership: peer URL already exists")
	// ErrCorrupt tags a membership record that cannot be decoded.
	ErrCorrupt = errors.New("membership: corrupt record")
	// ErrNotLearner: only a learner can be promoted.
	ErrNotLearner = errors.New("membership: member is not a learner")
)

// Storage keys under storage.PrefixMembership.
var (
	keyClusterID   = storage.Key(storage.PrefixMembership, []byte("cluster-id"))
	keyVersion     = storage.Key(storage.PrefixMembership, []byte("cluster-version"))
	keyMemberPfx   = []byte{storage.PrefixMembership, 'm', '/'}
	keyRemovedPfx  = []byte{storage.PrefixMembership, 'r', '/'}
	clusterIDBytes = 8
)

// Cluster is the membership state of this member's cluster.
type Cluster struct {
	mu struct {
		sync.RWMutex
		clusterID uint64             // protected by mu; 0 until bootstrapped
		version   string             // protected by mu; cluster version, "" until set
		members   map[uint64]*Member // protected by mu
		removed   map[uint64]bool    // protected by mu
	}
}

// Load reads the membership keyspace. An empty keyspace gives an empty
// Cluster (ClusterID 0): the member has not been bootstrapped.
func Load(r storage.Reader) (*Cluster, error) {
	c := newCluster()
	if v, err := storage.Get(r, keyClusterID); err == nil {
		id, ok := storage.Uint64(v)
		if !ok || len(v) != clusterIDBytes {
			return nil, fmt.Errorf("%w: cluster id", ErrCorrupt)
		}
		c.mu.clusterID = id
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if v, err := storage.Get(r, keyVersion); err == nil {
		c.mu.version = string(v)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if err := scan(r, keyMemberPfx, func(v []byte) error {
		var m Member
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("%w: member: %v", ErrCorrupt, err)
		}
		c.mu.members[m.ID] = &m
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(r, keyRemovedPfx, func(v []byte) error {
		id, ok := storage.Uint64(v)
		if !ok {
			return fmt.Errorf("%w: removed id", ErrCorrupt)
		}
		c.mu.removed[id] = true
		return nil
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload replaces c's contents with what r holds, for a member that just
// installed a snapshot.
func (c *Cluster) Reload(r storage.Reader) error {
	n, err := Load(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.clusterID, c.mu.version = n.mu.clusterID, n.mu.version
	c.mu.members, c.mu.removed = n.mu.members, n.mu.removed
	return nil
}

func newCluster() *Cluster {
	c := &Cluster{}
	c.mu.members = make(map[uint64]*Member)
	c.mu.removed = make(map[uint64]bool)
	return c
}

func scan(r storage.Reader, prefix []byte, fn func(v []byte) error) error {
	it, err := r.NewIter(&storage.IterOptions{LowerBound: prefix, UpperBound: storage.PrefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// Bootstrap records the founding members and the cluster ID in b.
func (c *Cluster) Bootstrap(b *storage.Batch, clusterID uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.clusterID = clusterID
	return b.Set(keyClusterID, storage.PutUint64(nil, clusterID), nil)
}

// ID is the cluster ID (0 before bootstrap).
func (c *Cluster) ID() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.clusterID
}

// Version is the cluster version, "" until decided.
func (c *Cluster) Version() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.version
}

// SetVersion records the cluster version in b.
func (c *Cluster) SetVersion(b *storage.Batch, v string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.version = v
	return b.Set(keyVersion, []byte(v), nil)
}

// Add adds m; the ID must be new and its peer URLs unused.
func (c *Cluster) Add(b *storage.Batch, m *Member) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.removed[m.ID] {
		return ErrIDRemoved
	}
	if _, ok := c.mu.members[m.ID]; ok {
		return ErrIDExists
	}
	if c.peerURLUsedLocked(m.PeerURLs, 0) {
		return ErrPeerURLExists
	}
	return c.putLocked(b, m.Clone())
}

// Remove removes a member and remembers its ID as removed.
func (c *Cluster) Remove(b *storage.Batch, id uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.members[id]; !ok {
		if c.mu.removed[id] {
			return ErrIDRemoved
		}
		return ErrIDNotFound
	}
	delete(c.mu.members, id)
	c.mu.removed[id] = true
	idb := storage.PutUint64(nil, id)
	if err := b.Delete(storage.Key(storage.PrefixMembership, keyMemberPfx[1:], idb), nil); err != nil {
		return err
	}
	return b.Set(storage.Key(storage.PrefixMembership, keyRemovedPfx[1:], idb), idb, nil)
}

// UpdatePeerURLs replaces a member's peer URLs.
func (c *Cluster) UpdatePeerURLs(b *storage.Batch, id uint64, urls []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return ErrIDNotFound
	}
	if c.peerURLUsedLocked(urls, id) {
		return ErrPeerURLExists
	}
	m = m.Clone()
	m.PeerURLs = append([]string(nil), urls...)
	sort.Strings(m.PeerURLs)
	return c.putLocked(b, m)
}

// UpdateAttributes sets a member's name and client URLs (published by the
// member itself when it starts).
func (c *Cluster) UpdateAttributes(b *storage.Batch, id uint64, name string, clientURLs []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return ErrIDNotFound
	}
	m = m.Clone()
	m.Name = name
	m.ClientURLs = append([]string(nil), clientURLs...)
	return c.putLocked(b, m)
}

// Promote turns a learner into a voter.
func (c *Cluster) Promote(b *storage.Batch, id uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return ErrIDNotFound
	}
	if !m.IsLearner {
		return ErrNotLearner
	}
	m = m.Clone()
	m.IsLearner = false
	return c.putLocked(b, m)
}

// Member returns a copy of one member.
func (c *Cluster) Member(id uint64) (*Member, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mu.members[id]
	if !ok {
		return nil, false
	}
	return m.Clone(), true
}

// Members returns copies of all members, ordered by ID.
func (c *Cluster) Members() []*Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Member, 0, len(c.mu.members))
	for _, m := range c.mu.members {
		out = append(out, m.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IsLearner reports whether id is a learner member. It does not copy the
// record, so request paths may call it.
func (c *Cluster) IsLearner(id uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mu.members[id]
	return ok && m.IsLearner
}

// Learners counts the learner members.
func (c *Cluster) Learners() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, m := range c.mu.members {
		if m.IsLearner {
			n++
		}
	}
	return n
}

// IsRemoved reports whether id belonged to a removed member.
func (c *Cluster) IsRemoved(id uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.removed[id]
}

func (c *Cluster) peerURLUsedLocked(urls []string, except uint64) bool {
	for id, m := range c.mu.members {
		if id == except {
			continue
		}
		for _, u := range m.PeerURLs {
			for _, v := range urls {
				if u == v {
					return true
				}
			}
		}
	}
	return false
}

func (c *Cluster) putLocked(b *storage.Batch, m *Member) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.mu.members[m.ID] = m
	return b.Set(storage.Key(storage.PrefixMembership, keyMemberPfx[1:], storage.PutUint64(nil, m.ID)), v, nil)
}
