package v3gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// jsonMarshaler produces the JSON etcd's gateway produces. Messages go
// through protojson with proto field names and without default values; the
// output is then made canonical (no white space, HTML-sensitive characters
// escaped) because protojson deliberately varies its spacing from build to
// build and etcd's older encoder escaped <, > and &. Stream chunks and
// stream errors are laid out the way grpc-gateway v1 laid them out.
type jsonMarshaler struct {
	pb runtime.JSONPb
}

func newJSONMarshaler() *jsonMarshaler {
	return &jsonMarshaler{pb: runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{
			UseProtoNames:   true,
			EmitUnpopulated: false,
		},
		UnmarshalOptions: protojson.UnmarshalOptions{
			DiscardUnknown: true,
		},
	}}
}

var (
	_ runtime.Marshaler = (*jsonMarshaler)(nil)
	_ runtime.Delimited = (*jsonMarshaler)(nil)
)

// ContentType is always application/json, for messages, streams and errors.
func (*jsonMarshaler) ContentType(any) string { return "application/json" }

// Delimiter separates the messages of a stream.
func (*jsonMarshaler) Delimiter() []byte { return []byte("\n") }

// Marshal encodes a response message, a stream chunk or a stream error.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case proto.Message:
		b, err := m.pb.MarshalOptions.Marshal(x)
		if err != nil {
			return nil, err
		}
		return canonicalJSON(b), nil
	case map[string]any:
		// A stream chunk: {"result": message}.
		if r, ok := x["result"]; ok && len(x) == 1 {
			b, err := m.Marshal(r)
			if err != nil {
				return nil, err
			}
			out := make([]byte, 0, len(b)+11)
			out = append(out, `{"result":`...)
			out = append(out, b...)
			return append(out, '}'), nil
		}
	case map[string]proto.Message:
		// A stream error: {"error": status}.
		if st, ok := x["error"].(*spb.Status); ok && len(x) == 1 {
			return streamErrorJSON(codes.Code(st.GetCode()), st.GetMessage())
		}
	}
	b, err := m.pb.Marshal(v)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b), nil
}

// Unmarshal decodes one request message.
func (m *jsonMarshaler) Unmarshal(data []byte, v any) error { return m.pb.Unmarshal(data, v) }

// NewDecoder decodes a sequence of request messages (one for a unary call,
// any number for a client stream).
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder { return m.pb.NewDecoder(r) }

// NewEncoder writes each value followed by the delimiter.
func (m *jsonMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err = w.Write(m.Delimiter())
		return err
	})
}

// errorBody is the body of a failed unary call.
type errorBody struct {
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
	Code    int32  `json:"code,omitempty"`
}

func errorJSON(code codes.Code, msg string) []byte {
	b, err := json.Marshal(errorBody{Error: msg, Message: msg, Code: int32(code)})
	if err != nil {
		// Unreachable: the struct holds only strings and an integer.
		return []byte(`{"error":"failed to marshal error message","message":"failed to marshal error message","code":13}`)
	}
	return b
}

// streamError is the "error" member of a failed stream chunk.
type streamError struct {
	GRPCCode   int32  `json:"grpc_code,omitempty"`
	HTTPCode   int32  `json:"http_code,omitempty"`
	Message    string `json:"message,omitempty"`
	HTTPStatus string `json:"http_status,omitempty"`
}

func streamErrorJSON(code codes.Code, msg string) ([]byte, error) {
	hc := httpStatus(code)
	b, err := json.Marshal(map[string]streamError{"error": {
		GRPCCode:   int32(code),
		HTTPCode:   int32(hc),
		Message:    msg,
		HTTPStatus: http.StatusText(hc),
	}})
	if err != nil {
		return nil, fmt.Errorf("marshal stream error: %w", err)
	}
	return b, nil
}

// canonicalJSON removes insignificant white space from valid JSON and
// escapes <, >, &, U+2028 and U+2029 inside strings, as encoding/json does.
// Those characters can only occur inside strings, so no state beyond "in a
// string" and "after a backslash" is needed.
func canonicalJSON(src []byte) []byte {
	const hex = "0123456789abcdef"
	var dst []byte
	inStr, esc := false, false
	flushed := 0 // src[flushed:i] has not been copied to dst yet
	emit := func(i int, repl string, skip int) {
		if dst == nil {
			dst = make([]byte, 0, len(src)+16)
		}
		dst = append(dst, src[flushed:i]...)
		dst = append(dst, repl...)
		flushed = i + skip
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			case c == '<' || c == '>' || c == '&':
				emit(i, `\u00`+string(hex[c>>4])+string(hex[c&0xF]), 1)
			case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
				r, _ := utf8.DecodeRune(src[i:])
				emit(i, fmt.Sprintf(`\u%04x`, r), 3)
				i += 2
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ' ', '\t', '\n', '\r':
			emit(i, "", 1)
		}
	}
	if dst == nil {
		return src
	}
	return append(dst, src[flushed:]...)
}
