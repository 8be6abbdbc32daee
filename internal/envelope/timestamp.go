package envelope

import "strconv"

// Formats is a set of accepted timestamp encodings.
type Formats uint8

// Timestamp encodings (see loglake.TimestampFormat).
const (
	RFC3339      Formats = 1 << iota // a string: 2026-11-20T09:30:00Z, fraction and numeric offset optional
	EpochSeconds                     // a number below 1e11 (in absolute value)
	EpochMillis                      // a number at or above 1e11
)

// Limits of event times: the instants whose UTC date has a four-digit year,
// as YYYY-MM-DD can spell it.
const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// Time returns the event time encoded by v as Unix seconds (rounded down),
// and false when v is absent or is not a valid time in one of the formats f.
func (s *Scanner) Time(v Value, f Formats) (int64, bool) {
	switch v.Kind {
	case '"':
		if f&RFC3339 == 0 {
			return 0, false
		}
		return ParseRFC3339(s.String(v))
	case '0':
		return ParseEpoch(s.b[v.Start:v.End], f)
	}
	return 0, false
}

// ParseEpoch parses a JSON number as epoch seconds or milliseconds, by
// magnitude: values at or above 1e11 in absolute value are milliseconds (1e11
// seconds is in the year 5138). It returns Unix seconds, rounded down.
func ParseEpoch(b []byte, f Formats) (int64, bool) {
	// Fast path: an integer of at most 18 digits.
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	var n int64
	fast := len(d) > 0 && len(d) <= 18
	for _, c := range d {
		if c < '0' || c > '9' {
			fast = false
			break
		}
		n = n*10 + int64(c-'0')
	}
	if fast {
		if neg {
			n = -n
		}
		if n >= 1e11 || n <= -1e11 {
			if f&EpochMillis == 0 {
				return 0, false
			}
			return checkUnix(floorDiv(n, 1000))
		}
		if f&EpochSeconds == 0 {
			return 0, false
		}
		return checkUnix(n)
	}
	// Slow path: fractions, exponents, huge values.
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	if x >= 1e11 || x <= -1e11 {
		if f&EpochMillis == 0 {
			return 0, false
		}
		x /= 1000
	} else if f&EpochSeconds == 0 {
		return 0, false
	}
	if x < minUnix || x > maxUnix+1 {
		return 0, false
	}
	sec := int64(x)
	if float64(sec) > x {
		sec--
	}
	return checkUnix(sec)
}

func checkUnix(sec int64) (int64, bool) {
	if sec < minUnix || sec > maxUnix {
		return 0, false
	}
	return sec, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ParseRFC3339 parses an RFC 3339 time — YYYY-MM-DDTHH:MM:SS, an optional
// fraction of any length, then "Z" or ±HH:MM ('t' and 'z' in lower case
// too, as RFC 3339 allows) — and returns Unix seconds, rounded down. It
// checks ranges as time.Parse does (no second 60, no February 30).
func ParseRFC3339(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	min, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return 0, false
	}
	i := 19
	if b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0, false
		}
	}
	if i >= len(b) {
		return 0, false
	}
	var off int64
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i < 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := digits(b[i+1 : i+3])
		om, ok2 := digits(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = int64(oh*3600 + om*60)
		if b[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	days := DaysFromCivil(int64(year), month, day)
	return checkUnix(days*86400 + int64(hour*3600+min*60+sec) - off)
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m, year int) int {
	switch m {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DaysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (H. Hinnant's algorithm).
func DaysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := int64(m) + 9
	if m > 2 {
		mp = int64(m) - 3
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (year int64, month, day int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, int(m), int(d)
}
