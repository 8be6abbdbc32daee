package like

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Limits. They sit in one block so that their reasons are read together.
const (
	// MaxPatternLen is the longest pattern, in bytes, that Compile accepts.
	// Matching costs at most O(len(subject) × len(pattern)) for patterns
	// with '_' and O(len(subject)) for '%'-only patterns; capping the pattern
	// keeps the worst case of an absurd, user-supplied pattern bounded. 4 KiB
	// is far longer than any sensible search (a Windows path is at most 260
	// characters) and short enough that a hostile pattern costs little.
	MaxPatternLen = 4096
)

// Errors returned by Compile. They are re-exported by the query package.
var (
	// ErrPatternTooLong is returned (wrapped) by Compile when a pattern is
	// longer than MaxPatternLen bytes.
	ErrPatternTooLong = errors.New("loglake: LIKE pattern too long")
	// ErrInvalidPattern is returned (wrapped) by Compile for a pattern that is
	// not valid UTF-8 or that misuses its escape character.
	ErrInvalidPattern = errors.New("loglake: invalid LIKE pattern")
)

// Options configures Compile. The zero value is a case-sensitive LIKE
// without an escape character.
type Options struct {
	// Escape is the escape character (LIKE … ESCAPE 'c'). 0 means none.
	// Default: 0.
	Escape rune
	// IgnoreCase selects ILIKE: letters match regardless of case using
	// Unicode simple case folding. Default: false (LIKE is case-sensitive).
	IgnoreCase bool
}

// kind selects the fast path of a Matcher.
type kind uint8

const (
	kindGeneral kind = iota // Slow path: segments with '_' or folding.
	kindAny                 // only '%': matches everything
	kindExact               // no wildcard
	kindPrefix              // lit%
	kindSuffix              // %lit
	kindInfix               // %lit%
)

// foldRune is one pattern rune under IgnoreCase with its whole simple-fold
// orbit (at most 4 runes in Unicode 15, e.g. K k K).
type foldRune struct {
	orbit [4]rune
	n     uint8
}

func (f *foldRune) matches(r rune) bool {
	for i := uint8(0); i < f.n; i++ {
		if f.orbit[i] == r {
			return true
		}
	}
	return false
}

// item is a literal run or a run of '_'.
type item struct {
	lit   []byte     // literal bytes (case-sensitive), nil for '_' runs
	fold  []foldRune // literal runes (IgnoreCase), nil otherwise
	fl    *foldLit   // literal up to ASCII case (ASCII-fold segments only)
	anyN  int        // number of '_' (lit == nil && fold == nil)
	isLit bool
}

// seg is the part of a pattern between two runs of '%'. Every seg except the
// first starts with a literal (see normalisation in Compile).
type seg struct {
	items          []item
	minLen, maxLen int // byte-length bounds of a match of this seg

	// anchor is a byte string every match of the seg contains at an offset
	// in [anchorMin, anchorMax] from the match start; nil if none.
	anchor               []byte
	anchorMin, anchorMax int
	// first marks the bytes a match can start with (used without anchor).
	first *[256]bool
	// pair holds the two cases of an ASCII letter without other case
	// variants that every match contains at an offset in [pairMin, pairMax]
	// (used without anchor under ILIKE: two IndexByte searches).
	pair             [2]byte
	pairMin, pairMax int
	// fanchor replaces anchor in ASCII-fold segments: the longest literal,
	// searched up to ASCII case, at an offset in [anchorMin, anchorMax].
	fanchor *foldLit
}

// Matcher is a compiled LIKE or ILIKE pattern. It is immutable and safe for
// concurrent use. Matching never allocates.
//
// # Subjects that are not valid UTF-8
//
// The subject is read as a sequence of characters as Go's range loop over a
// string does: a valid UTF-8 sequence is one character, and every byte that
// does not start a valid sequence is one character of its own. '_' and '%'
// consume such bytes like any character, but a literal character in the
// pattern (even U+FFFD) never matches an invalid byte.
type Matcher struct {
	pattern string
	opts    Options
	fold    bool // IgnoreCase and some literal has case variants
	kind    kind
	lit     []byte // literal of the fast paths
	segs    []seg
	req     []string
	needles []Needle

	// ASCII folding: with IgnoreCase, if every cased literal character is
	// an ASCII letter, asegs is the pattern with literals compared up to
	// ASCII case, and flit its literal for the fast paths. This is exact
	// Unicode simple folding for subjects without U+212A KELVIN SIGN (if
	// the pattern has a 'k') and U+017F LONG S (if it has an 's'): only
	// those two non-ASCII characters fold to ASCII letters.
	asegs         []seg
	flit          *foldLit
	kelvin, longS bool
}

