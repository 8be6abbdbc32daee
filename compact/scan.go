package compact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// valKind is the JSON kind of a member's value.
type valKind uint8

const (
	vNull valKind = iota
	vString
	vInt
	vFloat
	vBool
	vJSON // nested object or array, kept as its JSON text
)

// member is one "key": value of a record. Its slices point into the line or
// into the scanner's arena and are valid until the next scan.
type member struct {
	key    []byte // unescaped
	rawKey []byte // as in the line, quotes included
	kind   valKind
	str    []byte // vString: unescaped; vJSON: the JSON text
	raw    []byte // the value as in the line
	i      int64
	f      float64
	b      bool
	badUTF bool // str had invalid UTF-8, now replaced by U+FFFD
	bigNum bool // a number outside float64's range: kept as text
}

// scanner splits one NDJSON line into members without building any map or
// interface value: the hot path of compaction. It is lenient where leniency
// costs nothing (control characters inside strings pass) and strict where a
// mistake would corrupt a column (number grammar, nesting, UTF-8).
type scanner struct {
	members []member
	arena   []byte
}

var errSyntax = errors.New("not a JSON object")

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// scan parses line, a JSON object, into s.members.
func (s *scanner) scan(line []byte) error {
	s.members = s.members[:0]
	s.arena = s.arena[:0]
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errSyntax
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return errSyntax
			}
			// The member is filled in place: it is large, and a copy per
			// member shows in profiles.
			s.members = append(s.members, member{})
			m := &s.members[len(s.members)-1]
			start := i
			key, end, bad, err := s.parseString(line, i)
			if err != nil {
				return err
			}
			m.key, m.rawKey = key, line[start:end]
			if bad {
				m.badUTF = true
			}
			i = skipWS(line, end)
			if i >= len(line) || line[i] != ':' {
				return errSyntax
			}
			i = skipWS(line, i+1)
			if i >= len(line) {
				return errSyntax
			}
			vstart := i
			switch c := line[i]; {
			case c == '"':
				str, end, bad, err := s.parseString(line, i)
				if err != nil {
					return err
				}
				m.kind, m.str, m.badUTF = vString, str, m.badUTF || bad
				i = end
			case c == '{' || c == '[':
				end, ok := skipValue(line, i, 0)
				if !ok {
					return errSyntax
				}
				m.kind, m.str = vJSON, line[i:end]
				if !utf8.Valid(m.str) { // strings inside are not parsed, so not checked
					start := len(s.arena)
					s.arena = append(s.arena, bytes.ToValidUTF8(m.str, []byte("\uFFFD"))...)
					m.str, m.badUTF = s.arena[start:], true
				}
				i = end
			case c == 't':
				if !bytes.HasPrefix(line[i:], []byte("true")) {
					return errSyntax
				}
				m.kind, m.b = vBool, true
				i += 4
			case c == 'f':
				if !bytes.HasPrefix(line[i:], []byte("false")) {
					return errSyntax
				}
				m.kind = vBool
				i += 5
			case c == 'n':
				if !bytes.HasPrefix(line[i:], []byte("null")) {
					return errSyntax
				}
				m.kind = vNull
				i += 4
			default:
				end, isInt, ok := scanNumber(line, i)
				if !ok {
					return errSyntax
				}
				m.str = line[i:end]
				i = end
				if isInt {
					if v, ok := atoi64(m.str); ok {
						m.kind, m.i = vInt, v
						break
					}
				}
				f, err := strconv.ParseFloat(unsafeString(m.str), 64)
				m.kind, m.f = vFloat, f
				if err != nil { // out of range: keep the text
					m.bigNum = true
				}
			}
			m.raw = line[vstart:i]
			i = skipWS(line, i)
			if i >= len(line) {
				return errSyntax
			}
			if line[i] == ',' {
				i = skipWS(line, i+1)
				continue
			}
			if line[i] != '}' {
				return errSyntax
			}
			i++
			break
		}
	}
	if skipWS(line, i) != len(line) {
		return errSyntax
	}
	return nil
}

