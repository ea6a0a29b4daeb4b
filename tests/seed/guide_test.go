package seed

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Environment variables naming the shared documents.
const (
	envGuide  = "CAIRN_GUIDE"
	envCompat = "CAIRN_COMPAT"
)

// The headings the parser looks for, in the guide's language and in the
// English original.
var (
	staticHeadings     = []string{"## 静态", "## Static"}
	errorHeadings      = []string{"### 错误案例", "### Error cases"}
	tlsHeadings        = []string{"### TLS"}
	selfSignedHeadings = []string{"#### 自签名证书", "#### Self-signed certificates"}
	autoTLSHeadings    = []string{"#### 自动证书", "#### Automatic certificates"}
)

// guideCommand is one "$ etcd ..." block of the guide.
type guideCommand struct {
	line   int      // 1-based line of the block's first command line
	argv   []string // the command as a shell splits it; argv[0] is "etcd"
	output []string // the lines the block shows after the command, "exit N" excluded
	exit   int      // the status of the block's "exit N" line; -1 without one
	// patterns are the words that are glob patterns to sh (only in
	// blocks parsed with globs allowed); each must match no file where
	// the command runs, so that sh passes it on unchanged.
	patterns []string
}

// guideCase is one error case: its heading and its block.
type guideCase struct {
	title string
	guideCommand
}

// guide is what the tests take from the clustering guide.
type guide struct {
	path       string
	static     []guideCommand // the three member commands of the static section
	cases      []guideCase    // the error cases, in the guide's order
	selfSigned []guideCommand // the three commands of the TLS subsection's "Self-signed certificates", as printed
	autoTLS    []guideCommand // the three commands of its "Automatic certificates"
}

// loadGuide reads and parses the guide's commands from the repository's
// extract of it (see extract_test.go), which TestGuideExtractCurrent keeps
// identical to the guide's code blocks.
func loadGuide(t testing.TB) *guide {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(extractPath))
	if err != nil {
		t.Fatal(err)
	}
	g, err := parseGuide(string(data))
	if err != nil {
		t.Fatalf("%s: %v", extractPath, err)
	}
	g.path = extractPath
	return g
}

// sharedPath returns $env, or ../shared/<elem...> from the module root.
func sharedPath(t testing.TB, env string, elem ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	dir, err := moduleRoot()
	if err != nil {
		t.Fatalf("%v; set %s", err, env)
	}
	return filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
}

// moduleRoot walks up from the working directory to the one holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// fencedBlock is the text between a pair of ``` lines.
type fencedBlock struct {
	line  int // 1-based line of the first line inside the fence
	lines []string
}

// parseGuide finds the static section's member commands, its TLS
// subsection's two command sets and its error cases in the guide's
// markdown.
func parseGuide(text string) (*guide, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	start := findHeading(lines, 0, staticHeadings)
	if start < 0 {
		return nil, fmt.Errorf("no static section (a heading %q)", staticHeadings)
	}
	end := nextHeading(lines, start+1, "## ")
	firstSub := nextHeading(lines[:end], start+1, "### ")

	g := &guide{}
	var err error
	if g.static, err = commandBlocks(lines, start, firstSub); err != nil {
		return nil, err
	}
	if len(g.static) != 3 {
		return nil, fmt.Errorf("the static section (line %d) has %d \"$ etcd\" blocks before its first subsection, want 3",
			start+1, len(g.static))
	}

	tlsStart := findHeading(lines[:end], start+1, tlsHeadings)
	if tlsStart < 0 {
		return nil, fmt.Errorf("the static section (line %d) has no TLS subsection (a heading %q)", start+1, tlsHeadings)
	}
	tlsEnd := nextHeading(lines[:end], tlsStart+1, "### ")
	for _, sub := range []struct {
		headings []string
		cmds     *[]guideCommand
	}{{selfSignedHeadings, &g.selfSigned}, {autoTLSHeadings, &g.autoTLS}} {
		h := findHeading(lines[:tlsEnd], tlsStart+1, sub.headings)
		if h < 0 {
			return nil, fmt.Errorf("the TLS subsection (line %d) has no heading %q", tlsStart+1, sub.headings)
		}
		if *sub.cmds, err = commandBlocks(lines, h, nextHeading(lines[:tlsEnd], h+1, "#### ")); err != nil {
			return nil, err
		}
		if len(*sub.cmds) != 3 {
			return nil, fmt.Errorf("%q (line %d) has %d \"$ etcd\" blocks, want 3", lines[h], h+1, len(*sub.cmds))
		}
	}

	errStart := findHeading(lines[:end], start+1, errorHeadings)
	if errStart < 0 {
		return nil, fmt.Errorf("the static section (line %d) has no error-case subsection (a heading %q)", start+1, errorHeadings)
	}
	errEnd := nextHeading(lines[:end], errStart+1, "### ")
	for h := nextHeading(lines[:errEnd], errStart+1, "#### "); h < errEnd; {
		next := nextHeading(lines[:errEnd], h+1, "#### ")
		blocks := fencedBlocks(lines, h, next)
		if len(blocks) != 1 {
			return nil, fmt.Errorf("error case %q (line %d) has %d code blocks, want 1", lines[h], h+1, len(blocks))
		}
		c, err := parseBlock(blocks[0])
		if err != nil {
			return nil, err
		}
		if c.exit < 0 || len(c.output) != 1 {
			return nil, fmt.Errorf("error case %q (line %d): want one output line and an \"exit N\" line after the command, got %q",
				lines[h], h+1, c.output)
		}
		g.cases = append(g.cases, guideCase{title: strings.TrimSpace(strings.TrimLeft(lines[h], "#")), guideCommand: c})
		h = next
	}
	if len(g.cases) != 3 {
		return nil, fmt.Errorf("the error-case subsection (line %d) has %d cases, want 3", errStart+1, len(g.cases))
	}
	return g, nil
}

