// Package envelope is the streaming scanner of ingest: in one pass over a
// JSON value it finds the tenant id, the event time and the bounds of each
// record — of an envelope's log array or of a bare record — and validates
// the JSON, without unmarshalling anything. Records stay bytes: callers copy
// them verbatim, so numbers and key order are never changed.
//
// The scanner is built for the hot path of ingest. It does not allocate in
// steady state (its result slices are reused from call to call), scans
// strings eight bytes at a time, and decodes only what it must compare
// (keys and tenant ids with backslash escapes, which are rare).
package envelope

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects the scanner accepts.
// Deeper values are reported as [Malformed]. Log records are shallow; a
// limit keeps a hostile input from using the stack (encoding/json stops at
// 10,000).
const MaxDepth = 512

// MaxCarryFields is the largest number of envelope fields a Config may name
// for copying into records (one bit each in [Record.Carry]).
const MaxCarryFields = 64

// Kind says what a scanned value is.
type Kind uint8

// Kinds of scanned values.
const (
	KindRecord   Kind = iota + 1 // a bare record: an object without the log field
	KindEnvelope                 // an object with the log field
)

// Problem says why a value or a record cannot be ingested.
type Problem uint8

// Problems. A problem of the whole value (Scanner.Problem) affects all of
// its records; a problem of one record (Record.Problem) affects only it.
const (
	OK             Problem = iota
	Malformed              // not valid JSON (or nested deeper than MaxDepth)
	InvalidUTF8            // a string holds bytes that are not UTF-8
	NotObject              // the value, or a log element, is not a JSON object
	LogNotArray            // the log field is not an array
	DuplicateKey           // the tenant field twice with different values, or the log field twice
	TenantConflict         // a record's own tenant field differs from its envelope's
)

var problemNames = [...]string{"ok", "malformed_json", "invalid_utf8", "not_object", "log_not_array", "duplicate_key", "tenant_conflict"}

// String returns the problem's name, as used for dead-letter reasons.
func (p Problem) String() string {
	if int(p) < len(problemNames) {
		return problemNames[p]
	}
	return "unknown"
}

// Config names the fields the scanner looks for. Field names are compared
// with the keys after JSON unescaping, exactly (case-sensitive), as
// encoding/json does when decoding into a map.
type Config struct {
	TenantField    string
	TimestampField string
	LogField       string
	// CarryFields are envelope fields whose values are reported in
	// Scanner.Carried, and whose presence in a record is reported in
	// Record.Carry. At most MaxCarryFields.
	CarryFields []string
}

// Value locates a JSON value in the input.
type Value struct {
	Start, End int  // the value's bytes; strings include their quotes
	Kind       byte // 0: absent; '"' string; '0' number; '{' object; '[' array; 't', 'f', 'n' literals
	Escaped    bool // a string that holds backslash escapes
}

// Present reports whether the value was found.
func (v Value) Present() bool { return v.Kind != 0 }

// Record locates one record: an element of an envelope's log array, or a
// bare record (then Start and End are the whole value).
type Record struct {
	Start, End int
	// Problem is OK, NotObject or (after CheckUTF8) InvalidUTF8.
	Problem Problem
	// Timestamp and Tenant are the record's own top-level fields (the last
	// occurrence, as encoding/json decodes duplicates).
	Timestamp Value
	Tenant    Value
	// Carry has bit i set when the record has its own CarryFields[i].
	Carry uint64
	// Empty reports an object without keys ("{}").
	Empty bool
}

// Scanner scans JSON values. The zero Scanner is not usable; see New. A
// Scanner is not safe for concurrent use; its results are valid until the
// next Scan.
type Scanner struct {
	cfg Config

	b []byte
	i int

	// Results of the last Scan.
	Kind      Kind
	Problem   Problem
	Msg       string // what is malformed, for Problem == Malformed etc.
	ErrOffset int    // where the problem was found
	Start     int    // where the value starts
	End       int    // where the value ends (valid unless Malformed)
	Tenant    Value  // the top-level tenant field
	Log       Value  // the top-level log field
	Carried   []Value
	Records   []Record

	tenantDup bool
	badUTF8   bool // a string held bytes that are not UTF-8
	logDup    bool
	logSeen   bool
	keyBuf    []byte
	tenantBuf []byte
	cmpBuf    []byte
}

