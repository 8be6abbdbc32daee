package like

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// foldLit is a byte string searched up to the case of its ASCII letters:
// it occurs in s at i if s[i+j]|mask[j] == lo[j] for every j. lo holds
// letters in lower case with mask 0x20 (so that 'E' and 'e' both give 'e',
// and nothing else does); every other byte has mask 0 and must be equal.
// With an all-zero mask it is a plain, case-sensitive literal.
type foldLit struct {
	lo, mask []byte
	// probe is the offset of the byte searched first, the rarest one
	// (see byteRank); probe2 that of the second rarest, checked next.
	probe, probe2 int
	exact         bool // mask is all zero
}

func newFoldLit(lo, mask []byte) *foldLit {
	f := &foldLit{lo: lo, mask: mask, exact: true}
	for _, m := range mask {
		f.exact = f.exact && m == 0
	}
	r1, r2 := -1, -1
	for i := range lo {
		r := f.rank(i)
		switch {
		case r > r1:
			f.probe2, r2 = f.probe, r1
			f.probe, r1 = i, r
		case r > r2:
			f.probe2, r2 = i, r
		}
	}
	return f
}

// rank is how rare the byte at offset i is, in both cases if a letter.
func (f *foldLit) rank(i int) int {
	c := f.lo[i]
	if f.mask[i] != 0 {
		return min(byteRank[c], byteRank[c&^0x20])
	}
	return byteRank[c]
}

// at reports whether f occurs at the start of s; len(s) >= len(f.lo).
func (f *foldLit) at(s []byte) bool {
	lo, mask := f.lo, f.mask
	s = s[:len(lo)]
	for len(lo) >= 8 {
		if binary.LittleEndian.Uint64(s)|binary.LittleEndian.Uint64(mask) != binary.LittleEndian.Uint64(lo) {
			return false
		}
		s, lo, mask = s[8:], lo[8:], mask[8:]
	}
	mask = mask[:len(lo)]
	s = s[:len(lo)]
	for i := range lo {
		if s[i]|mask[i] != lo[i] {
			return false
		}
	}
	return true
}

// index returns the position of the first occurrence of f in s, or -1.
//
// Long subjects (a block of lines) are searched for the two rarest bytes
// together (pairIndex). Short ones are searched for the rarest byte with
// bytes.IndexByte (SIMD-backed), in both cases for a letter, and the
// literal is verified at each candidate. Each
// byte of s is searched at most once per case. Should the candidates turn
// out dense, it switches to a search that needs no rare byte.
func (f *foldLit) index(s []byte) int {
	n := len(f.lo)
	last := len(s) - n // last possible start
	if last < 0 {
		return -1
	}
	if n == 0 {
		return 0
	}
	if hasPairSearch && f.probe != f.probe2 && len(s) >= pairSearchMin {
		return f.pairIndex(s, last)
	}
	p, p2 := f.probe, f.probe2
	c0 := f.lo[p]
	c1 := c0 &^ f.mask[p] // the upper-case variant; c0 if not a letter
	m2, c2 := f.mask[p2], f.lo[p2]
	t := s[p : p+last+1] // t[i] = s[i+p]: the probe byte of a start at i
	fails := 0
	if c0 == c1 {
		for i := 0; i < len(t); i++ {
			j := bytes.IndexByte(t[i:], c0)
			if j < 0 {
				return -1
			}
			i += j
			if s[i+p2]|m2 == c2 && f.at(s[i:]) {
				return i
			}
			if fails++; fails > 8+i>>3 {
				// Candidates are dense (a common byte after all): the
				// SIMD-backed substring search or the SWAR one does better.
				return f.denseIndex(s, i+1)
			}
		}
		return -1
	}
	a, b := -1, -1 // next positions of c0 and c1 in t; len(t) if none
	for i := 0; i < len(t); i++ {
		if a < i {
			a = len(t)
			if j := bytes.IndexByte(t[i:], c0); j >= 0 {
				a = i + j
			}
		}
		if b < i {
			b = len(t)
			if j := bytes.IndexByte(t[i:], c1); j >= 0 {
				b = i + j
			}
		}
		i = min(a, b)
		if i == len(t) {
			return -1
		}
		if s[i+p2]|m2 == c2 && f.at(s[i:]) {
			return i
		}
		if fails++; fails > 8+i>>3 {
			return f.denseIndex(s, i+1)
		}
	}
	return -1
}