// parseString parses the JSON string starting at line[i] == '"'. It returns
// its unescaped bytes (a subslice of line when there are no escapes), the
// index after the closing quote, and whether invalid UTF-8 was replaced.
func (s *scanner) parseString(line []byte, i int) (str []byte, end int, badUTF bool, err error) {
	i++
	j, hi := quoteOrBackslashHi(line, i)
	if j == len(line) {
		return nil, 0, false, errSyntax
	}
	// Fast path: no escapes before the closing quote. Only a string with
	// a byte past ASCII can be invalid UTF-8: the rest of the line is
	// structure and numbers, which the grammar keeps to ASCII, and nested
	// values, which are checked whole.
	if line[j] == '"' {
		str = line[i:j]
		if hi && !utf8.Valid(str) {
			start := len(s.arena)
			s.arena = append(s.arena, bytes.ToValidUTF8(str, []byte("\uFFFD"))...)
			return s.arena[start:], j + 1, true, nil
		}
		return str, j + 1, false, nil
	}
	// Slow path: unescape into the arena.
	start := len(s.arena)
	s.arena = append(s.arena, line[i:j]...)
	i = j
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			str = s.arena[start:]
			// Runs of valid UTF-8 unescape to valid UTF-8: escapes split
			// them at ASCII bytes, and \u escapes append whole runes
			// (lone surrogates as U+FFFD).
			if hi && !utf8.Valid(str) {
				fixed := bytes.ToValidUTF8(str, []byte("\uFFFD"))
				s.arena = append(s.arena[:start], fixed...)
				return s.arena[start:], i + 1, true, nil
			}
			return str, i + 1, false, nil
		case c != '\\':
			k, h := quoteOrBackslashHi(line, i+1)
			hi = hi || h || c >= utf8.RuneSelf
			s.arena = append(s.arena, line[i:k]...)
			i = k
			continue
		}
		if i+1 >= len(line) {
			return nil, 0, false, errSyntax
		}
		e := line[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			s.arena = append(s.arena, e)
		case 'b':
			s.arena = append(s.arena, '\b')
		case 'f':
			s.arena = append(s.arena, '\f')
		case 'n':
			s.arena = append(s.arena, '\n')
		case 'r':
			s.arena = append(s.arena, '\r')
		case 't':
			s.arena = append(s.arena, '\t')
		case 'u':
			r, ok := hex4(line, i)
			if !ok {
				return nil, 0, false, errSyntax
			}
			i += 4
			if r >= 0xD800 && r < 0xDC00 { // high surrogate: want a low one
				if r2, ok := hex4(line, i+2); ok && i+1 < len(line) && line[i] == '\\' && line[i+1] == 'u' && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				} else {
					r = utf8.RuneError
					badUTF = true
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
				badUTF = true
			}
			s.arena = utf8.AppendRune(s.arena, r)
		default:
			return nil, 0, false, errSyntax
		}
	}
	return nil, 0, false, errSyntax
}

// quoteOrBackslash returns the index of the first '"' or '\\' in line at
// or after i, or len(line). It tests eight bytes at a time, inline: JSON
// strings are short (a call to bytes.IndexByte per string, and one more
// for escapes, showed in profiles) and Windows paths have an escape every
// few bytes.
func quoteOrBackslash(line []byte, i int) int {
	const (
		lsb = 0x0101010101010101
		low = 0x7f7f7f7f7f7f7f7f
	)
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		// 0x80 exactly in the bytes that are '"' or '\\'.
		if m := ^(((q & low) + low) | q | low) | ^(((b & low) + low) | b | low); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(line); i++ {
		if line[i] == '"' || line[i] == '\\' {
			return i
		}
	}
	return len(line)
}

// quoteOrBackslashHi is quoteOrBackslash that also reports whether a byte
// past ASCII may be among line[i:j]: true when one is, and sometimes when
// one only follows j closely (bytes are tested eight at a time).
func quoteOrBackslashHi(line []byte, i int) (j int, hi bool) {
	const (
		lsb = 0x0101010101010101
		low = 0x7f7f7f7f7f7f7f7f
	)
	var or uint64
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		or |= x
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		if m := ^(((q & low) + low) | q | low) | ^(((b & low) + low) | b | low); m != 0 {
			return i + bits.TrailingZeros64(m)>>3, or&^low != 0
		}
	}
	for ; i < len(line); i++ {
		c := line[i]
		if c == '"' || c == '\\' {
			return i, or&^low != 0
		}
		or |= uint64(c)
	}
	return len(line), or&^low != 0
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// scanNumber scans a JSON number at b[i]; it reports its end and whether it
// is an integer (no fraction, no exponent).
func scanNumber(b []byte, i int) (end int, isInt, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false, false
		}
	}
	return i, isInt, true
}

// atoi64 parses a JSON integer; false when it overflows int64.
func atoi64(s []byte) (int64, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) < 19 { // Fast path: cannot overflow.
		var n int64
		for _, c := range s {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	str := unsafeString(s)
	if neg {
		v, err := strconv.ParseInt("-"+str, 10, 64)
		return v, err == nil
	}
	v, err := strconv.ParseInt(str, 10, 64)
	return v, err == nil
}

// skipValue validates the JSON value at b[i] and returns its end.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxNesting {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		i++
		for i < len(b) {
			switch b[i] {
			case '\\':
				i += 2
				continue
			case '"':
				return i + 1, true
			}
			i++
		}
		return 0, false
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				end, ok := skipValue(b, i, depth+1)
				if !ok {
					return 0, false
				}
				i = skipWS(b, end)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipWS(b, i+1)
			}
			end, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipWS(b, end)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closer {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == 't':
		if bytes.HasPrefix(b[i:], []byte("true")) {
			return i + 4, true
		}
	case c == 'f':
		if bytes.HasPrefix(b[i:], []byte("false")) {
			return i + 5, true
		}
	case c == 'n':
		if bytes.HasPrefix(b[i:], []byte("null")) {
			return i + 4, true
		}
	default:
		end, _, ok := scanNumber(b, i)
		return end, ok
	}
	return 0, false
}
