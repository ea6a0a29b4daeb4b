package lease_test

import (
	"fmt"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/storage"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The order of calls a server makes: apply-side calls with the apply batch,
// Promote once leader, then the leader's timer proposes revokes, which are
// applied like any other entry.
func Example() {
	db, err := storage.Open(storage.Options{Dir: "/db", FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := lease.New(db, lease.Options{MinTTL: 2, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}

	apply := func(fn func(b *storage.Batch)) {
		b := db.NewIndexedBatch()
		defer b.Close()
		fn(b)
		if err := db.Commit(b, storage.NoSync); err != nil {
			panic(err) // a failed apply commit stops the member
		}
	}

	// Applying LeaseGrant{ID: 7, TTL: 1} and Put{foo, lease 7}.
	apply(func(b *storage.Batch) {
		g, _ := l.Grant(b, 7, 1)
		fmt.Println("granted TTL", g.TTL)
		_ = l.Attach(b, 7, []byte("foo"))
	})

	// Leader: applying the empty entry of its term.
	l.Promote(time.Second)
	granted, remaining, keys, _ := l.TimeToLive(7, true)
	fmt.Printf("granted %d remaining %d keys %q\n", granted, remaining, keys)

	// The timer fires after the deadline; the server proposes LeaseRevoke.
	now = now.Add(4 * time.Second)
	fmt.Println("expired", l.Expired(500))

	// Applying LeaseRevoke{ID: 7}: the server deletes the keys through MVCC
	// in the same batch.
	apply(func(b *storage.Batch) {
		keys, _ := l.Revoke(b, 7)
		fmt.Printf("revoked, delete %q\n", keys)
	})
	fmt.Println("exists", l.Exists(7))
	// Output:
	// granted TTL 2
	// granted 2 remaining 3 keys ["foo"]
	// expired [7]
	// revoked, delete ["foo"]
	// exists false
}
