package projection

import (
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// DefaultMaxPartitions is the default EnumerateOptions.MaxPartitions:
// Athena's own limit, one million partitions per query under projection.
const DefaultMaxPartitions = 1_000_000

// EnumerateOptions tune Enumerate. A nil *EnumerateOptions means the zero
// value, whose fields all take their defaults.
type EnumerateOptions struct {
	// Now is the clock relative date bounds (NOW-5YEARS) are taken from.
	// Default: time.Now. Tests pass a fixed clock.
	Now func() time.Time
	// MaxPartitions caps how many partitions one call may select; above it,
	// Enumerate yields ErrTooManyPartitions before yielding any partition.
	// Default: DefaultMaxPartitions (Athena's limit). 0 or negative means
	// the default.
	MaxPartitions int
	// Descending walks integer and date columns from their largest value
	// down (newest dates first, for ORDER BY timestamp DESC). Enum and
	// injected columns keep their listed order either way. Default: false,
	// ascending.
	Descending bool
}

func (o *EnumerateOptions) withDefaults() EnumerateOptions {
	var c EnumerateOptions
	if o != nil {
		c = *o
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxPartitions <= 0 {
		c.MaxPartitions = DefaultMaxPartitions
	}
	return c
}

// Constraint restricts one partition column, as a query's WHERE clause
// would. The zero Constraint restricts nothing. Build one with [Eq], [In],
// [IntRange], [DateRange] or [Overlapping], or fill the fields.
type Constraint struct {
	// In, when non-nil, keeps only these values (col = v, col IN (...)).
	// Values are compared as the column's type: integers numerically ("5"
	// matches digits=2's "05"), dates by instant after parsing with the
	// column's format (a value that does not parse matches nothing). A
	// non-nil empty In matches nothing. Values that are not in the
	// projection select nothing; they are not an error, except that
	// injected values must pass ValidateValue.
	In []string
	// Lo and Hi bound an integer or date column; see Bound.
	Lo, Hi Bound
	// Overlap changes how Lo and Hi apply to a date column: instead of
	// comparing each partition's value, keep every partition whose time span
	// [value, value+interval) overlaps [Lo, Hi] — what a range on the
	// event timestamp needs ("timestamp >= X AND timestamp < Y").
	Overlap bool
}

// Bound is one end of a range. The zero Bound is open (unbounded).
type Bound struct {
	Set       bool
	Int       int64     // for integer columns
	Time      time.Time // for date columns
	Exclusive bool      // < or > instead of <= or >=
}

// Eq is the constraint col = v.
func Eq(v string) Constraint { return Constraint{In: []string{v}} }

// In is the constraint col IN (vs...). In() with no values matches nothing.
func In(vs ...string) Constraint {
	if vs == nil {
		vs = []string{}
	}
	return Constraint{In: vs}
}

// IntRange is lo <= col <= hi for an integer column.
func IntRange(lo, hi int64) Constraint {
	return Constraint{Lo: Bound{Set: true, Int: lo}, Hi: Bound{Set: true, Int: hi}}
}

// DateRange is from <= col < to for a date column, comparing each
// partition's own instant (the value parsed in the config's time zone).
func DateRange(from, to time.Time) Constraint {
	return Constraint{Lo: Bound{Set: true, Time: from}, Hi: Bound{Set: true, Time: to, Exclusive: true}}
}

// Overlapping keeps the date partitions holding any instant of [from, to),
// e.g. from = 2024-03-01T10:00Z selects the daily partition 2024-03-01.
func Overlapping(from, to time.Time) Constraint {
	c := DateRange(from, to)
	c.Overlap = true
	return c
}

// Partition is one enumerated partition.
//
// Its strings stay valid indefinitely (they are never overwritten), but
// Values may be shared with nothing else: callers may keep both.
type Partition struct {
	Values   []string // one per column, in Config.Columns order
	Location string   // the rendered location template
}

// Enumerate yields the partitions that satisfy cons (keyed by column name;
// a column without an entry is unconstrained), with their locations,
// lazily.
//
// # Order
//
// Tuples come in lexicographic order of the columns as listed (the first
// column is outermost). Within a column, enum values keep their listed
// order, injected values the order of the constraint's In (duplicates
// dropped), integer and date values ascend — or descend with
// opts.Descending. The order depends only on the inputs, never on maps.
//
// # Errors
//
// Errors come as the first and only item: an invalid config, a constraint on
// an unknown column, a range on an enum or injected column, an injected
// column without In (as in Athena), an injected value that fails
// ValidateValue, or more than opts.MaxPartitions partitions (counted before
// anything is yielded). A constraint that misses the projected range is not
// an error: it yields nothing.
func (c *Config) Enumerate(cons map[string]Constraint, opts *EnumerateOptions) iter.Seq2[Partition, error] {
	return func(yield func(Partition, error) bool) {
		o := opts.withDefaults()
		p, err := c.plan(cons, &o)
		if err != nil {
			yield(Partition{}, err)
			return
		}
		p.run(yield)
	}
}

// Count returns how many partitions Enumerate would yield, without
// rendering any; it returns ErrTooManyPartitions as Enumerate would.
func (c *Config) Count(cons map[string]Constraint, opts *EnumerateOptions) (int64, error) {
	o := opts.withDefaults()
	p, err := c.plan(cons, &o)
	if err != nil {
		return 0, err
	}
	return p.total, nil
}

// compiled is a validated Config with its bounds resolved against a clock.
type compiled struct {
	cfg  *Config
	loc  *time.Location
	cols []ccol
	tmpl []tmplPart
}

type ccol struct {
	*Column
	// integer
	imin, imax int64
	// date
	df    *dateFormat
	start time.Time
	// date: the domain is value(k) for k in [0, n)
	n    int64
	step int64
	unit Unit
	// Fast path for daily and weekly walks of a day-precision format: the
	// value at k is startDay + k*dayStep in civil days, no time.Time needed.
	civil    bool
	startDay int64
	dayStep  int64
}

// compile validates c and resolves its ranges; now may be nil when only
// validation is wanted (NOW then resolves to 2000-01-01, which checks the
// syntax without depending on the wall clock).
func (c *Config) compile(now func() time.Time) (*compiled, error) {
	cc := &compiled{cfg: c, loc: c.TimeZone}
	if cc.loc == nil {
		cc.loc = time.UTC
	}
	var nowT time.Time
	if now != nil {
		nowT = now().In(cc.loc)
	} else {
		nowT = time.Date(2000, 1, 1, 0, 0, 0, 0, cc.loc)
	}
	if len(c.Columns) == 0 {
		return nil, propErr(PropEnabled, strconv.FormatBool(!c.Disabled), "no partition columns")
	}
	cc.cols = make([]ccol, len(c.Columns))
	for i := range c.Columns {
		col := &c.Columns[i]
		key := func(s string) string { return propPrefix + col.Name + "." + s }
		if err := validIdent(col.Name); err != nil {
			return nil, propErr(key("type"), col.Type.String(), "column name: %v", err)
		}
		for j := range i {
			if c.Columns[j].Name == col.Name {
				return nil, propErr(key("type"), col.Type.String(), "column %q listed twice", col.Name)
			}
		}
		x := ccol{Column: col, step: max(col.Interval, 1)}
		switch col.Type {
		case Enum:
			if len(col.Values) == 0 {
				return nil, propErr(key("values"), "", "missing: required for enum columns")
			}
			for _, v := range col.Values {
				if r := badValue(v, col.Rule); r != "" {
					return nil, propErr(key("values"), strings.Join(col.Values, ","), "value %q: %s", v, r)
				}
			}
		case Injected:
		case Integer:
			lo, err1 := strconv.ParseInt(strings.TrimSpace(col.Range[0]), 10, 64)
			hi, err2 := strconv.ParseInt(strings.TrimSpace(col.Range[1]), 10, 64)
			if err1 != nil || err2 != nil {
				return nil, propErr(key("range"), col.Range[0]+","+col.Range[1], "want two integers min,max")
			}
			if lo > hi {
				return nil, propErr(key("range"), col.Range[0]+","+col.Range[1], "min is greater than max")
			}
			if col.Digits < 0 || col.Digits > 19 {
				return nil, propErr(key("digits"), strconv.Itoa(col.Digits), "want 1-19")
			}
			x.imin, x.imax = lo, hi
		case Date:
			df, err := compileDateFormat(col.Format)
			if err != nil {
				return nil, propErr(key("format"), col.Format, "%v", err)
			}
			x.df = df
			x.unit = col.Unit
			if x.unit == UnitNone {
				if df.precision != Days && df.precision != Months {
					return nil, propErr(key("interval.unit"), "", "missing: required when the format's finest field is not a day or a month")
				}
				x.unit = df.precision
			}
			if x.unit > df.precision { // units are ordered coarsest first
				return nil, propErr(key("interval.unit"), x.unit.String(), "finer than the format %q can show (would repeat values)", col.Format)
			}
			if x.step > 1<<40 {
				return nil, propErr(key("interval"), strconv.FormatInt(x.step, 10), "too large")
			}
			var b [2]time.Time
			var rel [2]bool
			for k, s := range col.Range {
				t, isRel, err := resolveBound(s, df, nowT, cc.loc)
				if err != nil {
					return nil, propErr(key("range"), col.Range[0]+","+col.Range[1], "%v", err)
				}
				b[k], rel[k] = t, isRel
			}
			if rel[0] == rel[1] && b[0].After(b[1]) {
				return nil, propErr(key("range"), col.Range[0]+","+col.Range[1], "min is after max")
			}
			x.start = b[0]
			x.n = dateCount(b[0], b[1], x.step, x.unit)
			if df.precision == Days && (x.unit == Days || x.unit == Weeks) {
				y, m, d := x.start.Date()
				x.civil, x.startDay, x.dayStep = true, daysFromCivil(int64(y), int64(m), int64(d)), x.step
				if x.unit == Weeks {
					x.dayStep *= 7
				}
			}
		default:
			return nil, propErr(key("type"), col.Type.String(), "unknown projection type")
		}
		cc.cols[i] = x
	}
	tmpl, err := compileTemplate(c.LocationTemplate, c.Columns)
	if err != nil {
		return nil, err
	}
	cc.tmpl = tmpl
	return cc, nil
}

// satCount is diff/step+1, saturated at MaxInt64.
func satCount(diff, step uint64) int64 {
	q := diff / step
	if q >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q) + 1
}

// resolveBound reads one side of a date range: a NOW expression, matched as
// Athena documents it,
//
//	\s*NOW\s*(([\+\-])\s*([0-9]+)\s*(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?)\s*)?
//
// truncated to the format's precision, or a literal in the column's format
// (white space there is part of the literal).
func resolveBound(s string, df *dateFormat, now time.Time, loc *time.Location) (time.Time, bool, error) {
	t := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(t, "NOW"); ok {
		rest = strings.TrimSpace(rest)
		res := now
		if rest != "" {
			sign := rest[0]
			if sign != '+' && sign != '-' {
				return time.Time{}, false, fmt.Errorf("bad relative bound %q", s)
			}
			rest = strings.TrimSpace(rest[1:])
			i := 0
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			n, err := strconv.ParseInt(rest[:i], 10, 64)
			if err != nil {
				return time.Time{}, false, fmt.Errorf("bad relative bound %q", s)
			}
			word := strings.TrimSpace(rest[i:])
			u, ok := parseUnit(word)
			if !ok { // the singular, "1DAY"
				u, ok = parseUnit(word + "S")
			}
			if !ok || u == Millis || word != strings.ToUpper(word) {
				return time.Time{}, false, fmt.Errorf("bad unit in relative bound %q", s)
			}
			if n > maxOffset[u] {
				return time.Time{}, false, fmt.Errorf("bound %q resolves outside years 0-9999", s)
			}
			if sign == '-' {
				n = -n
			}
			res = addUnits(now, n, u)
		}
		if y := res.Year(); y < 0 || y > 9999 {
			return time.Time{}, false, fmt.Errorf("bound %q resolves outside years 0-9999", s)
		}
		return truncate(res, df.precision), true, nil
	}
	v, ok := df.parse(s, loc)
	if !ok {
		return time.Time{}, false, fmt.Errorf("bound %q does not match the format", s)
	}
	return v, false, nil
}

// maxOffset is the largest NOW offset per unit: ten thousand years, so the
// arithmetic cannot overflow and the year check below sees true years.
var maxOffset = [...]int64{Years: 1e4, Months: 12e4, Weeks: 53e4, Days: 366e4, Hours: 8784e4, Minutes: 52704e5, Seconds: 316224e6}

// dateCount is the number of k >= 0 with start + k*step units <= end.
func dateCount(start, end time.Time, step int64, u Unit) int64 {
	if end.Before(start) {
		return 0
	}
	k := unitsBetween(start, end, u) / step
	for k > 0 && addUnits(start, k*step, u).After(end) {
		k--
	}
	for !addUnits(start, (k+1)*step, u).After(end) {
		k++
	}
	return k + 1
}

func (x *ccol) dateAt(k int64) time.Time { return addUnits(x.start, k*x.step, x.unit) }

// firstK returns the least k in [lo, hi) with pred(k), or hi; pred must be
// monotone (false...true).
func firstK(lo, hi int64, pred func(int64) bool) int64 {
	for lo < hi {
		m := lo + (hi-lo)/2
		if pred(m) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// sel is the selected part of one column: either explicit positions (ks,
// already in walk order) or the contiguous range [lo, hi].
type sel struct {
	ks       []int64 // explicit k (date), or index into strs/Values/ints
	strs     []string
	ints     []int64 // integer In values, in walk order
	base     int64   // integer range walks: the value at k = 0
	lo, hi   int64
	explicit bool
	desc     bool
	count    int64
}

func (s *sel) at(i int64) int64 {
	if s.explicit {
		return s.ks[i]
	}
	if s.desc {
		return s.hi - i
	}
	return s.lo + i
}

type plan struct {
	cc    *compiled
	sels  []sel
	total int64
}

func (c *Config) plan(cons map[string]Constraint, o *EnumerateOptions) (*plan, error) {
	if c.Disabled {
		return nil, propErr(PropEnabled, "false", "projection is disabled for this table")
	}
	cc, err := c.compile(o.Now)
	if err != nil {
		return nil, err
	}
	for name := range cons {
		if !slices.ContainsFunc(c.Columns, func(col Column) bool { return col.Name == name }) {
			return nil, fmt.Errorf("%w: no partition column %q", ErrInvalidConstraint, name)
		}
	}
	p := &plan{cc: cc, sels: make([]sel, len(cc.cols)), total: 1}
	for i := range cc.cols {
		x := &cc.cols[i]
		con, has := cons[x.Name]
		s := &p.sels[i]
		if err := x.selectValues(s, con, has, o.Descending); err != nil {
			return nil, err
		}
		if s.count == 0 {
			p.total = 0
		} else if p.total > 0 {
			if p.total > math.MaxInt64/s.count {
				p.total = math.MaxInt64
			} else {
				p.total *= s.count
			}
		}
	}
	if p.total > int64(o.MaxPartitions) {
		return nil, fmt.Errorf("%w: the constraints select %s partitions, more than the limit of %d; constrain more columns or narrow the ranges", ErrTooManyPartitions, countString(p.total), o.MaxPartitions)
	}
	return p, nil
}

func countString(n int64) string {
	if n == math.MaxInt64 {
		return "over 9e18"
	}
	return strconv.FormatInt(n, 10)
}

func (x *ccol) selectValues(s *sel, con Constraint, has bool, desc bool) error {
	if (con.Lo.Set || con.Hi.Set || con.Overlap) && (x.Type == Enum || x.Type == Injected) {
		return fmt.Errorf("%w: column %q is %s: only = and IN apply", ErrInvalidConstraint, x.Name, x.Type)
	}
	if con.Overlap && x.Type != Date {
		return fmt.Errorf("%w: column %q: Overlap applies to date columns only", ErrInvalidConstraint, x.Name)
	}
	switch x.Type {
	case Injected:
		if !has || con.In == nil {
			return fmt.Errorf("%w: injected column %q needs an = or IN constraint (Athena: the WHERE clause must contain static equality conditions for injected columns)", ErrInvalidConstraint, x.Name)
		}
		s.explicit = true
		for _, v := range con.In {
			if err := ValidateValue(v, x.Rule); err != nil {
				return fmt.Errorf("column %q: %w", x.Name, err)
			}
			if !slices.Contains(s.strs, v) {
				s.ks = append(s.ks, int64(len(s.strs)))
				s.strs = append(s.strs, v)
			}
		}
		s.count = int64(len(s.ks))
		return nil
	case Enum:
		s.explicit = true
		for k, v := range x.Values {
			if con.In == nil || slices.Contains(con.In, v) {
				if !slices.Contains(x.Values[:k], v) {
					s.ks = append(s.ks, int64(k))
				}
			}
		}
		s.count = int64(len(s.ks))
		return nil
	}

	if x.Type == Integer {
		return x.selectInts(s, con, desc)
	}
	// Date: the range of k the bounds allow.
	if x.n == 0 {
		return nil
	}
	lo, hi := x.dateBounds(con)
	if con.In != nil {
		s.explicit = true
		for _, v := range con.In {
			k, ok := x.lookup(v)
			if ok && k >= lo && k <= hi && !slices.Contains(s.ks, k) {
				s.ks = append(s.ks, k)
			}
		}
		slices.Sort(s.ks)
		if desc {
			slices.Reverse(s.ks)
		}
		s.count = int64(len(s.ks))
		return nil
	}
	if lo > hi {
		return nil
	}
	s.lo, s.hi, s.desc, s.count = lo, hi, desc, hi-lo+1
	return nil
}

// selectInts selects integer values. It works in unsigned offsets from the
// range's minimum, so a range as wide as int64 (Athena allows any Java long)
// neither overflows nor loses its top values: the walk then counts from the
// first allowed value, s.base, and In lists keep their values in s.ints.
func (x *ccol) selectInts(s *sel, con Constraint, desc bool) error {
	step := uint64(x.step)
	lastOff := (uint64(x.imax) - uint64(x.imin)) / step * step // offset of the largest value
	loOff, hiOff := uint64(0), lastOff
	if con.Lo.Set {
		b := con.Lo.Int
		if con.Lo.Exclusive {
			if b == math.MaxInt64 {
				return nil
			}
			b++
		}
		if b > x.imin {
			d := uint64(b) - uint64(x.imin)
			q := d / step
			if d%step != 0 {
				q++
			}
			if q > lastOff/step {
				return nil
			}
			loOff = q * step
		}
	}
	if con.Hi.Set {
		b := con.Hi.Int
		if con.Hi.Exclusive {
			if b == math.MinInt64 {
				return nil
			}
			b--
		}
		if b < x.imin {
			return nil
		}
		hiOff = min(hiOff, (uint64(b)-uint64(x.imin))/step*step)
	}
	if loOff > hiOff {
		return nil
	}
	if con.In != nil {
		s.explicit = true
		for _, v := range con.In {
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || i < x.imin {
				continue
			}
			off := uint64(i) - uint64(x.imin)
			if off < loOff || off > hiOff || off%step != 0 || slices.Contains(s.ints, i) {
				continue
			}
			s.ints = append(s.ints, i)
		}
		slices.Sort(s.ints)
		if desc {
			slices.Reverse(s.ints)
		}
		for k := range s.ints {
			s.ks = append(s.ks, int64(k))
		}
		s.count = int64(len(s.ks))
		return nil
	}
	s.base = int64(uint64(x.imin) + loOff)
	s.lo, s.hi, s.desc = 0, satCount(hiOff-loOff, step)-1, desc
	s.count = s.hi + 1
	return nil
}

// dateBounds turns a constraint's Lo and Hi into the k range [lo, hi]
// (empty when lo > hi) by binary search over the monotone domain.
func (x *ccol) dateBounds(con Constraint) (lo, hi int64) {
	lo, hi = 0, x.n-1
	if con.Lo.Set {
		b := con.Lo.Time
		var pred func(k int64) bool
		switch {
		case con.Overlap: // span [t_k, t_k+1) reaches past b
			if con.Lo.Exclusive {
				b = b.Add(time.Nanosecond)
			}
			pred = func(k int64) bool { return x.dateAt(k + 1).After(b) }
		case con.Lo.Exclusive:
			pred = func(k int64) bool { return x.dateAt(k).After(b) }
		default:
			pred = func(k int64) bool { return !x.dateAt(k).Before(b) }
		}
		lo = firstK(0, x.n, pred)
	}
	if con.Hi.Set {
		b := con.Hi.Time
		// first k beyond the bound; hi is the one before it.
		var beyond func(k int64) bool
		if con.Hi.Exclusive {
			beyond = func(k int64) bool { return !x.dateAt(k).Before(b) }
		} else {
			beyond = func(k int64) bool { return x.dateAt(k).After(b) }
		}
		hi = firstK(0, x.n, beyond) - 1
	}
	return lo, hi
}

// lookup finds the k of a date column's In value, if the value is in the
// domain.
func (x *ccol) lookup(v string) (int64, bool) {
	t, ok := x.df.parse(v, x.start.Location())
	if !ok {
		return 0, false
	}
	k := firstK(0, x.n, func(k int64) bool { return !x.dateAt(k).Before(t) })
	if k < x.n && x.dateAt(k).Equal(t) {
		return k, true
	}
	return 0, false
}

// appendValue renders the value at k.
func (x *ccol) appendValue(dst []byte, k int64, s *sel) []byte {
	switch x.Type {
	case Injected:
		return append(dst, s.strs[k]...)
	case Enum:
		return append(dst, x.Values[k]...)
	case Integer:
		v := int64(uint64(s.base) + uint64(k)*uint64(x.step))
		if s.explicit {
			v = s.ints[k]
		}
		if v < 0 {
			dst = append(dst, '-')
			if v == math.MinInt64 {
				return append(dst, "9223372036854775808"...)
			}
			v = -v
		}
		return appendUint(dst, uint64(v), x.Digits)
	default:
		if x.civil { // Fast path: civil day arithmetic.
			y, m, d := civilFromDays(x.startDay + k*x.dayStep)
			return x.df.appendFields(dst, int(y), time.Month(m), int(d), 0, 0, 0, 0)
		}
		return x.df.appendFormat(dst, x.dateAt(k)) // Slow path.
	}
}

// appendUint appends v, zero-padded to width digits.
func appendUint(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	for n := len(buf) - i; n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, buf[i:]...)
}

// arena hands out strings carved from large byte chunks and []string
// windows carved from large slices, so a walk allocates O(log n) times
// instead of once or twice per partition (STYLE.md point 11).
//
// INVARIANT: bytes below len(bytes) are never written again once a string
// points at them; a full chunk is abandoned (the strings keep it alive),
// never reused or copied into. That is what makes unsafe.String sound here.
type arena struct {
	bytes []byte
	strs  []string
}

func (a *arena) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.bytes)-len(a.bytes) < len(b) {
		a.bytes = make([]byte, 0, max(len(b), min(2*cap(a.bytes), 64<<10), 512))
	}
	n := len(a.bytes)
	a.bytes = append(a.bytes, b...)
	return unsafe.String(&a.bytes[n], len(b))
}

