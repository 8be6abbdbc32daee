package projection

import (
	"fmt"
	"strings"
	"time"
)

// Unit is a date column's interval unit, the serialized form of a Java
// ChronoUnit as Athena's projection.<col>.interval.unit property spells it.
type Unit uint8

// Units, coarsest first. UnitNone is the zero value: "not set".
const (
	UnitNone Unit = iota
	Years
	Months
	Weeks
	Days
	Hours
	Minutes
	Seconds
	Millis
)

var unitNames = [...]string{"", "YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS", "MINUTES", "SECONDS", "MILLIS"}

// String returns the property spelling ("DAYS"), or "" for UnitNone.
func (u Unit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return fmt.Sprintf("Unit(%d)", u)
}

// parseUnit reads an interval.unit value: case-insensitive, surrounding
// white space allowed, as Athena documents.
func parseUnit(s string) (Unit, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for u := Years; u <= Millis; u++ {
		if unitNames[u] == s {
			return u, true
		}
	}
	return UnitNone, false
}

// fieldKind is one kind of token in a compiled date pattern.
type fieldKind uint8

const (
	fLiteral fieldKind = iota
	fYear
	fMonth
	fDay
	fHour
	fMinute
	fSecond
	fFraction
)

// precision maps a field to the finest unit it resolves.
var fieldNames = [...]string{fYear: "year", fMonth: "month", fDay: "day", fHour: "hour", fMinute: "minute", fSecond: "second", fFraction: "millisecond"}

var fieldUnit = [...]Unit{fYear: Years, fMonth: Months, fDay: Days, fHour: Hours, fMinute: Minutes, fSecond: Seconds, fFraction: Millis}

type fmtToken struct {
	kind  fieldKind
	width int    // digits: exact width for padded fields, minimum otherwise
	pad   bool   // fixed width (MM, dd, yyyy, SSS, ...)
	lit   string // fLiteral
}

// dateFormat is a compiled subset of java.time.format.DateTimeFormatter
// patterns: the numeric fields partition layouts use. Text fields (MMM,
// EEE), zones, week-based years and optional sections are rejected so that a
// pattern loglake accepts renders exactly as Athena renders it.
type dateFormat struct {
	tokens    []fmtToken
	precision Unit // finest field present
}

