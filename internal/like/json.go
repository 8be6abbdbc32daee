package like

import (
	"bytes"
	"slices"
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
// Case-insensitive needles ([Needle] with IgnoreCase) are searched up to
// the case of their ASCII letters; \u escapes of either case count, and
// a line with a raw U+212A KELVIN SIGN or U+017F LONG S passes if a needle
// has a 'k' or an 's', since ILIKE folds those characters to the letters.
//
// Lines the prefilter rejects are not parsed at all, so a malformed line
// that cannot match is skipped silently; callers that must report malformed
// lines need to parse those anyway.
//
// A JSONPrefilter is immutable and safe for concurrent use.
type JSONPrefilter struct {
	lits  []*foldLit // escaped needles, longest first
	ascii [utf8.RuneSelf]bool
	other []rune // non-ASCII characters of the literals (and of their folds)
	haz   []int  // the hazards to look for (hazEscape, …), in that order
	all   bool   // every line may match: nothing to search for
}

// Kinds of hazards: bytes that may spell a needle differently.
const (
	hazEscape = iota // \uXXXX of a character of a needle
	hazSlash         // \/ if a needle has a '/'
	hazKelvin        // U+212A if an IgnoreCase needle has a 'k'
	hazLongS         // U+017F if an IgnoreCase needle has an 's'
	nHaz
)

// NewJSONPrefilter returns a prefilter for lines whose JSON strings contain
// every one of literals (as returned by [Matcher.RequiredLiterals], possibly
// from several patterns that must all match). Empty literals are ignored;
// with none left every line passes. Literals with control characters or
// U+FFFD, whose encodings vary too much, also make every line pass.
func NewJSONPrefilter(literals ...string) *JSONPrefilter {
	ns := make([]Needle, len(literals))
	for i, l := range literals {
		ns[i] = Needle{Text: l}
	}
	return NewJSONPrefilterNeedles(ns...)
}

// NewJSONPrefilterNeedles is NewJSONPrefilter for needles, which may be
// searched up to ASCII case (as returned by [Matcher.Needles], possibly
// from several patterns that must all match). Besides the escapes that
// NewJSONPrefilter heeds, it passes every line with a raw U+212A KELVIN
// SIGN if a case-insensitive needle has a 'k', and with a raw U+017F LONG S
// if one has an 's', the characters that ILIKE folds to those letters.
func NewJSONPrefilterNeedles(needles ...Needle) *JSONPrefilter {
	f := &JSONPrefilter{}
	var kelvin, longS bool
	for _, n := range needles {
		if n.Text == "" {
			continue
		}
		var lo, mask []byte
		for _, r := range n.Text {
			switch {
			case r < 0x20 || r == utf8.RuneError:
				return &JSONPrefilter{all: true}
			case r == '"' || r == '\\':
				lo = append(lo, '\\', byte(r))
				mask = append(mask, 0, 0)
			case n.IgnoreCase && 'a' <= r|0x20 && r|0x20 <= 'z':
				lo = append(lo, byte(r|0x20))
				mask = append(mask, 0x20)
			default:
				lo = utf8.AppendRune(lo, r)
				for len(mask) < len(lo) {
					mask = append(mask, 0)
				}
			}
			switch {
			case r >= utf8.RuneSelf:
				f.other = append(f.other, r)
			case n.IgnoreCase && 'a' <= r|0x20 && r|0x20 <= 'z':
				f.ascii[r|0x20], f.ascii[r&^0x20] = true, true
				if r|0x20 == 'k' && !kelvin {
					kelvin = true
					f.other = append(f.other, '\u212a')
				}
				if r|0x20 == 's' && !longS {
					longS = true
					f.other = append(f.other, '\u017f')
				}
			default:
				f.ascii[r] = true
			}
		}
		f.lits = append(f.lits, newFoldLit(lo, mask))
	}
	if len(f.lits) == 0 {
		return &JSONPrefilter{all: true}
	}
	f.haz = append(f.haz, hazEscape)
	if f.ascii['/'] {
		f.haz = append(f.haz, hazSlash)
	}
	if kelvin {
		f.haz = append(f.haz, hazKelvin)
	}
	if longS {
		f.haz = append(f.haz, hazLongS)
	}
	// Longest first: the longest literal is usually the rarest, and it is
	// the one LineScanner searches the block for.
	slices.SortStableFunc(f.lits, func(a, b *foldLit) int { return len(b.lo) - len(a.lo) })
	return f
}

// JSONPrefilter returns the prefilter for the matcher's needles.
func (m *Matcher) JSONPrefilter() *JSONPrefilter {
	return NewJSONPrefilterNeedles(m.needles...)
}

// PassesAll reports whether the prefilter lets every line through (it has
// nothing to search for), so callers can skip calling it.
func (f *JSONPrefilter) PassesAll() bool { return f.all }

// MayMatch reports whether the NDJSON line may contain all the literals.
func (f *JSONPrefilter) MayMatch(line []byte) bool {
	if f.all {
		return true
	}
	return f.mayMatch(line, -1)
}

// mayMatch is MayMatch for a line known to hold f.lits[has] (none if -1).
func (f *JSONPrefilter) mayMatch(line []byte, has int) bool {
	for i, l := range f.lits {
		if i != has && l.index(line) < 0 {
			for _, h := range f.haz {
				if f.nextHazard(h, line, 0) >= 0 {
					return true
				}
			}
			return false
		}
	}
	return true
}

// Lines returns a scanner over the lines of block that may match.
func (f *JSONPrefilter) Lines(block []byte) LineScanner {
	s := LineScanner{f: f, block: block}
	for i := range s.next {
		s.next[i] = -1
	}
	if len(f.lits) > 1 {
		s.drive = f.rarest(block[:min(len(block), driveSample)])
	}
	return s
}

// driveSample is how much of a block Lines samples to choose the literal
// the scanner searches the block for.
const driveSample = 32 << 10

// rarest returns the index of the literal with the fewest hits in sample,
// the longest of those tied: length alone misjudges a literal such as
// "removable":true, which a log line holds every other time.
func (f *JSONPrefilter) rarest(sample []byte) int {
	best, bestN := 0, -1
	for i, l := range f.lits {
		n := 0
		for at := 0; at < len(sample) && (bestN < 0 || n < bestN); n++ {
			k := l.index(sample[at:])
			if k < 0 {
				break
			}
			at += k + 1
		}
		if bestN < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	return best
}

// LineScanner walks the lines of an NDJSON block that may match a
// [JSONPrefilter]. Create it with [JSONPrefilter.Lines]; it is a value, so
// keeping one on the stack costs no allocation. It must not be copied while
// in use by several goroutines.
//
// Fast path: for rare matches the scanner searches the whole block for the
// rarest literal (the one with the fewest hits in the block's first
// 32 KiB), and for each kind of hazard (such as "\u" escapes),
// instead of visiting every line, and finds line bounds only around hits.
// The literal is found through its two rarest bytes, searched together
// with SIMD (in both cases for letters of a case-insensitive needle), and
// the start of a hit's line with a SIMD search backwards. Each byte is
// searched at most once per needle and hazard however many lines match,
// and the line of a hit is not searched again for the literal it holds.
type LineScanner struct {
	f     *JSONPrefilter
	block []byte
	pos   int // start of the next line to consider
	drive int // the literal searched for: f.lits[drive]
	// next holds the next literal hit (next[0]) and hazards of each kind
	// (next[1+h]) at or after pos: below pos if stale, len(block) if none.
	next [1 + nHaz]int
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
		if s.next[0] < pos {
			s.next[0] = len(block)
			if i := f.lits[s.drive].index(block[pos:]); i >= 0 {
				s.next[0] = pos + i
			}
		}
		c := s.next[0]
		for _, h := range f.haz {
			if s.next[1+h] < pos {
				s.next[1+h] = len(block)
				if i := f.nextHazard(h, block, pos); i >= 0 {
					s.next[1+h] = i
				}
			}
			c = min(c, s.next[1+h])
		}
		if c == len(block) {
			s.pos = len(block)
			return 0, 0, false
		}
		start = lineStart(block, pos, c)
		end = lineEnd(block, c)
		s.pos = end + 1
		has := -1
		if s.next[0] < end {
			has = s.drive // the hit is the literal's, in this line
		}
		if f.mayMatch(block[start:end], has) {
			return start, end, true
		}
	}
	return 0, 0, false
}

// lineStart returns the start of the line holding block[i], not before
// pos.
func lineStart(block []byte, pos, i int) int {
	return pos + lastIndexByte(block[pos:i], '\n') + 1
}

func lineEnd(block []byte, i int) int {
	if j := bytes.IndexByte(block[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(block)
}

// nextHazard returns the position of the first hazard of kind h at or
// after pos, or -1 if there is none. Hazards are bytes that may encode a
// needle differently from the way it is searched: \uXXXX of a character
// of a needle (any surrogate, any malformed \u), \/ when a needle contains
// '/', and the raw non-ASCII characters that fold to 'k' and 's'.
func (f *JSONPrefilter) nextHazard(h int, b []byte, pos int) int {
	var i int
	switch h {
	case hazEscape:
		return f.nextEscape(b, pos, 'u')
	case hazSlash:
		return f.nextEscape(b, pos, '/')
	case hazKelvin:
		i = bytes.Index(b[pos:], kelvinSign)
	case hazLongS:
		i = bytes.Index(b[pos:], longS)
	}
	if i < 0 {
		return -1
	}
	return pos + i
}

// nextEscape finds the next real escape \c (a backslash preceded by an even
// number of backslashes) at or after pos that is a hazard.
func (f *JSONPrefilter) nextEscape(b []byte, pos int, c byte) int {
	for pos < len(b) {
		i := indexPair(b[pos:], '\\', c)
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