// pairSearchMin is the shortest subject searched with pairIndex: short
// ones (a line, a value) do better with the byte search.
const pairSearchMin = 4096

// pairIndex is index searching the two probe bytes together with
// indexPairMasked, which stays fast whether or not either byte is common
// in s (an 'x' in "excel" is rare in prose but not next to ".exe").
func (f *foldLit) pairIndex(s []byte, last int) int {
	pa, pb := f.probe, f.probe2
	if pa > pb {
		pa, pb = pb, pa
	}
	ca, ma, cb, mb := f.lo[pa], f.mask[pa], f.lo[pb], f.mask[pb]
	for from := 0; from <= last; {
		j := indexPairMasked(s[from+pa:last+pb+1], pb-pa, ca, ma, cb, mb)
		if j < 0 {
			return -1
		}
		i := from + j
		if f.at(s[i:]) {
			return i
		}
		from = i + 1
	}
	return -1
}

// denseIndex is index(s[from:]) + from (or -1) for dense candidates.
func (f *foldLit) denseIndex(s []byte, from int) int {
	var j int
	if f.exact {
		j = bytes.Index(s[from:], f.lo)
	} else {
		j = f.swarIndex(s[from:])
	}
	if j < 0 {
		return -1
	}
	return from + j
}

// swarIndex is index with a SIMD-within-a-register search for the two
// probe bytes at once, eight candidate starts per step.
func (f *foldLit) swarIndex(s []byte) int {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	n := len(f.lo)
	last := len(s) - n
	if last < 0 {
		return -1
	}
	if n == 0 {
		return 0
	}
	p1, p2 := f.probe, f.probe2
	c1, m1 := lsb*uint64(f.lo[p1]), lsb*uint64(f.mask[p1])
	c2, m2 := lsb*uint64(f.lo[p2]), lsb*uint64(f.mask[p2])
	hi := max(p1, p2)
	if len(s) < hi+8 {
		for i := 0; i <= last; i++ {
			if f.at(s[i:]) {
				return i
			}
		}
		return -1
	}
	for i := 0; ; i += 8 {
		// The last step overlaps the one before: starts checked twice
		// fail twice.
		i = min(i, len(s)-hi-8)
		x1 := (binary.LittleEndian.Uint64(s[i+p1:]) | m1) ^ c1
		x2 := (binary.LittleEndian.Uint64(s[i+p2:]) | m2) ^ c2
		// A zero byte in x1 and x2 marks a candidate (and bytes above a
		// zero byte may be marked spuriously: every candidate is checked).
		z := (x1 - lsb) &^ x1 & (x2 - lsb) &^ x2 & msb
		for z != 0 {
			j := i + bits.TrailingZeros64(z)>>3
			if j > last {
				return -1
			}
			if f.at(s[j:]) {
				return j
			}
			z &= z - 1
		}
		if i+hi+8 >= len(s) {
			return -1
		}
	}
}

// byteRank estimates how rare each byte is in log text (JSON with ASCII
// keys, Windows paths, URLs and Japanese or other text in UTF-8): higher
// is rarer. Only the order matters.
var byteRank = func() (r [256]int) {
	for c := range r {
		switch {
		case c < 0x20 || c == 0x7f || c == 0xc0 || c == 0xc1 || c >= 0xf5:
			r[c] = 250 // control characters, never in valid UTF-8
		case c >= 0x80 && c < 0xc0:
			r[c] = 120 // UTF-8 continuation bytes: many, each one rare
		case c >= 0xc2 && c < 0xe0:
			r[c] = 170 // Latin, Greek, Cyrillic, …
		case c == 0xe3:
			r[c] = 40 // kana and CJK punctuation
		case c >= 0xe4 && c <= 0xe9:
			r[c] = 60 // CJK ideographs
		case c == 0xe2 || c == 0xef:
			r[c] = 150 // general punctuation, fullwidth forms
		case c >= 0xe0:
			r[c] = 200
		case c >= '0' && c <= '9':
			r[c] = 70
		default:
			r[c] = 180 // rare ASCII punctuation
		}
	}
	const letters = "etaoinsrhldcumfpgwybvkxjqz"
	for i := range len(letters) {
		lc := letters[i]
		r[lc] = 40 + 4*i
		r[lc-0x20] = 80 + 4*i // upper case is rarer than lower case
	}
	r['"'], r[':'], r[','], r[' '] = 0, 1, 2, 3
	r['.'], r['/'], r['\\'], r['-'], r['_'] = 30, 30, 25, 35, 35
	r['{'], r['}'], r['['], r[']'] = 60, 60, 90, 90
	return r
}()