// Compile compiles a LIKE pattern. '%' matches any run of characters, '_'
// exactly one character (a code point, not a byte), and with an escape
// character e, "e%", "e_" and "ee" match '%', '_' and e literally; e
// followed by anything else, or at the end of the pattern, is an error, as
// in Trino. The pattern must be valid UTF-8 and at most MaxPatternLen bytes.
func Compile(pattern string, opts Options) (*Matcher, error) {
	if len(pattern) > MaxPatternLen {
		return nil, fmt.Errorf("like: pattern of %d bytes exceeds the limit of %d bytes: %w", len(pattern), MaxPatternLen, ErrPatternTooLong)
	}
	if !utf8.ValidString(pattern) {
		return nil, fmt.Errorf("like: pattern %s is not valid UTF-8: %w", short(pattern), ErrInvalidPattern)
	}
	if opts.Escape != 0 && !utf8.ValidRune(opts.Escape) {
		return nil, fmt.Errorf("like: escape character %U is not a valid character: %w", opts.Escape, ErrInvalidPattern)
	}
	m := &Matcher{pattern: pattern, opts: opts}

	// Tokenise into segments. A run of wildcards containing at least one
	// '%' ends the current segment; its '_'s go to the end of that segment,
	// because "%_" and "_%" match the same strings. Hence every segment but
	// the first starts with a literal, which the searches below rely on.
	var (
		segs    [][]item
		cur     []item
		litBuf  []rune
		anyRun  int
		pctSeen bool
	)
	flushLit := func() {
		if len(litBuf) > 0 {
			cur = append(cur, item{lit: []byte(string(litBuf)), isLit: true})
			litBuf = litBuf[:0]
		}
	}
	flushWild := func() {
		if anyRun > 0 {
			cur = append(cur, item{anyN: anyRun})
			anyRun = 0
		}
		if pctSeen {
			segs = append(segs, cur)
			cur = nil
			pctSeen = false
		}
	}
	for i := 0; i < len(pattern); {
		r, w := utf8.DecodeRuneInString(pattern[i:])
		i += w
		switch {
		case opts.Escape != 0 && r == opts.Escape:
			if i >= len(pattern) {
				return nil, fmt.Errorf("like: pattern %s ends with the escape character %q: %w", short(pattern), opts.Escape, ErrInvalidPattern)
			}
			n, w2 := utf8.DecodeRuneInString(pattern[i:])
			if n != '%' && n != '_' && n != opts.Escape {
				return nil, fmt.Errorf("like: in pattern %s the escape character %q is followed by %q; it may only precede '%%', '_' or itself: %w", short(pattern), opts.Escape, n, ErrInvalidPattern)
			}
			i += w2
			flushWild()
			litBuf = append(litBuf, n)
		case r == '%':
			flushLit()
			pctSeen = true
		case r == '_':
			flushLit()
			anyRun++
		default:
			flushWild()
			litBuf = append(litBuf, r)
		}
	}
	flushLit()
	flushWild()
	segs = append(segs, cur)

	// Fast path: if no literal has a case variant, ILIKE equals LIKE.
	m.fold = opts.IgnoreCase && hasCasedLiteral(segs)
	m.kind = classify(segs)
	if m.kind != kindGeneral {
		for _, s := range segs {
			if len(s) == 1 {
				m.lit = s[0].lit
			}
		}
		if m.lit == nil {
			m.lit = []byte{}
		}
	}
	m.segs = make([]seg, len(segs))
	for i, items := range segs {
		m.segs[i] = m.newSeg(items)
	}
	m.req = requiredLiterals(m.segs, m.fold)
	m.needles = needles(m.segs, m.fold)
	if m.fold && asciiFoldable(segs) {
		m.asegs = make([]seg, len(segs))
		for i, items := range segs {
			m.asegs[i] = newASCIISeg(items)
		}
		if m.kind != kindGeneral {
			m.flit = asciiFoldLit(m.lit, true)
		}
		for _, r := range m.pattern {
			m.kelvin = m.kelvin || r == 'k' || r == 'K'
			m.longS = m.longS || r == 's' || r == 'S'
		}
	} else if !m.fold && m.kind == kindInfix {
		m.flit = asciiFoldLit(m.lit, false)
	}
	return m, nil
}

// MustCompile is like Compile but panics on error. It is meant for tests and
// package-level variables with constant patterns.
func MustCompile(pattern string, opts Options) *Matcher {
	m, err := Compile(pattern, opts)
	if err != nil {
		panic(err)
	}
	return m
}