// New returns a scanner for cfg. It panics if cfg names more than
// MaxCarryFields carry fields; callers validate options first.
func New(cfg Config) *Scanner {
	if len(cfg.CarryFields) > MaxCarryFields {
		panic("envelope: too many carry fields")
	}
	return &Scanner{cfg: cfg, Carried: make([]Value, len(cfg.CarryFields))}
}

// SkipSpace returns the offset of the first non-whitespace byte of b at or
// after i (len(b) if none).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// Scan scans the JSON value that starts at b[pos] (which must not be
// whitespace). It fills the Scanner's result fields. When Problem is
// Malformed, End is not meaningful: callers resynchronise at the next line.
func (s *Scanner) Scan(b []byte, pos int) {
	s.b, s.i = b, pos
	s.Kind, s.Problem, s.Msg, s.ErrOffset = 0, OK, "", 0
	s.Start, s.End = pos, pos
	s.Tenant, s.Log = Value{}, Value{}
	for k := range s.Carried {
		s.Carried[k] = Value{}
	}
	s.Records = s.Records[:0]
	s.tenantDup, s.logDup, s.logSeen, s.badUTF8 = false, false, false, false

	if pos >= len(b) {
		s.fail("unexpected end of input")
		return
	}
	if b[pos] != '{' {
		if _, ok := s.value(1); ok {
			s.End = s.i
			s.Problem = NotObject
			s.Msg = "not a JSON object"
			s.ErrOffset = pos
		}
		return
	}
	if !s.top() {
		return
	}
	s.End = s.i
	switch {
	case s.tenantDup:
		s.Problem, s.Msg = DuplicateKey, "tenant field appears twice with different values"
	case s.logDup:
		// Ambiguous: encoding/json keeps the last, other decoders the first.
		s.Problem, s.Msg = DuplicateKey, "log field appears twice"
	case s.Log.Present():
		s.Kind = KindEnvelope
		if s.Log.Kind != '[' {
			s.Problem, s.Msg = LogNotArray, "log field is not an array"
			s.ErrOffset = s.Log.Start
		}
	default:
		s.Kind = KindRecord
	}
}

func (s *Scanner) fail(msg string) bool {
	if s.Problem == OK {
		s.Problem = Malformed
		s.Msg = msg
		s.ErrOffset = s.i
	}
	return false
}

// key classes
const (
	keyOther = iota
	keyTenant
	keyTimestamp
	keyLog
	keyCarry // + index
)

// classify returns the class of key k (unescaped bytes).
func (s *Scanner) classify(k []byte, top bool) int {
	switch {
	case string(k) == s.cfg.TenantField:
		return keyTenant
	case string(k) == s.cfg.TimestampField:
		return keyTimestamp
	case top && string(k) == s.cfg.LogField:
		return keyLog
	}
	for j, f := range s.cfg.CarryFields {
		if string(k) == f {
			return keyCarry + j
		}
	}
	return keyOther
}

// readKey reads an object key at s.i (which must be '"') and returns its
// unescaped bytes (valid until the next readKey).
func (s *Scanner) readKey() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("expected a string key")
	}
	start := s.i
	esc, ok := s.str()
	if !ok {
		return nil, false
	}
	if !esc {
		return s.b[start+1 : s.i-1], true
	}
	s.keyBuf = AppendUnquote(s.keyBuf[:0], s.b[start+1:s.i-1])
	return s.keyBuf, true
}

// colon consumes whitespace, ':' and whitespace.
func (s *Scanner) colon() bool {
	b, i := s.b, s.i
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != ':' {
		s.i = i
		return s.fail("expected ':' after object key")
	}
	i++
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	s.i = i
	return true
}

