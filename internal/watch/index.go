package watch

// index finds the watchers whose key range holds a key. Single-key watchers
// are found through a map; range and from-key watchers are grouped by their
// exact range, and the distinct ranges live in an interval treap. A lookup
// costs O(log R + matching ranges) for R distinct ranges, so the cost of an
// event does not depend on watchers of other keys.
type index struct {
	keys   map[string]watcherSet
	ranges map[span]*inode
	tree   itree
	n      int
}

type watcherSet map[*watcher]struct{}

// span is a half-open key interval [start, end); inf means no end (from-key).
type span struct {
	start, end string
	inf        bool
}

func newIndex() *index {
	return &index{keys: make(map[string]watcherSet), ranges: make(map[span]*inode)}
}

func (ix *index) len() int { return ix.n }

func (ix *index) add(w *watcher) {
	ix.n++
	if w.single() {
		set := ix.keys[w.key]
		if set == nil {
			set = make(watcherSet)
			ix.keys[w.key] = set
		}
		set[w] = struct{}{}
		return
	}
	sp := w.span()
	nd := ix.ranges[sp]
	if nd == nil {
		nd = &inode{span: sp, ws: make(watcherSet)}
		ix.ranges[sp] = nd
		ix.tree.insert(nd)
	}
	nd.ws[w] = struct{}{}
}

// remove deletes w; it reports whether w was present.
func (ix *index) remove(w *watcher) bool {
	if w.single() {
		set := ix.keys[w.key]
		if _, ok := set[w]; !ok {
			return false
		}
		delete(set, w)
		if len(set) == 0 {
			delete(ix.keys, w.key)
		}
		ix.n--
		return true
	}
	sp := w.span()
	nd := ix.ranges[sp]
	if nd == nil {
		return false
	}
	if _, ok := nd.ws[w]; !ok {
		return false
	}
	delete(nd.ws, w)
	if len(nd.ws) == 0 {
		delete(ix.ranges, sp)
		ix.tree.remove(nd)
	}
	ix.n--
	return true
}

// each calls fn for every watcher; fn must not change the index.
func (ix *index) each(fn func(*watcher)) {
	for _, set := range ix.keys {
		for w := range set {
			fn(w)
		}
	}
	for _, nd := range ix.ranges {
		for w := range nd.ws {
			fn(w)
		}
	}
}

// match calls fn for every watcher whose range holds key.
func (ix *index) match(key []byte, fn func(*watcher)) {
	for w := range ix.keys[string(key)] {
		fn(w)
	}
	if ix.tree.root == nil {
		return
	}
	ix.tree.stab(string(key), func(nd *inode) {
		for w := range nd.ws {
			fn(w)
		}
	})
}

// itree is a treap of distinct spans ordered by (start, end), each node
// holding the greatest end of its subtree so stabbing queries can prune.
type itree struct {
	root *inode
	seed uint64
}

type inode struct {
	span
	ws          watcherSet
	prio        uint64
	maxEnd      string
	maxInf      bool
	left, right *inode
}

// endBefore reports whether end a comes strictly before end b.
func endBefore(a string, aInf bool, b string, bInf bool) bool {
	if aInf {
		return false
	}
	return bInf || a < b
}

func spanLess(a, b span) bool {
	if a.start != b.start {
		return a.start < b.start
	}
	return endBefore(a.end, a.inf, b.end, b.inf)
}

func (n *inode) fix() {
	n.maxEnd, n.maxInf = n.end, n.inf
	for _, c := range [2]*inode{n.left, n.right} {
		if c != nil && endBefore(n.maxEnd, n.maxInf, c.maxEnd, c.maxInf) {
			n.maxEnd, n.maxInf = c.maxEnd, c.maxInf
		}
	}
}

// nextPrio is a splitmix64 sequence: deterministic, well spread.
func (t *itree) nextPrio() uint64 {
	t.seed += 0x9e3779b97f4a7c15
	z := t.seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (t *itree) insert(n *inode) {
	n.prio = t.nextPrio()
	n.left, n.right = nil, nil
	t.root = insertNode(t.root, n)
}

func insertNode(root, n *inode) *inode {
	if root == nil {
		n.fix()
		return n
	}
	if spanLess(n.span, root.span) {
		root.left = insertNode(root.left, n)
		if root.left.prio > root.prio {
			root = rotateRight(root)
		}
	} else {
		root.right = insertNode(root.right, n)
		if root.right.prio > root.prio {
			root = rotateLeft(root)
		}
	}
	root.fix()
	return root
}

func rotateRight(y *inode) *inode {
	x := y.left
	y.left = x.right
	x.right = y
	y.fix()
	x.fix()
	return x
}

func rotateLeft(x *inode) *inode {
	y := x.right
	x.right = y.left
	y.left = x
	x.fix()
	y.fix()
	return y
}

// remove deletes node n, which must be in the tree (spans are unique).
func (t *itree) remove(n *inode) {
	t.root = removeNode(t.root, n)
	n.left, n.right = nil, nil
}

func removeNode(root, n *inode) *inode {
	if root == nil {
		return nil
	}
	if root == n {
		return merge(root.left, root.right)
	}
	if spanLess(n.span, root.span) {
		root.left = removeNode(root.left, n)
	} else {
		root.right = removeNode(root.right, n)
	}
	root.fix()
	return root
}

// merge joins two treaps whose keys are all ordered a < b.
func merge(a, b *inode) *inode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		a.fix()
		return a
	default:
		b.left = merge(a, b.left)
		b.fix()
		return b
	}
}

// stab calls fn for every node whose span holds key.
func (t *itree) stab(key string, fn func(*inode)) {
	stabNode(t.root, key, fn)
}

func stabNode(n *inode, key string, fn func(*inode)) {
	for n != nil {
		if !n.maxInf && n.maxEnd <= key {
			return // every span below ends at or before key
		}
		stabNode(n.left, key, fn)
		if n.start > key {
			return // this span and those to its right start after key
		}
		if n.inf || key < n.end {
			fn(n)
		}
		n = n.right
	}
}