// commandBlocks parses the code blocks in lines[from:to] that start with
// "$ ", skipping the others (fragments of flags or environment).
func commandBlocks(lines []string, from, to int) ([]guideCommand, error) {
	var cmds []guideCommand
	for _, b := range fencedBlocks(lines, from, to) {
		if !strings.HasPrefix(b.lines[0], "$ ") {
			continue
		}
		c, err := parseBlock(b)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// findHeading returns the index of the first line at or after from that is
// one of the headings, or -1.
func findHeading(lines []string, from int, headings []string) int {
	for i := from; i < len(lines); i++ {
		for _, h := range headings {
			if strings.TrimSpace(lines[i]) == h {
				return i
			}
		}
	}
	return -1
}

// nextHeading returns the index of the first line at or after from that
// starts a heading of exactly the level of prefix ("## ", "### ", ...) or
// a higher one, or len(lines). Lines inside code blocks are not headings.
func nextHeading(lines []string, from int, prefix string) int {
	level := strings.Count(prefix, "#")
	inFence := false
	for i := from; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		n := len(lines[i]) - len(strings.TrimLeft(lines[i], "#"))
		if n > 0 && n <= level && strings.HasPrefix(lines[i][n:], " ") {
			return i
		}
	}
	return len(lines)
}

// fencedBlocks returns the code blocks that open in lines[from:to].
func fencedBlocks(lines []string, from, to int) []fencedBlock {
	var out []fencedBlock
	for i := from; i < to; i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		b := fencedBlock{line: i + 2}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.lines = append(b.lines, lines[i])
		}
		if len(b.lines) > 0 {
			out = append(out, b)
		}
	}
	return out
}

var exitLine = regexp.MustCompile(`^exit (\d+)$`)

// parseBlock reads "$ etcd ..." with its backslash-newline continuations,
// then the output lines and an optional "exit N".
func parseBlock(b fencedBlock) (guideCommand, error) {
	return parseCommand(b, "etcd", false)
}