func short(p string) string {
	if len(p) > 64 {
		i := 64
		for i > 0 && !utf8.RuneStart(p[i]) {
			i--
		}
		return fmt.Sprintf("%q…", p[:i])
	}
	return fmt.Sprintf("%q", p)
}

func hasCasedLiteral(segs [][]item) bool {
	for _, s := range segs {
		for _, it := range s {
			for _, r := range string(it.lit) {
				if unicode.SimpleFold(r) != r {
					return true
				}
			}
		}
	}
	return false
}

func classify(segs [][]item) kind {
	for _, s := range segs {
		if len(s) > 1 || (len(s) == 1 && !s[0].isLit) {
			return kindGeneral
		}
	}
	switch {
	case len(segs) == 1:
		return kindExact
	case len(segs) == 2 && len(segs[0]) == 0 && len(segs[1]) == 0:
		return kindAny
	case len(segs) == 2 && len(segs[1]) == 0:
		return kindPrefix
	case len(segs) == 2 && len(segs[0]) == 0:
		return kindSuffix
	case len(segs) == 3 && len(segs[0]) == 0 && len(segs[2]) == 0:
		return kindInfix
	}
	return kindGeneral
}

func (m *Matcher) newSeg(items []item) seg {
	s := seg{items: items}
	if m.fold {
		for i := range s.items {
			it := &s.items[i]
			if !it.isLit {
				continue
			}
			for _, r := range string(it.lit) {
				var f foldRune
				f.orbit[0], f.n = r, 1
				for o := unicode.SimpleFold(r); o != r && f.n < 4; o = unicode.SimpleFold(o) {
					f.orbit[f.n] = o
					f.n++
				}
				it.fold = append(it.fold, f)
			}
		}
	}
	// Byte-length bounds and the anchor: the longest byte string every match
	// must contain (case-sensitive: a literal; ILIKE: a run of caseless runes).
	off0, off1 := 0, 0 // bounds of the current offset from the match start
	for _, it := range s.items {
		switch {
		case !it.isLit:
			off0 += it.anyN
			off1 += 4 * it.anyN
		case !m.fold:
			if len(it.lit) > len(s.anchor) {
				s.anchor, s.anchorMin, s.anchorMax = it.lit, off0, off1
			}
			off0 += len(it.lit)
			off1 += len(it.lit)
		default:
			rs, b := -1, 0 // start of the current caseless run in it.lit; byte offset
			var r0, r1 int // match offsets at rs
			for _, f := range it.fold {
				l := utf8.RuneLen(f.orbit[0])
				if f.n == 1 {
					if rs < 0 {
						rs, r0, r1 = b, off0, off1
					}
					if b+l-rs > len(s.anchor) {
						s.anchor, s.anchorMin, s.anchorMax = it.lit[rs:b+l], r0, r1
					}
				} else {
					rs = -1
				}
				lo, hi := runeLenBounds(f)
				off0 += lo
				off1 += hi
				b += l
			}
		}
	}
	s.minLen, s.maxLen = off0, off1
	if s.anchor == nil && len(s.items) > 0 && s.items[0].isLit && m.fold {
		var first [256]bool
		f := s.items[0].fold[0]
		var buf [4]byte
		for k := uint8(0); k < f.n; k++ {
			utf8.EncodeRune(buf[:], f.orbit[k])
			first[buf[0]] = true
		}
		s.first = &first
		s.choosePair()
	}
	return s
}

// letterRarity ranks ASCII letters from common to rare in typical text.
const letterRarity = "etaoinsrhldcumfpgwybvkxjqz"

// choosePair picks the rarest ASCII letter of the segment whose only case
// variants are its ASCII upper and lower case, as a search anchor.
func (s *seg) choosePair() {
	best := -1
	off0, off1 := 0, 0
	for _, it := range s.items {
		if !it.isLit {
			off0 += it.anyN
			off1 += 4 * it.anyN
			continue
		}
		for _, f := range it.fold {
			if f.n == 2 && f.orbit[0] < utf8.RuneSelf && f.orbit[1] < utf8.RuneSelf {
				r := strings.IndexByte(letterRarity, byte(unicode.ToLower(f.orbit[0])))
				if r > best {
					best = r
					s.pair = [2]byte{byte(f.orbit[0]), byte(f.orbit[1])}
					s.pairMin, s.pairMax = off0, off1
				}
			}
			lo, hi := runeLenBounds(f)
			off0 += lo
			off1 += hi
		}
	}
}