// asciiFoldLit returns the foldLit that matches b up to the case of its
// ASCII letters (fold) or exactly.
func asciiFoldLit(b []byte, fold bool) *foldLit {
	lo, mask := make([]byte, len(b)), make([]byte, len(b))
	for i, c := range b {
		if l := c | 0x20; fold && 'a' <= l && l <= 'z' {
			lo[i], mask[i] = l, 0x20
		} else {
			lo[i] = c
		}
	}
	return newFoldLit(lo, mask)
}

// asciiFoldable reports whether every cased character of the literals is
// an ASCII letter, so that the pattern can be matched up to ASCII case.
func asciiFoldable(segs [][]item) bool {
	for _, s := range segs {
		for _, it := range s {
			for _, r := range string(it.lit) {
				if r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
					return false
				}
			}
		}
	}
	return true
}

// newASCIISeg returns the segment of items with literals compared up to
// ASCII case. Literals have their exact byte lengths; its anchor is the
// longest literal.
func newASCIISeg(items []item) seg {
	s := seg{items: make([]item, len(items))}
	off0, off1 := 0, 0
	for i, it := range items {
		if it.isLit {
			it.fold = nil
			it.fl = asciiFoldLit(it.lit, true)
			if s.fanchor == nil || len(it.lit) > len(s.fanchor.lo) {
				s.fanchor, s.anchorMin, s.anchorMax = it.fl, off0, off1
			}
			off0 += len(it.lit)
			off1 += len(it.lit)
		} else {
			off0 += it.anyN
			off1 += 4 * it.anyN
		}
		s.items[i] = it
	}
	s.minLen, s.maxLen = off0, off1
	return s
}

// Needle is a byte string that every value matching a pattern contains:
// verbatim, or with IgnoreCase up to the case of its ASCII letters, where
// moreover a 'k' may appear as U+212A KELVIN SIGN and an 's' as U+017F
// LATIN SMALL LETTER LONG S (the only non-ASCII characters that fold to
// ASCII letters). Other characters appear verbatim either way.
type Needle struct {
	Text       string
	IgnoreCase bool
}

// Needles returns needles that every matching subject contains, for a
// [JSONPrefilter]. For LIKE they are the literal runs of the pattern, as
// RequiredLiterals. For ILIKE they are the longest runs of characters that
// are caseless or ASCII letters (a letter such as 'é' or 'Ж' ends a run),
// with IgnoreCase and letters in lower case if the run holds a letter. The
// result may be empty; it must not be modified.
func (m *Matcher) Needles() []Needle { return m.needles }

func needles(segs []seg, fold bool) []Needle {
	var ns []Needle
	for _, s := range segs {
		for _, it := range s.items {
			if !it.isLit {
				continue
			}
			if !fold {
				ns = append(ns, Needle{Text: string(it.lit)})
				continue
			}
			var buf []byte
			cased := false
			flush := func() {
				if len(buf) > 0 {
					ns = append(ns, Needle{Text: string(buf), IgnoreCase: cased})
				}
				buf, cased = buf[:0], false
			}
			for _, f := range it.fold {
				if f.n == 1 {
					buf = utf8.AppendRune(buf, f.orbit[0])
					continue
				}
				var letter byte
				for k := uint8(0); k < f.n; k++ {
					if r := f.orbit[k] | 0x20; 'a' <= r && r <= 'z' {
						letter = byte(r)
					}
				}
				if letter == 0 {
					flush()
					continue
				}
				buf = append(buf, letter)
				cased = true
			}
			flush()
		}
	}
	return ns
}
