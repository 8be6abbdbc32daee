package compact

import (
	"math"
	"time"

	"github.com/loglake/loglake"
)

// timeRules says which encodings of the event time a lake accepts.
type timeRules struct {
	rfc3339, secs, millis bool
}

func newTimeRules(s loglake.Settings) timeRules {
	var r timeRules
	for _, f := range s.TimestampFormats {
		switch f {
		case loglake.TimestampRFC3339:
			r.rfc3339 = true
		case loglake.TimestampEpochSecond:
			r.secs = true
		case loglake.TimestampEpochMilli:
			r.millis = true
		}
	}
	return r
}

// micros converts a timestamp member to microseconds since the epoch. exact
// is false when sub-microsecond digits were cut.
func (r timeRules) micros(m *member) (us int64, exact, ok bool) {
	switch m.kind {
	case vString:
		if !r.rfc3339 {
			return 0, false, false
		}
		sec, nsec, ok := parseRFC3339(m.str)
		if !ok {
			t, err := time.Parse(time.RFC3339Nano, unsafeString(m.str))
			if err != nil {
				return 0, false, false
			}
			sec, nsec = t.Unix(), int64(t.Nanosecond())
		}
		return sec*1e6 + nsec/1000, nsec%1000 == 0, true
	case vInt:
		if m.i >= 1e11 || m.i <= -1e11 {
			if !r.millis || m.i > math.MaxInt64/1000 || m.i < math.MinInt64/1000 {
				return 0, false, false
			}
			return m.i * 1000, true, true
		}
		if !r.secs {
			return 0, false, false
		}
		return m.i * 1e6, true, true
	case vFloat:
		if m.bigNum || math.IsNaN(m.f) {
			return 0, false, false
		}
		f := m.f
		if math.Abs(f) >= 1e11 {
			if !r.millis {
				return 0, false, false
			}
			f *= 1e3
		} else if !r.secs {
			return 0, false, false
		} else {
			f *= 1e6
		}
		if math.Abs(f) > 9e18 {
			return 0, false, false
		}
		us := int64(math.Round(f))
		return us, float64(us) == f, true
	}
	return 0, false, false
}

// parseRFC3339 parses the common shape YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
// without allocating; anything else reports false and the caller falls back
// to time.Parse.
func parseRFC3339(b []byte) (sec, nsec int64, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, 0, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	h, ok4 := num(b[11:13])
	mi, ok5 := num(b[14:16])
	s, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 {
		return 0, 0, false
	}
	if !loglake.NewDay(y, time.Month(mo), d).IsValid() {
		return 0, 0, false
	}
	i := 19
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		scale := int64(1e9)
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start < 9 {
				scale /= 10
				nsec += int64(b[i]-'0') * scale
			}
			i++
		}
		if i == start {
			return 0, 0, false
		}
	}
	if i >= len(b) {
		return 0, 0, false
	}
	offset := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b) != i+6 || b[i+3] != ':' {
			return 0, 0, false
		}
		oh, ok1 := num(b[i+1 : i+3])
		om, ok2 := num(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, 0, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, 0, false
	}
	if i != len(b) {
		return 0, 0, false
	}
	sec = daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s) - int64(offset)
	return sec, nsec, true
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
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
	return int64(era)*146097 + int64(doe) - 719468
}