func runeLenBounds(f foldRune) (lo, hi int) {
	lo, hi = 4, 1
	for k := uint8(0); k < f.n; k++ {
		l := utf8.RuneLen(f.orbit[k])
		lo, hi = min(lo, l), max(hi, l)
	}
	return lo, hi
}

func requiredLiterals(segs []seg, fold bool) []string {
	var req []string
	for _, s := range segs {
		for _, it := range s.items {
			if !it.isLit {
				continue
			}
			if !fold {
				req = append(req, string(it.lit))
				continue
			}
			b, rs := 0, -1
			for _, f := range it.fold {
				l := utf8.RuneLen(f.orbit[0])
				if f.n == 1 {
					if rs < 0 {
						rs = b
					}
				} else if rs >= 0 {
					req = append(req, string(it.lit[rs:b]))
					rs = -1
				}
				b += l
			}
			if rs >= 0 {
				req = append(req, string(it.lit[rs:b]))
			}
		}
	}
	return req
}

// String returns the pattern Compile was given.
func (m *Matcher) String() string { return m.pattern }

// Options returns the options the Matcher was compiled with.
func (m *Matcher) Options() Options { return m.opts }

// RequiredLiterals returns byte strings that every matching subject contains
// verbatim. For LIKE these are the literal runs of the pattern; for ILIKE
// only the runs of characters without case variants (digits, punctuation,
// CJK, …), since a cased letter may appear in any of its cases. The result
// may be empty (e.g. for "%" or ILIKE '%abc%'); it must not be modified.
func (m *Matcher) RequiredLiterals() []string { return m.req }

