package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestSnapshotInstallSurvivesCrash stops a follower, moves the cluster far
// past the leader's retained log, and restarts the follower with a crash
// injected between recording the install and ingesting the state. The
// record must be on disk, and the next start must finish the install and
// converge on the leader's data.
func TestSnapshotInstallSurvivesCrash(t *testing.T) {
	c := startTestClusterWith(t, 3, func(o *Options) {
		o.SnapshotCount = 20
		o.CatchUpEntries = 5
	})
	ctx := testCtx(t)
	lag := 2
	if c.leader(t) == lag {
		lag = 1
	}
	opts := c.members[lag].opts
	c.servers[lag].Close()
	c.members[lag].Stop()

	lead := c.members[c.leader(t)]
	for i := 0; i < 100; i++ {
		if _, err := lead.Put(ctx, &pb.PutRequest{Key: []byte(fmt.Sprintf("k%03d", i)), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}

	restart := func() (*Server, *http.Server) {
		t.Helper()
		s, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		var ln net.Listener
		for deadline := time.Now().Add(testWait); ; time.Sleep(20 * time.Millisecond) {
			if ln, err = net.Listen("tcp", c.addrs[lag]); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: s.PeerHandler()}
		go hs.Serve(ln)
		return s, hs
	}

	crash := errors.New("injected crash after the install record")
	testHookSnapshotCommitted = func() error { return crash }
	s, hs := restart()
	select {
	case <-s.StopNotify():
	case <-time.After(testWait):
		t.Fatal("the follower never reached the snapshot install")
	}
	testHookSnapshotCommitted = nil
	hs.Close()
	s.Stop()

	db, err := storage.Open(storage.Options{Dir: filepath.Join(opts.DataDir, "member", "db")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Get(keySnapshotPending)
	db.Close()
	if err != nil {
		t.Fatalf("no install record after the crash: %v", err)
	}

	s, hs = restart()
	defer func() { hs.Close(); s.Stop() }()
	c.members[lag] = s
	want, err := lead.Range(ctx, &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restarted follower to converge", func() bool {
		got, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), Serializable: true})
		return err == nil && len(got.Kvs) == len(want.Kvs) && got.Header.Revision >= want.Header.Revision
	})
	if _, err := s.db.Get(keySnapshotPending); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("install record still there after restart: %v", err)
	}
}
