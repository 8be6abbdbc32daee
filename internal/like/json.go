package like

import (
	"bytes"
	"unicode/utf8"
)

// JSONPrefilter decides from the raw bytes of an NDJSON line, before any JSON
// is parsed, whether the line can contain string values with given literals.
// It is conservative: it may report a line that turns out not to match, but
// never rejects a line whose decoded JSON strings contain all the literals.
//
// A JSON encoder may write a character of a string in more than one way:
// '"' and '\' always escaped (\" and \\), '/' perhaps as \/, any character
// perhaps as \uXXXX (Go escapes <, > and & so; Python escapes all non-ASCII).
// The prefilter searches the literal in its usual encoding (\" and \\ for
// quote and backslash, everything else as raw UTF-8) and also passes every
// line holding a \u or \/ escape of a character that occurs in a literal,
// since such a line may spell the literal differently. An escaped backslash
// followed by 'u' (C:\\users) is not a \u escape and does not count.
//
// Lines the prefilter rejects are not parsed at all, so a malformed line
// that cannot match is skipped silently; callers that must report malformed
// lines need to parse those anyway.
//
// A JSONPrefilter is immutable and safe for concurrent use.
type JSONPrefilter struct {
	lits  [][]byte // escaped literals, longest first
	ascii [utf8.RuneSelf]bool
	other []rune // non-ASCII characters of the literals
	slash bool   // '/' occurs in a literal
	all   bool   // every line may match: nothing to search for
}

// NewJSONPrefilter returns a prefilter for lines whose JSON strings contain
// every one of literals (as returned by [Matcher.RequiredLiterals], possibly
// from several patterns that must all match). Empty literals are ignored;
// with none left every line passes. Literals with control characters or
// U+FFFD, whose encodings vary too much, also make every line pass.
func NewJSONPrefilter(literals ...string) *JSONPrefilter {
	f := &JSONPrefilter{}
	for _, l := range literals {
		if l == "" {
			continue
		}
		var esc []byte
		for _, r := range l {
			switch {
			case r < 0x20 || r == utf8.RuneError:
				return &JSONPrefilter{all: true}
			case r == '"' || r == '\\':
				esc = append(esc, '\\', byte(r))
			default:
				esc = utf8.AppendRune(esc, r)
			}
			if r < utf8.RuneSelf {
				f.ascii[r] = true
			} else {
				f.other = append(f.other, r)
			}
		}
		f.lits = append(f.lits, esc)
	}
	if len(f.lits) == 0 {
		return &JSONPrefilter{all: true}
	}
	f.slash = f.ascii['/']
	// Longest first: the longest literal is usually the rarest, and it is
	// the one NextLine searches the block for.
	for i := 1; i < len(f.lits); i++ {
		for j := i; j > 0 && len(f.lits[j]) > len(f.lits[j-1]); j-- {
			f.lits[j], f.lits[j-1] = f.lits[j-1], f.lits[j]
		}
	}
	return f
}

// JSONPrefilter returns the prefilter for the matcher's required literals.
func (m *Matcher) JSONPrefilter() *JSONPrefilter {
	return NewJSONPrefilter(m.req...)
}

// PassesAll reports whether the prefilter lets every line through (it has
// nothing to search for), so callers can skip calling it.
func (f *JSONPrefilter) PassesAll() bool { return f.all }

// MayMatch reports whether the NDJSON line may contain all the literals.
func (f *JSONPrefilter) MayMatch(line []byte) bool {
	if f.all {
		return true
	}
	for _, l := range f.lits {
		if !bytes.Contains(line, l) {
			return f.nextHazard(line, 0) >= 0
		}
	}
	return true
}

// Lines returns a scanner over the lines of block that may match.
func (f *JSONPrefilter) Lines(block []byte) LineScanner {
	return LineScanner{f: f, block: block, hit: -1, hz: -1}
}

// LineScanner walks the lines of an NDJSON block that may match a
// [JSONPrefilter]. Create it with [JSONPrefilter.Lines]; it is a value, so
// keeping one on the stack costs no allocation. It must not be copied while
// in use by several goroutines.
//
// Fast path: for rare matches the scanner runs one SIMD-backed bytes.Index
// for the longest literal, and one for "\u" escapes, over the whole block,
// instead of visiting every line, and finds line bounds only around hits.
// Each byte is searched at most once per needle however many lines match.
type LineScanner struct {
	f       *JSONPrefilter
	block   []byte
	pos     int // start of the next line to consider
	hit, hz int // next literal hit / hazard at or after pos; -1 stale, -2 none
}

// Next returns the bounds of the next line that may match: block[start:end]
// is the line without its '\n'. ok is false when no further line may match.
func (s *LineScanner) Next() (start, end int, ok bool) {
	f, block := s.f, s.block
	if f.all {
		if s.pos >= len(block) {
			return 0, 0, false
		}
		start, end = s.pos, lineEnd(block, s.pos)
		s.pos = end + 1
		return start, end, true
	}
	for s.pos < len(block) {
		pos := s.pos
		if s.hit != -2 && s.hit < pos {
			s.hit = -2
			if i := bytes.Index(block[pos:], f.lits[0]); i >= 0 {
				s.hit = pos + i
			}
		}
		if s.hz != -2 && s.hz < pos {
			s.hz = f.nextHazard(block, pos)
			if s.hz < 0 {
				s.hz = -2
			}
		}
		c := s.hit
		if c == -2 || (s.hz != -2 && s.hz < c) {
			c = s.hz
		}
		if c == -2 {
			s.pos = len(block)
			return 0, 0, false
		}
		start = pos + bytes.LastIndexByte(block[pos:c], '\n') + 1
		end = lineEnd(block, c)
		s.pos = end + 1
		if f.MayMatch(block[start:end]) {
			return start, end, true
		}
	}
	return 0, 0, false
}

func lineEnd(block []byte, i int) int {
	if j := bytes.IndexByte(block[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(block)
}

// nextHazard returns the position of the first escape at or after pos that
// may encode a character of a literal differently from its usual encoding:
// \uXXXX of such a character (any surrogate, any malformed \u) and \/ when
// a literal contains '/'. It returns -1 if there is none.
func (f *JSONPrefilter) nextHazard(b []byte, pos int) int {
	u := f.nextEscape(b, pos, 'u')
	if f.slash {
		if s := f.nextEscape(b, pos, '/'); s >= 0 && (u < 0 || s < u) {
			return s
		}
	}
	return u
}

// nextEscape finds the next real escape \c (a backslash preceded by an even
// number of backslashes) at or after pos that is a hazard.
func (f *JSONPrefilter) nextEscape(b []byte, pos int, c byte) int {
	pat := [2]byte{'\\', c}
	for pos < len(b) {
		i := bytes.Index(b[pos:], pat[:])
		if i < 0 {
			return -1
		}
		i += pos
		pos = i + 2
		n := 0 // backslashes before i
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			continue // the backslash at i is itself escaped
		}
		if c == '/' {
			return i
		}
		r, ok := hex4(b[i+2:])
		if !ok || (r >= 0xD800 && r < 0xE000) {
			return i
		}
		if r < utf8.RuneSelf {
			if f.ascii[r] {
				return i
			}
			continue
		}
		for _, o := range f.other {
			if o == r {
				return i
			}
		}
	}
	return -1
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
