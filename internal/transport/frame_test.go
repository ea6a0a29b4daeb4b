package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func encodeFrames(t testing.TB, msgs ...raftpb.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	var scratch []byte
	var err error
	for i := range msgs {
		if scratch, err = writeFrame(bw, &msgs[i], scratch); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	msgs := []raftpb.Message{
		{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 3},
		{Type: raftpb.MsgApp, From: 1, To: 2, Index: 9, Entries: []raftpb.Entry{{Index: 10, Term: 3, Data: bytes.Repeat([]byte("x"), 200<<10)}}},
		{},
		{Type: raftpb.MsgSnap, From: 1, To: 2, Snapshot: &raftpb.Snapshot{Data: []byte("snap"), Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 1}}},
	}
	fr := newFrameReader(bytes.NewReader(encodeFrames(t, msgs...)))
	for i, want := range msgs {
		var got raftpb.Message
		if err := fr.next(&got); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		wb, _ := want.Marshal()
		gb, _ := got.Marshal()
		if !bytes.Equal(wb, gb) {
			t.Fatalf("frame %d differs: got %v", i, got.Type)
		}
	}
	var m raftpb.Message
	if err := fr.next(&m); err != io.EOF {
		t.Fatalf("want io.EOF at end, got %v", err)
	}
}

func TestFrameErrors(t *testing.T) {
	huge := binary.AppendUvarint(nil, MaxFrameSize+1)
	full := encodeFrames(t, raftpb.Message{Type: raftpb.MsgApp, Index: 7, Entries: []raftpb.Entry{{Data: []byte("abc")}}})
	for _, tc := range []struct {
		name string
		in   []byte
		want error // nil: any non-EOF error
	}{
		{"too large", huge, ErrFrameTooLarge},
		{"truncated body", full[:len(full)-1], io.ErrUnexpectedEOF},
		{"truncated length", []byte{0x80}, io.ErrUnexpectedEOF},
		{"overlong varint", bytes.Repeat([]byte{0xff}, 11), nil},
		{"garbage body", append(binary.AppendUvarint(nil, 3), 0xff, 0xff, 0xff), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m raftpb.Message
			err := newFrameReader(bytes.NewReader(tc.in)).next(&m)
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("want an error, got %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(encodeFrames(f, raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2}))
	f.Add(encodeFrames(f, raftpb.Message{Type: raftpb.MsgApp, Entries: []raftpb.Entry{{Data: []byte("x")}}}, raftpb.Message{Type: raftpb.MsgAppResp, Reject: true}))
	f.Add(binary.AppendUvarint(nil, MaxFrameSize+1))
	f.Add([]byte{0x05, 0x08})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data))
		for i := 0; i < 1000; i++ {
			var m raftpb.Message
			if err := fr.next(&m); err != nil {
				return
			}
			// Whatever decodes must encode again.
			if _, err := m.Marshal(); err != nil {
				t.Fatalf("re-marshal: %v", err)
			}
		}
	})
}