// reserve sizes the next chunks for what the walk will need, capped so a
// huge walk still allocates in bounded steps.
func (a *arena) reserve(bytes, strs int64) {
	a.bytes = make([]byte, 0, min(bytes, 256<<10))
	a.strs = make([]string, 0, min(strs, 16<<10))
}

func (a *arena) window(n int) []string {
	if cap(a.strs)-len(a.strs) < n {
		a.strs = make([]string, 0, max(n, min(2*cap(a.strs), 4096), 32))
	}
	l := len(a.strs)
	a.strs = a.strs[:l+n]
	return a.strs[l : l+n : l+n]
}

// run walks the product of the selections like an odometer, last column
// fastest, re-rendering a column's value only when it changes.
func (p *plan) run(yield func(Partition, error) bool) {
	if p.total == 0 {
		return
	}
	ncol := len(p.sels)
	pos := make([]int64, ncol)
	cur := make([]string, ncol)
	var ar arena
	scratch := make([]byte, 0, 256)
	render := func(i int) {
		scratch = p.cc.cols[i].appendValue(scratch[:0], p.sels[i].at(pos[i]), &p.sels[i])
		cur[i] = ar.keep(scratch)
	}
	// Size the arena from the first partition: the values of the
	// innermost column plus the location, times the number of partitions.
	est := int64(0)
	for _, part := range p.cc.tmpl {
		est += int64(len(part.lit))
	}
	for i := range ncol {
		render(i)
		est += 2 * int64(len(cur[i]))
	}
	total := min(p.total, 1<<20) // the caps below are far smaller; avoid overflow
	ar.reserve(est*total+64, int64(ncol)*total)
	for i := range ncol {
		render(i)
	}
	for {
		scratch = scratch[:0]
		for _, part := range p.cc.tmpl {
			if !part.ph {
				scratch = append(scratch, part.lit...)
			} else {
				scratch = append(scratch, cur[part.col]...)
			}
		}
		vals := ar.window(ncol)
		copy(vals, cur)
		if !yield(Partition{Values: vals, Location: ar.keep(scratch)}, nil) {
			return
		}
		i := ncol - 1
		for ; i >= 0; i-- {
			pos[i]++
			if pos[i] < p.sels[i].count {
				render(i)
				break
			}
			pos[i] = 0
			render(i)
		}
		if i < 0 {
			return
		}
	}
}