// next consumes whitespace and either ',' (returns more=true, positioned
// at the next non-space byte) or the closing byte (more=false).
func (s *Scanner) next(closing byte) (more, ok bool) {
	b, i := s.b, s.i
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		s.i = i
		return false, s.fail("unexpected end of input")
	}
	switch b[i] {
	case ',':
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		s.i = i
		return true, true
	case closing:
		s.i = i + 1
		return false, true
	}
	s.i = i
	if closing == '}' {
		return false, s.fail("expected ',' or '}' in object")
	}
	return false, s.fail("expected ',' or ']' in array")
}

// top scans the top-level object at s.i.
func (s *Scanner) top() bool {
	s.i++ // '{'
	s.i = SkipSpace(s.b, s.i)
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		// An empty object: a bare record without a tenant.
		s.Records = append(s.Records, Record{Start: s.Start, End: s.i, Empty: true})
		return true
	}
	var rec Record // the top level as a bare record
	for {
		k, ok := s.readKey()
		if !ok || !s.colon() {
			return false
		}
		class := s.classify(k, true)
		switch {
		case class == keyLog:
			s.logDup = s.logSeen
			s.logSeen = true
			s.Records = s.Records[:0]
			start := s.i
			if s.i < len(s.b) && s.b[s.i] == '[' {
				if !s.logArray() {
					return false
				}
				s.Log = Value{Start: start, End: s.i, Kind: '['}
			} else {
				v, ok := s.value(1)
				if !ok {
					return false
				}
				s.Log = v
			}
		case class == keyTenant:
			v, ok := s.value(1)
			if !ok {
				return false
			}
			if s.Tenant.Present() && !s.sameString(s.Tenant, v) {
				s.tenantDup = true
			}
			s.Tenant = v
			rec.Tenant = v
		case class == keyTimestamp:
			v, ok := s.value(1)
			if !ok {
				return false
			}
			rec.Timestamp = v
		case class >= keyCarry:
			v, ok := s.value(1)
			if !ok {
				return false
			}
			s.Carried[class-keyCarry] = v
			rec.Carry |= 1 << uint(class-keyCarry)
		default:
			if _, ok := s.value(1); !ok {
				return false
			}
		}
		more, ok := s.next('}')
		if !ok {
			return false
		}
		if !more {
			break
		}
	}
	if !s.logSeen {
		rec.Start, rec.End = s.Start, s.i
		s.Records = append(s.Records, rec)
	}
	return true
}

// logArray scans the log array at s.i ('['), appending its elements to
// s.Records.
func (s *Scanner) logArray() bool {
	s.i++
	s.i = SkipSpace(s.b, s.i)
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if s.i >= len(s.b) {
			return s.fail("unexpected end of input")
		}
		if s.b[s.i] == '{' {
			if !s.record() {
				return false
			}
		} else {
			start := s.i
			if _, ok := s.value(2); !ok {
				return false
			}
			s.Records = append(s.Records, Record{Start: start, End: s.i, Problem: NotObject})
		}
		more, ok := s.next(']')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// record scans one log element object at s.i.
func (s *Scanner) record() bool {
	rec := Record{Start: s.i}
	s.i++
	s.i = SkipSpace(s.b, s.i)
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		rec.End, rec.Empty = s.i, true
		s.Records = append(s.Records, rec)
		return true
	}
	for {
		k, ok := s.readKey()
		if !ok || !s.colon() {
			return false
		}
		v, ok := s.value(3)
		if !ok {
			return false
		}
		switch class := s.classify(k, false); {
		case class == keyTimestamp:
			rec.Timestamp = v
		case class == keyTenant:
			if rec.Tenant.Present() && !s.sameString(rec.Tenant, v) {
				rec.Problem = TenantConflict
			}
			rec.Tenant = v
		case class >= keyCarry:
			rec.Carry |= 1 << uint(class-keyCarry)
		}
		more, ok := s.next('}')
		if !ok {
			return false
		}
		if !more {
			break
		}
	}
	rec.End = s.i
	s.Records = append(s.Records, rec)
	return true
}