// compileDateFormat compiles a Java DateTimeFormatter pattern.
//
// Supported letters: y and u (year; "yy" is the two-digit reduced year based
// on 2000, other counts are a minimum width), M, d, H, m, s (one letter: no
// padding; two: zero-padded), SSS (milliseconds). Text in
// single quotes is literal (a doubled quote is a quote); other non-letters are literal.
func compileDateFormat(p string) (*dateFormat, error) {
	f := &dateFormat{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.tokens = append(f.tokens, fmtToken{kind: fLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	seen := map[fieldKind]bool{}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			if j < len(p) && p[j] == '\'' { // '' is a literal quote
				lit.WriteByte('\'')
				i += 2
				continue
			}
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("unterminated quoted text in %q", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			i = j + 1
		case c == '[' || c == ']' || c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("reserved pattern character %q in %q is not supported", c, p)
		case c >= 0x80 || c < 0x20 || c == 0x7f:
			return nil, fmt.Errorf("pattern %q must be printable ASCII", p)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			t, err := letterToken(c, n)
			if err != nil {
				return nil, fmt.Errorf("%w in %q", err, p)
			}
			if seen[t.kind] {
				return nil, fmt.Errorf("pattern letter %q repeated in %q", c, p)
			}
			seen[t.kind] = true
			flush()
			f.tokens = append(f.tokens, t)
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	// Every field from the year down to the finest one must be present, or
	// the pattern does not name an instant (Java cannot build a LocalDate
	// from "MM-dd" either).
	for k := fYear; k <= fFraction; k++ {
		if !seen[k] {
			for k2 := k + 1; k2 <= fFraction; k2++ {
				if seen[k2] {
					return nil, fmt.Errorf("pattern %q has a %s field but no %s field", p, fieldNames[k2], fieldNames[k])
				}
			}
			break
		}
		f.precision = fieldUnit[k]
	}
	if f.precision == UnitNone {
		return nil, fmt.Errorf("pattern %q has no year field (y or u)", p)
	}
	for i, t := range f.tokens {
		if t.kind != fLiteral && !t.pad && i+1 < len(f.tokens) {
			if next := f.tokens[i+1]; next.kind != fLiteral || next.lit[0] >= '0' && next.lit[0] <= '9' {
				return nil, fmt.Errorf("pattern %q is ambiguous: a variable-width field is directly followed by digits", p)
			}
		}
		if t.kind == fLiteral && (strings.Contains(t.lit, "..") || strings.ContainsAny(t.lit, "\\%")) {
			return nil, fmt.Errorf("literal %q in %q could escape a location template", t.lit, p)
		}
	}
	return f, nil
}

func letterToken(c byte, n int) (fmtToken, error) {
	switch c {
	case 'y', 'u':
		if n > 4 {
			break
		}
		return fmtToken{kind: fYear, width: n, pad: n == 2 || n == 4}, nil
	case 'M', 'd', 'H', 'm', 's':
		if n > 2 {
			if c == 'M' {
				return fmtToken{}, fmt.Errorf("text month %q is not supported (use MM)", strings.Repeat("M", n))
			}
			break
		}
		k := map[byte]fieldKind{'M': fMonth, 'd': fDay, 'H': fHour, 'm': fMinute, 's': fSecond}[c]
		return fmtToken{kind: k, width: n, pad: n == 2}, nil
	case 'S':
		if n != 3 { // the finest interval.unit is MILLIS
			return fmtToken{}, fmt.Errorf("fraction %q is not supported (use SSS, milliseconds)", strings.Repeat("S", n))
		}
		return fmtToken{kind: fFraction, width: n, pad: true}, nil
	default:
		return fmtToken{}, fmt.Errorf("unsupported pattern letter %q", c)
	}
	return fmtToken{}, fmt.Errorf("unsupported pattern %q", strings.Repeat(string(c), n))
}

// appendFormat appends t, in its own location, rendered with f.
func (f *dateFormat) appendFormat(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return f.appendFields(dst, y, mo, d, h, mi, s, t.Nanosecond())
}

// appendFields is appendFormat on civil fields.
func (f *dateFormat) appendFields(dst []byte, y int, mo time.Month, d, h, mi, s, nsec int) []byte {
	for _, tok := range f.tokens {
		var v int
		switch tok.kind {
		case fLiteral:
			dst = append(dst, tok.lit...)
			continue
		case fYear:
			v = y
			if tok.width == 2 {
				v = ((y % 100) + 100) % 100
			}
		case fMonth:
			v = int(mo)
		case fDay:
			v = d
		case fHour:
			v = h
		case fMinute:
			v = mi
		case fSecond:
			v = s
		case fFraction:
			v = nsec
			for i := tok.width; i < 9; i++ {
				v /= 10
			}
		}
		dst = appendInt(dst, v, tok.width)
	}
	return dst
}

// appendInt appends non-negative v, zero-padded to width digits.
func appendInt(dst []byte, v, width int) []byte {
	return appendUint(dst, uint64(v), width)
}

// parse reads s strictly: every literal must match, padded fields take
// exactly their width, unpadded ones one or more digits. It reports false
// for any string appendFormat could not have produced.
func (f *dateFormat) parse(s string, loc *time.Location) (time.Time, bool) {
	y, mo, d, h, mi, sec, ns := 0, 1, 1, 0, 0, 0, 0
	for _, tok := range f.tokens {
		if tok.kind == fLiteral {
			if !strings.HasPrefix(s, tok.lit) {
				return time.Time{}, false
			}
			s = s[len(tok.lit):]
			continue
		}
		maxw := tok.width
		if !tok.pad {
			maxw = 2
			if tok.kind == fYear {
				maxw = 4
			}
		}
		n := 0
		for n < len(s) && n < maxw && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || (tok.pad && n != tok.width) || n < tok.width {
			return time.Time{}, false
		}
		v := 0
		for _, c := range s[:n] {
			v = v*10 + int(c-'0')
		}
		s = s[n:]
		switch tok.kind {
		case fYear:
			y = v
			if tok.width == 2 {
				y = 2000 + v
			}
		case fMonth:
			mo = v
		case fDay:
			d = v
		case fHour:
			h = v
		case fMinute:
			mi = v
		case fSecond:
			sec = v
		case fFraction:
			for i := tok.width; i < 9; i++ {
				v *= 10
			}
			ns = v
		}
	}
	if s != "" || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// truncate cuts t down to the start of its unit u (in t's location).
func truncate(t time.Time, u Unit) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ns := t.Nanosecond()
	switch u {
	case Years:
		mo, d, h, mi, s, ns = 1, 1, 0, 0, 0, 0
	case Months:
		d, h, mi, s, ns = 1, 0, 0, 0, 0
	case Weeks, Days:
		h, mi, s, ns = 0, 0, 0, 0
	case Hours:
		mi, s, ns = 0, 0, 0
	case Minutes:
		s, ns = 0, 0
	case Seconds:
		ns = 0
	case Millis:
		ns -= ns % 1e6
	}
	return time.Date(y, mo, d, h, mi, s, ns, t.Location())
}

// addUnits returns t plus n units. Months and years clamp the day to the
// target month's length (as java.time's plusMonths does) instead of
// overflowing into the next month as time.AddDate would; days and weeks are
// calendar days in t's location; finer units are exact durations.
func addUnits(t time.Time, n int64, u Unit) time.Time {
	loc := t.Location()
	switch u {
	case Years, Months:
		if u == Years {
			n *= 12
		}
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		m := int64(y)*12 + int64(mo-1) + n
		ny, nm := int(m/12), time.Month(m%12+1)
		if m < 0 {
			ny, nm = int((m-11)/12), time.Month((m%12+12)%12+1)
		}
		d = min(d, daysIn(ny, nm))
		return time.Date(ny, nm, d, h, mi, s, t.Nanosecond(), loc)
	case Weeks, Days:
		if u == Weeks {
			n *= 7
		}
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		return time.Date(y, mo, d+int(n), h, mi, s, t.Nanosecond(), loc)
	case Hours, Minutes, Seconds:
		sec := map[Unit]int64{Hours: 3600, Minutes: 60, Seconds: 1}[u]
		return time.Unix(t.Unix()+n*sec, int64(t.Nanosecond())).In(loc)
	default: // Millis
		ms := t.UnixMilli() + n
		return time.UnixMilli(ms).Add(time.Duration(t.Nanosecond() % 1e6)).In(loc)
	}
}

// unitsBetween estimates how many whole units lie from a to b (b >= a);
// callers correct the estimate by ±1 with addUnits.
func unitsBetween(a, b time.Time, u Unit) int64 {
	switch u {
	case Years:
		return int64(b.Year() - a.Year())
	case Months:
		return int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
	case Weeks, Days:
		ay, am, ad := a.Date()
		by, bm, bd := b.Date()
		days := (time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Unix() - time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC).Unix()) / 86400
		if u == Weeks {
			return days / 7
		}
		return days
	case Hours:
		return (b.Unix() - a.Unix()) / 3600
	case Minutes:
		return (b.Unix() - a.Unix()) / 60
	case Seconds:
		return b.Unix() - a.Unix()
	default:
		return b.UnixMilli() - a.UnixMilli()
	}
}

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar, and civilFromDays is its inverse (Howard
// Hinnant's algorithms, "chrono-Compatible Low-Level Date Algorithms").
// They let daily walks skip time.Date's normalization per value.
func daysFromCivil(y int64, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y int64, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
