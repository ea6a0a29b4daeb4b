package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.etcd.io/raft/v3/raftpb"
)

// MaxFrameSize is the largest frame a receiver accepts.
const MaxFrameSize = 64 << 20

// ErrFrameTooLarge is returned for a frame longer than MaxFrameSize.
var ErrFrameTooLarge = errors.New("transport: frame too large")

// writeFrame appends one frame for m to w. scratch is reused between calls
// and the (possibly grown) buffer is returned.
func writeFrame(w *bufio.Writer, m *raftpb.Message, scratch []byte) ([]byte, error) {
	n := m.Size()
	if n > MaxFrameSize {
		return scratch, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if cap(scratch) < binary.MaxVarintLen64+n {
		scratch = make([]byte, binary.MaxVarintLen64+n)
	}
	buf := scratch[:cap(scratch)]
	h := binary.PutUvarint(buf, uint64(n))
	if _, err := m.MarshalTo(buf[h : h+n]); err != nil {
		return scratch, fmt.Errorf("transport: marshal message: %w", err)
	}
	_, err := w.Write(buf[:h+n])
	return scratch, err
}

// frameReader decodes frames from a stream.
type frameReader struct {
	r   *bufio.Reader
	buf bytes.Buffer
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next decodes the next frame into m. It returns io.EOF at a clean end of
// stream, io.ErrUnexpectedEOF for a truncated frame, ErrFrameTooLarge, or a
// decode error. The buffer grows only as bytes arrive, so a lying length
// cannot make it allocate MaxFrameSize up front.
func (fr *frameReader) next(m *raftpb.Message) error {
	n, err := binary.ReadUvarint(fr.r)
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return io.ErrUnexpectedEOF
		}
		return fmt.Errorf("transport: frame length: %w", err)
	}
	if n > MaxFrameSize {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	fr.buf.Reset()
	got, err := fr.buf.ReadFrom(io.LimitReader(fr.r, int64(n)))
	if err != nil {
		return err
	}
	if uint64(got) != n {
		return io.ErrUnexpectedEOF
	}
	*m = raftpb.Message{}
	if err := m.Unmarshal(fr.buf.Bytes()); err != nil {
		return fmt.Errorf("transport: decode message: %w", err)
	}
	return nil
}