// value scans any JSON value at s.i, at nesting depth d.
func (s *Scanner) value(d int) (Value, bool) {
	b := s.b
	if s.i >= len(b) {
		return Value{}, s.fail("unexpected end of input")
	}
	start := s.i
	switch c := b[s.i]; c {
	case '"':
		esc, ok := s.str()
		return Value{Start: start, End: s.i, Kind: '"', Escaped: esc}, ok
	case '{', '[':
		if d > MaxDepth {
			return Value{}, s.fail("nested too deeply")
		}
		ok := s.nested(c, d)
		return Value{Start: start, End: s.i, Kind: c}, ok
	case 't':
		return s.literal("true", 't')
	case 'f':
		return s.literal("false", 'f')
	case 'n':
		return s.literal("null", 'n')
	default:
		if c == '-' || c >= '0' && c <= '9' {
			ok := s.number()
			return Value{Start: start, End: s.i, Kind: '0'}, ok
		}
	}
	return Value{}, s.fail("invalid character at start of value")
}

func (s *Scanner) literal(lit string, kind byte) (Value, bool) {
	start := s.i
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return Value{}, s.fail("invalid literal")
	}
	s.i += len(lit)
	return Value{Start: start, End: s.i, Kind: kind}, true
}

// nested skips an object or array at s.i, validating it.
func (s *Scanner) nested(open byte, d int) bool {
	s.i++
	s.i = SkipSpace(s.b, s.i)
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	if s.i < len(s.b) && s.b[s.i] == closing {
		s.i++
		return true
	}
	for {
		if open == '{' {
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.fail("expected a string key")
			}
			if _, ok := s.str(); !ok {
				return false
			}
			if !s.colon() {
				return false
			}
		}
		if _, ok := s.value(d + 1); !ok {
			return false
		}
		more, ok := s.next(closing)
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// number validates a JSON number at s.i.
func (s *Scanner) number() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return s.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.fail("invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.fail("invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return true
}

const (
	lsb  = 0x0101010101010101
	msb  = 0x8080808080808080
	quot = lsb * '"'
	bsl  = lsb * '\\'
	ctl  = lsb * 0x20
)

// special returns the offset of the first byte at or after i that is '"',
// '\\', a control character or not ASCII, or len(b).
//
// Fast path: eight bytes at a time. Each mask below flags exactly the first
// matching byte of its kind (borrows only create false positives above a
// true one), so the lowest set bit of their union is the first match.
func special(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ quot
		e := x ^ bsl
		m := ((q - lsb) &^ q) | ((e - lsb) &^ e) | ((x - ctl) &^ x) | x
		if m &= msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return i
}

// str scans a string at s.i (the opening quote), leaving s.i after the
// closing quote. It reports whether the string holds escapes.
func (s *Scanner) str() (escaped, ok bool) {
	b := s.b
	i := s.i + 1
	for {
		i = special(b, i)
		if i >= len(b) {
			s.i = i
			return escaped, s.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, true
		case c >= 0x80:
			// UTF-8 is checked here, in the same pass: Japanese text is
			// runs of three-byte sequences, validated in this inner loop.
			for i < len(b) && b[i] >= 0x80 {
				if n := runeLen(b, i); n > 0 {
					i += n
				} else {
					s.badUTF8 = true
					i++
				}
			}
			continue
		case c < 0x20:
			s.i = i
			return escaped, s.fail("control character in string")
		}
		// A backslash.
		escaped = true
		i++
		if i >= len(b) {
			s.i = i
			return escaped, s.fail("unterminated string")
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if len(b)-i < 5 || hex4(b[i+1:i+5]) < 0 {
				s.i = i
				return escaped, s.fail("invalid \\u escape")
			}
			i += 5
		default:
			s.i = i
			return escaped, s.fail("invalid escape in string")
		}
	}
}

// runeLen returns the length of the valid UTF-8 sequence at b[i] (whose
// first byte is not ASCII), or 0 if it is not valid (as utf8.Valid decides:
// no overlong forms, surrogates or code points past U+10FFFF).
func runeLen(b []byte, i int) int {
	c := b[i]
	switch {
	case c < 0xC2:
		return 0
	case c < 0xE0:
		if i+1 < len(b) && b[i+1]&0xC0 == 0x80 {
			return 2
		}
	case c < 0xF0:
		if i+2 < len(b) {
			lo, hi := byte(0x80), byte(0xBF)
			switch c {
			case 0xE0:
				lo = 0xA0
			case 0xED:
				hi = 0x9F
			}
			if c1 := b[i+1]; c1 >= lo && c1 <= hi && b[i+2]&0xC0 == 0x80 {
				return 3
			}
		}
	case c < 0xF5:
		if i+3 < len(b) {
			lo, hi := byte(0x80), byte(0xBF)
			switch c {
			case 0xF0:
				lo = 0x90
			case 0xF4:
				hi = 0x8F
			}
			if c1 := b[i+1]; c1 >= lo && c1 <= hi && b[i+2]&0xC0 == 0x80 && b[i+3]&0xC0 == 0x80 {
				return 4
			}
		}
	}
	return 0
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// AppendUnquote appends the unescaped content of a JSON string (without its
// quotes; the escapes must be valid, as the scanner checked) to dst. Like
// encoding/json it turns unpaired surrogates into U+FFFD.
func AppendUnquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			return dst
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+6 > len(s) {
				return dst
			}
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := hex4(s[i+2 : i+6]); r2 >= 0 {
						if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, d)
							i += 6
							continue
						}
					}
				}
				r = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		i += 2
	}
	return dst
}

