package e2e

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A transcript is the normalised record of one backend's run of the
// differential script: one step per call, each a list of "path = value"
// lines. Lines are compared between backends; info lines are shown but not
// compared (values that may legitimately differ, such as raft indexes).
type transcript struct {
	backend string
	steps   []*step
}

type step struct {
	name  string
	lines []string
	info  []string
}

func (tr *transcript) add(name string) *step {
	s := &step{name: name}
	tr.steps = append(tr.steps, s)
	return s
}

// String renders the whole transcript, info lines marked with "(info)".
func (tr *transcript) String() string {
	var b strings.Builder
	for _, s := range tr.steps {
		fmt.Fprintf(&b, "## %s\n", s.name)
		for _, l := range s.lines {
			fmt.Fprintf(&b, "   %s\n", l)
		}
		for _, l := range s.info {
			fmt.Fprintf(&b, "   (info) %s\n", l)
		}
	}
	return b.String()
}

// A fieldOpt says how rendered fields are treated, chosen by their path
// with list indexes removed (e.g. "kvs.key", "header.revision").
type fieldOpt func(o *fieldOpts)

type fieldOpts struct {
	drop map[string]bool                // left out entirely
	info map[string]bool                // moved to the info lines
	mapv map[string]func(string) string // value rewritten before comparison
}

// without leaves the fields out of the transcript.
func without(paths ...string) fieldOpt {
	return func(o *fieldOpts) {
		for _, p := range paths {
			o.drop[p] = true
		}
	}
}

// informational records the fields as info lines, not compared.
func informational(paths ...string) fieldOpt {
	return func(o *fieldOpts) {
		for _, p := range paths {
			o.info[p] = true
		}
	}
}

// within replaces an integer field's value by "within [lo, hi]" when it is
// in that range, so values that drift with time (a lease's remaining TTL)
// compare equal; out of range the value is kept, and so differs.
func within(path string, lo, hi int64) fieldOpt {
	return func(o *fieldOpts) {
		o.mapv[path] = func(v string) string {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil && lo <= n && n <= hi {
				return fmt.Sprintf("within [%d, %d]", lo, hi)
			}
			return v
		}
	}
}

func newFieldOpts(opts []fieldOpt) *fieldOpts {
	o := &fieldOpts{drop: map[string]bool{}, info: map[string]bool{}, mapv: map[string]func(string) string{}}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// maxQuoted is the longest key or value a transcript shows in full.
const maxQuoted = 128

var listIndex = regexp.MustCompile(`\[\d+\]`)

// message adds the fields of m (nil or invalid: nothing) under prefix.
func (s *step) message(prefix string, m protoreflect.ProtoMessage, opts ...fieldOpt) {
	o := newFieldOpts(opts)
	if m == nil {
		return
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return
	}
	n := len(s.lines)
	s.render(prefix, r, o)
	if len(s.lines) == n && prefix == "" {
		s.lines = append(s.lines, "(empty response)")
	}
}

// errorLine adds err as etcd's gRPC code and exact message; nothing if nil.
func (s *step) errorLine(err error) {
	if err != nil {
		s.lines = append(s.lines, "error = "+describeError(err))
	}
}

// line adds a literal line.
func (s *step) line(format string, args ...any) {
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
}

// describeError renders an error as "<gRPC code> \"<message>\"", the message
// being exactly what the server sent.
func describeError(err error) string {
	if ee, ok := err.(rpctypes.EtcdError); ok {
		return fmt.Sprintf("%s %q", ee.Code(), ee.Error())
	}
	if st, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s %q", st.Code(), st.Message())
	}
	return fmt.Sprintf("client-side %q", err.Error())
}

func (s *step) render(prefix string, m protoreflect.Message, o *fieldOpts) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		path := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			for j := range l.Len() {
				s.value(fmt.Sprintf("%s[%d]", path, j), fd, l.Get(j), o)
			}
		case fd.IsMap():
			mp := m.Get(fd).Map()
			var keys []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
			for _, k := range keys {
				s.value(fmt.Sprintf("%s[%s]", path, k.String()), fd.MapValue(), mp.Get(k), o)
			}
		default:
			s.value(path, fd, m.Get(fd), o)
		}
	}
}

func (s *step) value(path string, fd protoreflect.FieldDescriptor, v protoreflect.Value, o *fieldOpts) {
	key := listIndex.ReplaceAllString(path, "")
	if o.drop[key] {
		return
	}
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		if inline[fd.Message().FullName()] {
			s.inlineMessage(path, v.Message(), o)
			return
		}
		n, ni := len(s.lines), len(s.info)
		s.render(path+".", v.Message(), o)
		if len(s.lines) == n && len(s.info) == ni {
			s.lines = append(s.lines, path+" = {}")
		}
		return
	}
	var text string
	switch fd.Kind() {
	case protoreflect.BytesKind:
		text = quoteBytes(v.Bytes())
	case protoreflect.StringKind:
		text = strconv.Quote(v.String())
	case protoreflect.EnumKind:
		text = strconv.Itoa(int(v.Enum()))
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			text = string(ev.Name())
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		text = strconv.FormatUint(v.Uint(), 10)
		if isIDField(fd) {
			text = strconv.FormatUint(v.Uint(), 16) // as etcd prints IDs
		}
	default:
		text = fmt.Sprint(v.Interface())
	}
	if f := o.mapv[key]; f != nil {
		text = f(text)
	}
	line := path + " = " + text
	if o.info[key] {
		s.info = append(s.info, line)
	} else {
		s.lines = append(s.lines, line)
	}
}

// inline lists the small messages rendered on one line, "path = {a=1, b=2}",
// which keeps transcripts short and their diffs readable.
var inline = map[protoreflect.FullName]bool{
	"etcdserverpb.ResponseHeader": true,
	"mvccpb.KeyValue":             true,
}

func (s *step) inlineMessage(path string, m protoreflect.Message, o *fieldOpts) {
	sub := &step{}
	sub.render(path+".", m, o)
	fields := make([]string, len(sub.lines))
	for i, l := range sub.lines {
		fields[i] = strings.Replace(strings.TrimPrefix(l, path+"."), " = ", "=", 1)
	}
	s.lines = append(s.lines, path+" = {"+strings.Join(fields, ", ")+"}")
	s.info = append(s.info, sub.info...)
}

// isIDField reports whether a uint64 field holds a member or cluster ID.
func isIDField(fd protoreflect.FieldDescriptor) bool {
	n := strings.ToLower(string(fd.Name()))
	return strings.HasSuffix(n, "id") || n == "leader"
}

// quoteBytes renders keys and values: a Go string literal when valid UTF-8,
// else hex; longer than maxQuoted bytes, their size and a hash.
func quoteBytes(b []byte) string {
	if len(b) > maxQuoted {
		sum := sha256.Sum256(b)
		return fmt.Sprintf("<%d bytes, sha256 %x…>", len(b), sum[:8])
	}
	if utf8.Valid(b) {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("0x%x", b)
}