// MatchString reports whether s matches the pattern. It does not allocate.
func (m *Matcher) MatchString(s string) bool {
	// The bytes are only read, never retained or written.
	return m.Match(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Match reports whether s matches the pattern. It does not allocate and runs
// in O(len(s)) for '%'-only patterns and O(len(s)·len(pattern)) at worst.
func (m *Matcher) Match(s []byte) bool {
	if m.fold {
		if m.asegs == nil {
			return m.matchGeneral(m.segs, s)
		}
		// A match up to ASCII case is a match. A mismatch is one unless
		// the subject has a non-ASCII character that folds to a letter of
		// the pattern.
		if m.matchASCIIFold(s) {
			return true
		}
		if m.kelvin && containsSeq(s, kelvinSign) || m.longS && containsSeq(s, longS) {
			return m.matchGeneral(m.segs, s)
		}
		return false
	}
	switch m.kind {
	case kindAny:
		return true
	case kindExact:
		return bytes.Equal(s, m.lit)
	case kindPrefix:
		return bytes.HasPrefix(s, m.lit)
	case kindSuffix:
		return bytes.HasSuffix(s, m.lit)
	case kindInfix:
		// Fast paths: short subjects are compared at every position with
		// SIMD (bytes.Index's brute force); in longer ones the literal's
		// rarest byte is found with the SIMD-backed IndexByte.
		if len(s) <= 64 {
			return bytes.Contains(s, m.lit)
		}
		return m.flit.index(s) >= 0
	}
	return m.matchGeneral(m.segs, s)
}

// The UTF-8 encodings of the two non-ASCII characters that fold to ASCII
// letters: U+212A KELVIN SIGN (k) and U+017F LATIN SMALL LETTER LONG S (s).
var (
	kelvinSign = []byte("\u212a")
	longS      = []byte("\u017f")
)

// containsSeq is bytes.Contains for a short seq whose first byte is rare,
// as the lead bytes of kelvinSign and longS are in most text.
func containsSeq(s, seq []byte) bool {
	for {
		i := bytes.IndexByte(s, seq[0])
		if i < 0 {
			return false
		}
		if bytes.HasPrefix(s[i:], seq) {
			return true
		}
		s = s[i+1:]
	}
}

// matchASCIIFold is Match for ILIKE patterns whose cased characters are
// all ASCII letters, with literals compared up to ASCII case. Its matches
// are matches; its mismatches are mismatches too for subjects in which, as
// far as the pattern's letters go, ASCII folding is Unicode simple folding.
func (m *Matcher) matchASCIIFold(s []byte) bool {
	f := m.flit
	switch m.kind {
	case kindExact:
		return len(s) == len(f.lo) && f.at(s)
	case kindPrefix:
		return len(s) >= len(f.lo) && f.at(s)
	case kindSuffix:
		return len(s) >= len(f.lo) && f.at(s[len(s)-len(f.lo):])
	case kindInfix:
		return f.index(s) >= 0
	}
	return m.matchGeneral(m.asegs, s)
}

// matchGeneral is the slow path. Segments between '%' are matched greedily
// left to right at their leftmost position; this is correct because a '%'
// can absorb whatever lies between two segment matches, and a segment
// (a fixed count of characters) matched further left also ends further left.
// Only the last segment is anchored at the end of the subject.
func (m *Matcher) matchGeneral(segs []seg, s []byte) bool {
	end, ok := m.matchAt(&segs[0], s, 0)
	if !ok {
		return false
	}
	if len(segs) == 1 {
		return end == len(s)
	}
	pos := end
	for i := 1; i < len(segs)-1; i++ {
		end, ok := m.find(&segs[i], s, pos)
		if !ok {
			return false
		}
		pos = end
	}
	last := &segs[len(segs)-1]
	if len(last.items) == 0 {
		return true
	}
	// The last segment must end exactly at len(s). It starts with a literal,
	// so it can only start at a character boundary, and its length is
	// bounded, so only few start positions need a try.
	lo := max(pos, len(s)-last.maxLen)
	for x := lo; x <= len(s)-last.minLen; x++ {
		if end, ok := m.matchAt(last, s, x); ok && end == len(s) {
			return true
		}
	}
	return false
}

// find returns the end of the leftmost match of sg starting at or after pos.
// sg starts with a literal, so a match never starts inside a UTF-8 sequence
// and x can advance byte by byte.
func (m *Matcher) find(sg *seg, s []byte, pos int) (int, bool) {
	q := -1          // next anchor occurrence, valid while q >= x+sg.anchorMin
	p0, p1 := -1, -1 // next occurrences of sg.pair; -2: none
	for x := pos; x+sg.minLen <= len(s); x++ {
		if sg.fanchor != nil {
			if q < x+sg.anchorMin {
				i := sg.fanchor.index(s[x+sg.anchorMin:])
				if i < 0 {
					return 0, false
				}
				q = x + sg.anchorMin + i
			}
			x = max(x, q-sg.anchorMax)
		} else if sg.anchor != nil {
			if q < x+sg.anchorMin {
				i := bytes.Index(s[x+sg.anchorMin:], sg.anchor)
				if i < 0 {
					return 0, false
				}
				q = x + sg.anchorMin + i
			}
			x = max(x, q-sg.anchorMax)
		} else if sg.pair[0] != 0 {
			// An ASCII letter in either case, found with two IndexByte.
			p0 = nextByte(s, x+sg.pairMin, sg.pair[0], p0)
			p1 = nextByte(s, x+sg.pairMin, sg.pair[1], p1)
			var p int
			switch {
			case p0 == -2 && p1 == -2:
				return 0, false
			case p1 == -2 || p0 != -2 && p0 < p1:
				p = p0
			default:
				p = p1
			}
			x = max(x, p-sg.pairMax)
		} else if sg.first != nil {
			for x < len(s) && !sg.first[s[x]] {
				x++
			}
		}
		if end, ok := m.matchAt(sg, s, x); ok {
			return end, true
		}
	}
	return 0, false
}

// nextByte returns the next position of c at or after x, reusing the
// previous answer prev while it is still ahead; -2 means none.
func nextByte(s []byte, x int, c byte, prev int) int {
	if prev == -2 || prev >= x {
		return prev
	}
	if x >= len(s) {
		return -2
	}
	if i := bytes.IndexByte(s[x:], c); i >= 0 {
		return x + i
	}
	return -2
}

// matchAt matches sg at s[x:] and returns the end of the match.
func (m *Matcher) matchAt(sg *seg, s []byte, x int) (int, bool) {
	for i := range sg.items {
		it := &sg.items[i]
		switch {
		case !it.isLit:
			for k := 0; k < it.anyN; k++ {
				if x >= len(s) {
					return 0, false
				}
				if s[x] < utf8.RuneSelf {
					x++
				} else {
					_, w := utf8.DecodeRune(s[x:])
					x += w
				}
			}
		case it.fl != nil:
			if len(s)-x < len(it.lit) || !it.fl.at(s[x:]) {
				return 0, false
			}
			x += len(it.lit)
		case it.fold == nil:
			if !bytes.HasPrefix(s[x:], it.lit) {
				return 0, false
			}
			x += len(it.lit)
		default:
			for j := range it.fold {
				if x >= len(s) {
					return 0, false
				}
				r, w := rune(s[x]), 1
				if r >= utf8.RuneSelf {
					r, w = utf8.DecodeRune(s[x:])
					if w == 1 { // invalid byte: never equal to a literal
						return 0, false
					}
				}
				if !it.fold[j].matches(r) {
					return 0, false
				}
				x += w
			}
		}
	}
	return x, true
}