// String returns the unescaped content of the string value v (which must
// be a string: v.Kind == '"'), in a buffer of the scanner valid until the
// next call of String or Scan, or aliasing the input when v has no escapes.
func (s *Scanner) String(v Value) []byte {
	if !v.Escaped {
		return s.b[v.Start+1 : v.End-1]
	}
	s.tenantBuf = AppendUnquote(s.tenantBuf[:0], s.b[v.Start+1:v.End-1])
	return s.tenantBuf
}

// sameString reports whether two values are equal strings after unescaping
// (or byte-equal non-strings).
func (s *Scanner) sameString(a, b Value) bool {
	if a.Kind != '"' || b.Kind != '"' {
		return a.Kind == b.Kind && string(s.b[a.Start:a.End]) == string(s.b[b.Start:b.End])
	}
	if !a.Escaped && !b.Escaped {
		return string(s.b[a.Start:a.End]) == string(s.b[b.Start:b.End])
	}
	s.cmpBuf = AppendUnquote(s.cmpBuf[:0], s.b[a.Start+1:a.End-1])
	n := len(s.cmpBuf)
	s.cmpBuf = AppendUnquote(s.cmpBuf, s.b[b.Start+1:b.End-1])
	return string(s.cmpBuf[:n]) == string(s.cmpBuf[n:])
}

// CheckUTF8 validates the encoding of the last scanned value. Fast path:
// Scan found no bad string (bytes outside strings that are not ASCII are
// malformed JSON). Slow path, when it did: each record alone
// (a record with invalid UTF-8 gets Problem InvalidUTF8, its neighbours
// are untouched), then the envelope around them; it returns false when the
// envelope's own fields are invalid, which spoils every record.
func (s *Scanner) CheckUTF8() bool {
	if !s.badUTF8 {
		return true // Fast path: Scan checked every string.
	}
	// Record bounds are value bounds, never inside a multi-byte sequence,
	// so the pieces between them can be checked on their own.
	at := s.Start
	for k := range s.Records {
		r := &s.Records[k]
		if !utf8.Valid(s.b[at:r.Start]) {
			return false
		}
		if !utf8.Valid(s.b[r.Start:r.End]) {
			r.Problem = InvalidUTF8
		}
		at = r.End
	}
	if s.Kind == KindRecord && len(s.Records) == 1 {
		return s.Records[0].Problem != InvalidUTF8
	}
	return utf8.Valid(s.b[at:s.End])
}

// Bytes returns the input bytes of v.
func (s *Scanner) Bytes(v Value) []byte { return s.b[v.Start:v.End] }
