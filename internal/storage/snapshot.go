package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A state snapshot travels as a stream of records: uvarint key length, key,
// uvarint value length, value, for every key of the exported spans in
// order; then a zero key length and the CRC-32C of everything before it,
// big-endian. The receiver turns the stream into one SST that also carries
// a range deletion over each span, so ingesting it replaces those spans
// atomically, whatever the receiver held before.

// ErrBadSnapshot: a snapshot stream is malformed, out of order, outside its
// spans, or fails its checksum.
var ErrBadSnapshot = errors.New("storage: bad snapshot stream")

// maxSnapshotKey and maxSnapshotValue bound one record, so a bad stream
// cannot make the receiver allocate without limit.
const (
	maxSnapshotKey   = 1 << 20
	maxSnapshotValue = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Span is a key range [Start, End).
type Span struct{ Start, End []byte }

func (s Span) contains(k []byte) bool {
	return bytes.Compare(k, s.Start) >= 0 && bytes.Compare(k, s.End) < 0
}

// ExportSpans writes every key of spans, as seen by r, to w in the snapshot
// format, leaving out the keys skip reports. Spans must be ordered and must
// not overlap.
func ExportSpans(r Reader, spans []Span, skip func(key []byte) bool, w io.Writer) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var hdr [binary.MaxVarintLen64]byte
	for _, sp := range spans {
		it, err := r.NewIter(&IterOptions{LowerBound: sp.Start, UpperBound: sp.End})
		if err != nil {
			return err
		}
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			if skip != nil && skip(k) {
				continue
			}
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return err
			}
			if len(k) == 0 || len(k) > maxSnapshotKey || len(v) > maxSnapshotValue {
				it.Close()
				return fmt.Errorf("storage: key of %d bytes or value of %d bytes cannot be exported", len(k), len(v))
			}
			bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(k)))])
			bw.Write(k)
			bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(v)))])
			if _, err := bw.Write(v); err != nil {
				it.Close()
				return err
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	bw.WriteByte(0)
	if err := bw.Flush(); err != nil {
		return err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	_, err := w.Write(sum[:])
	return err
}

// BuildSST reads a snapshot stream from r and writes it, with a range
// deletion over each span, to an SST at path that d can ingest. Every key
// must lie in a span, in strictly increasing order. On error no file is
// left behind. The file is synced before BuildSST returns.
func (d *DB) BuildSST(r io.Reader, spans []Span, path string) (keys int, err error) {
	tmp := path + ".tmp"
	f, err := d.popts.FS.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return 0, err
	}
	wopts := d.popts.MakeWriterOptions(0, d.pdb.TableFormat())
	wopts.DisableValueBlocks = true // as the DB's own tables (keepValuesInPlace)
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wopts)
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
		if err != nil {
			d.popts.FS.Remove(tmp)
		}
	}()
	for _, sp := range spans {
		if err := w.DeleteRange(sp.Start, sp.End); err != nil {
			return 0, err
		}
	}

	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 256<<10)
	tee := &crcReader{r: br, crc: crc}
	var prev, val []byte
	for {
		klen, err := binary.ReadUvarint(tee)
		if err != nil {
			return keys, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		if klen == 0 {
			break
		}
		if klen > maxSnapshotKey {
			return keys, fmt.Errorf("%w: key of %d bytes", ErrBadSnapshot, klen)
		}
		key := make([]byte, klen)
		if _, err := io.ReadFull(tee, key); err != nil {
			return keys, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		vlen, err := binary.ReadUvarint(tee)
		if err != nil {
			return keys, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		if vlen > maxSnapshotValue {
			return keys, fmt.Errorf("%w: value of %d bytes", ErrBadSnapshot, vlen)
		}
		if uint64(cap(val)) < vlen {
			val = make([]byte, vlen)
		}
		val = val[:vlen]
		if _, err := io.ReadFull(tee, val); err != nil {
			return keys, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		if prev != nil && bytes.Compare(key, prev) <= 0 {
			return keys, fmt.Errorf("%w: keys out of order", ErrBadSnapshot)
		}
		if !inSpans(spans, key) {
			return keys, fmt.Errorf("%w: key %q outside the snapshot's spans", ErrBadSnapshot, key)
		}
		if err := w.Set(key, val); err != nil {
			return keys, err
		}
		prev = key
		keys++
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return keys, fmt.Errorf("%w: no checksum: %v", ErrBadSnapshot, err)
	}
	if binary.BigEndian.Uint32(sum[:]) != want {
		return keys, fmt.Errorf("%w: checksum mismatch", ErrBadSnapshot)
	}
	closed = true
	if err := w.Close(); err != nil { // syncs and closes f
		return keys, err
	}
	if err := d.popts.FS.Rename(tmp, path); err != nil {
		return keys, err
	}
	return keys, syncDir(d.popts.FS, filepath.Dir(path))
}

func inSpans(spans []Span, k []byte) bool {
	for _, sp := range spans {
		if sp.contains(k) {
			return true
		}
	}
	return false
}

// crcReader feeds what it reads into crc; it reads byte by byte for
// ReadUvarint through the buffered reader below it.
type crcReader struct {
	r   *bufio.Reader
	crc io.Writer
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.crc.Write([]byte{b})
	}
	return b, err
}

func syncDir(fs vfs.FS, dir string) error {
	f, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
