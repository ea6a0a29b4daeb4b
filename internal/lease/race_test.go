package lease

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
)

// TestConcurrentReadsDuringApply runs the apply goroutine (grant, attach,
// checkpoint, revoke) while other goroutines renew, read, expire and flip
// leadership. Run it with -race; it also checks that answers stay sane.
func TestConcurrentReadsDuringApply(t *testing.T) {
	e := newEnv(t, Options{MinTTL: 1, EnableCheckpoints: true, CheckpointInterval: time.Second})
	e.l.Promote(0)
	const rounds = 300
	done := make(chan struct{})
	errc := make(chan error, 8)
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // the apply goroutine
		defer wg.Done()
		defer close(done)
		for i := int64(1); i <= rounds; i++ {
			b := e.db.NewIndexedBatch()
			err := func() error {
				if _, err := e.l.Grant(b, i, 2+i%5); err != nil {
					return err
				}
				for k := 0; k < 3; k++ {
					if err := e.l.Attach(b, i, fmt.Appendf(nil, "key-%d-%d", i, k)); err != nil {
						return err
					}
				}
				if err := e.l.Checkpoint(b, i/2+1, 1); err != nil {
					return err
				}
				if i%3 == 0 {
					if _, err := e.l.Revoke(b, i-2); err != nil && !errors.Is(err, ErrLeaseNotFound) {
						return err
					}
				}
				return e.db.Commit(b, storage.NoSync)
			}()
			_ = b.Close()
			if err != nil {
				errc <- err
				return
			}
		}
	}()

	reader := func(fn func(id int64) error) {
		defer wg.Done()
		for id := int64(1); ; id = id%rounds + 1 {
			select {
			case <-done:
				return
			default:
			}
			if err := fn(id); err != nil {
				errc <- err
				return
			}
		}
	}
	wg.Add(3)
	go reader(func(id int64) error {
		_, err := e.l.Renew(id)
		if err != nil && !errors.Is(err, ErrLeaseNotFound) && !errors.Is(err, ErrNotPrimary) {
			return fmt.Errorf("Renew(%d): %w", id, err)
		}
		return nil
	})
	go reader(func(id int64) error {
		g, _, keys, err := e.l.TimeToLive(id, true)
		switch {
		case errors.Is(err, ErrLeaseNotFound), errors.Is(err, ErrNotPrimary):
			return nil
		case err != nil:
			return fmt.Errorf("TimeToLive(%d): %w", id, err)
		case g < 1 || len(keys) > 3:
			return fmt.Errorf("TimeToLive(%d) = granted %d, %d keys", id, g, len(keys))
		}
		_ = e.l.Leases()
		_ = e.l.Exists(id)
		return nil
	})
	go reader(func(id int64) error { // the leader's timer, and elections
		e.clock.Advance(10 * time.Millisecond)
		_ = e.l.Expired(100)
		_ = e.l.DueCheckpoints(100)
		_, _ = e.l.NextExpiry()
		_, _ = e.l.NextCheckpoint()
		if id%50 == 0 {
			e.l.Demote()
			_ = e.l.IsPrimary()
			e.l.Promote(time.Second)
		}
		return nil
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
