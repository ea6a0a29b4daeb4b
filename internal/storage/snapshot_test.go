package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func put(t *testing.T, d *DB, kv ...string) {
	t.Helper()
	b := d.NewBatch()
	defer b.Close()
	for i := 0; i < len(kv); i += 2 {
		if err := b.Set([]byte(kv[i]), []byte(kv[i+1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Commit(b, Sync); err != nil {
		t.Fatal(err)
	}
}

func dump(t *testing.T, d *DB) string {
	t.Helper()
	it, err := d.NewIter(&IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var buf bytes.Buffer
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Fprintf(&buf, "%s=%s ", it.Key(), it.Value())
	}
	return buf.String()
}

var testSpans = []Span{{Start: []byte("b"), End: []byte("d")}, {Start: []byte("m"), End: []byte("p")}}

func TestSnapshotReplacesSpans(t *testing.T) {
	src, dst := openTest(t, Options{Dir: t.TempDir()}), openTest(t, Options{Dir: t.TempDir()})
	put(t, src, "a", "src-outside", "b1", "1", "c9", "2", "local", "skip-me", "m", "3", "o", "4", "z", "src-outside")
	put(t, dst, "a", "dst-outside", "b0", "stale", "c9", "old", "n", "stale", "z", "dst-outside")
	// A key the exporter skips (like a member's own ID) is neither sent
	// nor, outside the spans, touched.
	skip := func(k []byte) bool { return bytes.Equal(k, []byte("o")) }
	var stream bytes.Buffer
	if err := ExportSpans(src.Reader(), testSpans, skip, &stream); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snap.sst")
	n, err := dst.BuildSST(bytes.NewReader(stream.Bytes()), testSpans, path)
	if err != nil || n != 3 {
		t.Fatalf("BuildSST = %d, %v", n, err)
	}
	if err := dst.Ingest(context.Background(), []string{path}); err != nil {
		t.Fatal(err)
	}
	want := "a=dst-outside b1=1 c9=2 m=3 z=dst-outside "
	if got := dump(t, dst); got != want {
		t.Fatalf("after ingest:\n got %s\nwant %s", got, want)
	}
}

func TestBuildSSTRefusesBadStreams(t *testing.T) {
	src, dst := openTest(t, Options{Dir: t.TempDir()}), openTest(t, Options{Dir: t.TempDir()})
	put(t, src, "b1", "1", "m", "3")
	var good bytes.Buffer
	if err := ExportSpans(src.Reader(), testSpans, nil, &good); err != nil {
		t.Fatal(err)
	}
	g := good.Bytes()
	flip := bytes.Clone(g)
	flip[3] ^= 0xff
	outside := []Span{{Start: []byte("b"), End: []byte("c")}}
	for name, tc := range map[string]struct {
		data  []byte
		spans []Span
	}{
		"truncated":       {g[:len(g)-2], testSpans},
		"bad checksum":    {flip, testSpans},
		"empty":           {nil, testSpans},
		"key outside":     {g, outside},
		"huge key length": {[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, testSpans},
	} {
		path := filepath.Join(t.TempDir(), "x.sst")
		if _, err := dst.BuildSST(bytes.NewReader(tc.data), tc.spans, path); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: err = %v, want ErrBadSnapshot", name, err)
		}
	}
}

func FuzzBuildSST(f *testing.F) {
	d, err := Open(Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	b := d.NewBatch()
	b.Set([]byte("b1"), []byte("v"), nil)
	d.Commit(b, Sync)
	b.Close()
	var good bytes.Buffer
	ExportSpans(d.Reader(), testSpans, nil, &good)
	f.Add(good.Bytes())
	f.Add([]byte{0})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.sst")
		if _, err := d.BuildSST(bytes.NewReader(data), testSpans, path); err != nil && !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
