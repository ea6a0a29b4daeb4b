package watch

import (
	"slices"
	"testing"
)

// fuzzKeys is a small alphabet with the edge cases of byte ordering.
var fuzzKeys = []string{"\x00", "\x00\x00", "a", "a\x00", "ab", "abc", "b", "ba", "c", "\xff", "\xff\xff"}

// FuzzIndex drives the index with random adds, removes and lookups and
// compares every lookup with a scan of all watchers.
func FuzzIndex(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	f.Add([]byte{1, 0, 3, 1, 2, 5, 1, 4, 9, 0x81, 0, 0, 2, 7, 0x42, 1, 1, 2, 3})
	f.Add([]byte("interval trees are easy to get wrong"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix := newIndex()
		var live []*watcher
		take := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		for len(data) > 0 {
			switch b := take(); {
			case b < 0x60: // add
				w := &watcher{id: int64(len(live)), key: fuzzKeys[int(take())%len(fuzzKeys)]}
				switch b % 3 {
				case 0:
					w.kind = kindKey
				case 1:
					w.kind = kindFromKey
				default:
					end := fuzzKeys[int(take())%len(fuzzKeys)]
					if end <= w.key {
						w.kind = kindKey
					} else {
						w.kind, w.end = kindRange, end
					}
				}
				ix.add(w)
				live = append(live, w)
			case b < 0xa0: // remove
				if len(live) == 0 {
					continue
				}
				i := int(take()) % len(live)
				if !ix.remove(live[i]) {
					t.Fatalf("remove of a present watcher failed")
				}
				if ix.remove(live[i]) {
					t.Fatalf("second remove succeeded")
				}
				live = slices.Delete(live, i, i+1)
			default: // lookup
				k := fuzzKeys[int(take())%len(fuzzKeys)]
				var got, want []int64
				ix.match([]byte(k), func(w *watcher) { got = append(got, w.id) })
				for _, w := range live {
					if naiveContains(w, k) {
						want = append(want, w.id)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("match(%q) = %v, want %v", k, got, want)
				}
			}
			if ix.len() != len(live) {
				t.Fatalf("len = %d, want %d", ix.len(), len(live))
			}
			checkTreap(t, ix.tree.root)
		}
	})
}

// checkTreap verifies order, heap priority and the maxEnd augmentation.
func checkTreap(t *testing.T, n *inode) {
	if n == nil {
		return
	}
	wantEnd, wantInf := n.end, n.inf
	for _, c := range []*inode{n.left, n.right} {
		if c == nil {
			continue
		}
		if c.prio > n.prio {
			t.Fatalf("heap order broken")
		}
		if endBefore(wantEnd, wantInf, c.maxEnd, c.maxInf) {
			wantEnd, wantInf = c.maxEnd, c.maxInf
		}
		checkTreap(t, c)
	}
	if n.left != nil && !spanLess(n.left.span, n.span) || n.right != nil && spanLess(n.right.span, n.span) {
		t.Fatalf("search order broken")
	}
	if n.maxEnd != wantEnd || n.maxInf != wantInf {
		t.Fatalf("maxEnd = %q/%v, want %q/%v", n.maxEnd, n.maxInf, wantEnd, wantInf)
	}
}

func BenchmarkNotifyManyWatchersOtherKeys(b *testing.B) {
	hist := newFakeHistory()
	hub := NewHub(hist, Options{})
	defer hub.Close()
	s := hub.NewStream()
	for i := range 10000 {
		s.Watch(WatchRequest{Key: []byte{'w', byte(i >> 8), byte(i)}})
		s.Watch(WatchRequest{Key: []byte{'r', byte(i >> 8), byte(i)}, End: []byte{'r', byte(i >> 8), byte(i), 0xff}})
	}
	b.ResetTimer()
	for range b.N {
		rev, evs := hist.commit(put("unrelated", "v"))
		hub.Notify(rev, evs)
	}
}