// parseCommand is parseBlock for a command that runs prog; globs lets its
// words hold glob patterns (see splitWords), returned in patterns.
func parseCommand(b fencedBlock, prog string, globs bool) (guideCommand, error) {
	c := guideCommand{line: b.line, exit: -1}
	cmd, ok := strings.CutPrefix(b.lines[0], "$ ")
	if !ok {
		return c, fmt.Errorf("line %d: a command block must start with \"$ \": %q", b.line, b.lines[0])
	}
	i := 1
	for strings.HasSuffix(cmd, `\`) {
		if i == len(b.lines) {
			return c, fmt.Errorf("line %d: the command's last line ends with a backslash", b.line)
		}
		// A backslash-newline disappears; the indentation of the next
		// line separates the words.
		cmd = strings.TrimSuffix(cmd, `\`) + b.lines[i]
		i++
	}
	argv, patterns, err := splitWords(cmd, globs)
	if err != nil {
		return c, fmt.Errorf("line %d: %v", b.line, err)
	}
	if len(argv) == 0 || argv[0] != prog {
		return c, fmt.Errorf("line %d: the command does not run %s: %q", b.line, prog, cmd)
	}
	c.argv, c.patterns = argv, patterns
	for ; i < len(b.lines); i++ {
		l := strings.TrimRight(b.lines[i], " ")
		if m := exitLine.FindStringSubmatch(l); m != nil {
			if i != len(b.lines)-1 {
				return c, fmt.Errorf("line %d: output after %q", b.line+i, l)
			}
			c.exit, _ = strconv.Atoi(m[1])
			break
		}
		if l != "" {
			c.output = append(c.output, l)
		}
	}
	return c, nil
}

// shellSplit splits a command line into words as sh does for the subset the
// guide can use: blanks separate words, '...' quotes literally, "..." quotes
// with \ escaping " \ $ and `, and \ outside quotes escapes one character.
// Anything that would make a shell do more (expansions, globs, redirections,
// pipes, lists, comments) is an error, so that a command is never run other
// than as a shell would run it.
func shellSplit(s string) ([]string, error) {
	words, _, err := splitWords(s, false)
	return words, err
}

// splitWords is shellSplit that, when globs is true, also accepts the glob
// characters * ? [ outside quotes and returns the words holding them as
// patterns too: sh passes a pattern that matches no file on as it is,
// which the caller must check where the command runs (unmatchedPatterns).
func splitWords(s string, globs bool) (words, patterns []string, err error) {
	var (
		cur     strings.Builder
		inWord  bool
		pattern bool
	)
	end := func() {
		words = append(words, cur.String())
		if pattern {
			patterns = append(patterns, cur.String())
		}
		cur.Reset()
		inWord, pattern = false, false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t':
			if inWord {
				end()
			}
		case r == '\'':
			inWord = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case r == '"':
			inWord = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch rs[j] {
				case '$', '`':
					return nil, nil, fmt.Errorf("expansion %q inside double quotes in %q is not supported", rs[j], s)
				case '\\':
					if j+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[j+1]) {
						j++
					}
				}
				cur.WriteRune(rs[j])
			}
			if j == len(rs) {
				return nil, nil, fmt.Errorf("unterminated \" in %q", s)
			}
			i = j
		case r == '\\':
			if i+1 == len(rs) {
				return nil, nil, fmt.Errorf("trailing backslash in %q", s)
			}
			inWord = true
			i++
			cur.WriteRune(rs[i])
		case globs && strings.ContainsRune("*?[", r):
			inWord, pattern = true, true
			cur.WriteRune(r)
		case strings.ContainsRune("$`|&;<>(){}*?[", r) || (!inWord && strings.ContainsRune("#~", r)):
			return nil, nil, fmt.Errorf("shell feature %q in %q is not supported", r, s)
		default:
			inWord = true
			cur.WriteRune(r)
		}
	}
	if inWord {
		end()
	}
	return words, patterns, nil
}

// flagValue returns the value of --name (or -name) in argv, given as
// "--name value" or "--name=value"; the guide's commands use only flags
// that take a value.
func flagValue(argv []string, name string) (string, bool) {
	for i := 1; i < len(argv); i++ {
		a := strings.TrimPrefix(strings.TrimPrefix(argv[i], "-"), "-")
		if a == name && i+1 < len(argv) {
			return argv[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// mustFlag is flagValue that fails the test when the flag is absent.
func mustFlag(t testing.TB, c guideCommand, name string) string {
	t.Helper()
	v, ok := flagValue(c.argv, name)
	if !ok {
		t.Fatalf("guide line %d: the command has no --%s", c.line, name)
	}
	return v
}

// hostOf returns the host of the first URL of --<flag>, which the guide's
// commands give as an IP address.
func hostOf(t testing.TB, c guideCommand, flag string) string {
	t.Helper()
	v := mustFlag(t, c, flag)
	u, err := url.Parse(strings.Split(v, ",")[0])
	if err != nil {
		t.Fatalf("guide line %d: --%s %s: %v", c.line, flag, v, err)
	}
	return u.Hostname()
}

// withBinary returns argv with "etcd" replaced by bin.
func withBinary(c guideCommand, bin string) []string {
	return append([]string{bin}, c.argv[1:]...)
}
