package loglake

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits of tenant ids. They sit in one place, with their reasons.
const (
	// MaxTenantLen is the longest tenant id accepted, in bytes. 64 keeps a
	// partition key well inside S3's 1,024-byte key limit with room for the
	// object names under it, and is longer than any UUID or account number.
	MaxTenantLen = 64
)

// ValidateTenant reports whether id can be used as a tenant id. A tenant id
// becomes part of object keys, so its charset is small and fixed:
//
//   - 1 to [MaxTenantLen] bytes;
//   - ASCII letters, digits, '_', '-' and '.';
//   - the first byte is a letter or a digit;
//   - no "..".
//
// Everything that could change a key's meaning — '/', '\', '=', '%', "..",
// control characters, spaces, non-ASCII look-alikes such as a full-width
// 'Ａ' — is rejected. Tenant ids are case-sensitive, as S3 keys are. The
// error wraps [ErrInvalidTenant] and quotes the id.
func ValidateTenant(id string) error {
	if reason := tenantProblem(id); reason != "" {
		return fmt.Errorf("%w %s: %s", ErrInvalidTenant, quoteShort(id), reason)
	}
	return nil
}

// tenantProblem returns why id is not a valid tenant id, or "" if it is.
// It does not allocate.
func tenantProblem(id string) string {
	if id == "" {
		return "empty"
	}
	if len(id) > MaxTenantLen {
		return "longer than " + strconv.Itoa(MaxTenantLen) + " bytes"
	}
	if !isAlnum(id[0]) {
		return "must start with a letter or a digit"
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c), c == '_', c == '-':
		case c == '.':
			if id[i-1] == '.' {
				return `contains ".."`
			}
		default:
			return "byte " + strconv.QuoteRuneToASCII(rune(c)) + " at offset " + strconv.Itoa(i) + " is outside [A-Za-z0-9._-]"
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// quoteShort quotes s for an error message, cutting it to a readable length.
func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// Day is a civil date — a year, month and day with no time zone — the "dt"
// of a partition. Which instants fall on a Day depends on the lake's time
// zone; see [DayOf] and [Day.Start].
//
// The zero Day is not valid; see [Day.IsValid].
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDay returns the Day year-month-day. It does not normalize: use
// [Day.IsValid] to check the result, or [DayOf] to derive a Day from a time.
func NewDay(year int, month time.Month, day int) Day {
	return Day{Year: year, Month: month, Day: day}
}

// DayOf returns the civil date of t in loc (UTC when loc is nil).
func DayOf(t time.Time, loc *time.Location) Day {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Day{y, m, d}
}

// ParseDay parses a day in the form YYYY-MM-DD. The error wraps
// [ErrInvalidDay].
func ParseDay(s string) (Day, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Day{}, fmt.Errorf("%w %s: want YYYY-MM-DD", ErrInvalidDay, quoteShort(s))
	}
	y, ok1 := atoiDigits(s[0:4])
	m, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	day := Day{y, time.Month(m), d}
	if !ok1 || !ok2 || !ok3 || !day.IsValid() {
		return Day{}, fmt.Errorf("%w %s: want YYYY-MM-DD", ErrInvalidDay, quoteShort(s))
	}
	return day, nil
}

func atoiDigits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// IsValid reports whether d is a real date between years 1 and 9999 (the
// range YYYY-MM-DD can spell).
func (d Day) IsValid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Month, d.Year)
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// String returns d as YYYY-MM-DD.
func (d Day) String() string {
	b, _ := d.AppendText(make([]byte, 0, 10))
	return string(b)
}

// AppendText appends d as YYYY-MM-DD to dst and returns the extended slice.
// It never fails; it implements [encoding.TextAppender].
func (d Day) AppendText(dst []byte) ([]byte, error) {
	dst = appendPadded(dst, d.Year, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int(d.Month), 2)
	dst = append(dst, '-')
	return appendPadded(dst, d.Day, 2), nil
}

func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(dst, buf[i:]...)
}

// MarshalText implements [encoding.TextMarshaler].
func (d Day) MarshalText() ([]byte, error) { return d.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Start returns the first instant of d in loc (UTC when loc is nil). On a day
// that starts inside a daylight-saving gap, it is the first instant that
// exists.
func (d Day) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the day n days after d (before, for negative n).
func (d Day) AddDays(n int) Day {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	y, m, dd := t.Date()
	return Day{y, m, dd}
}

// DaysSince returns the number of days from e to d (negative if d is
// before e).
func (d Day) DaysSince(e Day) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Hours() / 24)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Day) Compare(e Day) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is before e.
func (d Day) Before(e Day) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Day) After(e Day) bool { return d.Compare(e) > 0 }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// The areas of a lake: the first segment of every key loglake writes.
const (
	AreaRaw       = "raw"       // hot: formatted NDJSON records, one object per flush
	AreaCompacted = "compacted" // cold: Parquet files and the manifests that commit them
	AreaErrors    = "errors"    // dead letters: original bytes and the reason
	AreaSpill     = "spill"     // accepted records not yet in their partition
)

// Hive-style key segments.
const (
	tenantKey = "tenant_id="
	dtKey     = "dt="
)

// Partition is one tenant's records of one day: the unit in which loglake
// stores, compacts and prunes.
type Partition struct {
	Tenant string
	Day    Day
}

// Validate reports whether p's tenant id and day are valid. The error wraps
// [ErrInvalidTenant] or [ErrInvalidDay].
func (p Partition) Validate() error {
	if err := ValidateTenant(p.Tenant); err != nil {
		return err
	}
	if !p.Day.IsValid() {
		return fmt.Errorf("%w: %d-%d-%d", ErrInvalidDay, p.Day.Year, p.Day.Month, p.Day.Day)
	}
	return nil
}

// String returns the partition key, as [Partition.Key].
func (p Partition) String() string { return p.Key() }

// Key returns the Hive-style partition key "tenant_id=<T>/dt=<YYYY-MM-DD>".
// It does not validate p; keys built from a Partition that came from
// [ParsePartitionKey] or passed [Partition.Validate] are safe.
func (p Partition) Key() string {
	return string(p.AppendKey(make([]byte, 0, len(tenantKey)+len(p.Tenant)+1+len(dtKey)+10)))
}

// AppendKey appends the partition key to dst and returns the extended slice.
func (p Partition) AppendKey(dst []byte) []byte {
	dst = append(dst, tenantKey...)
	dst = append(dst, p.Tenant...)
	dst = append(dst, '/')
	dst = append(dst, dtKey...)
	dst, _ = p.Day.AppendText(dst)
	return dst
}

// Prefix returns the prefix under which area holds p's objects, with a
// trailing slash: for example "raw/tenant_id=acme/dt=2026-11-23/".
func (p Partition) Prefix(area string) string {
	b := make([]byte, 0, len(area)+1+len(tenantKey)+len(p.Tenant)+1+len(dtKey)+11)
	return string(p.AppendPrefix(b, area))
}

// AppendPrefix appends [Partition.Prefix] to dst and returns the extended
// slice.
func (p Partition) AppendPrefix(dst []byte, area string) []byte {
	dst = append(dst, area...)
	dst = append(dst, '/')
	dst = p.AppendKey(dst)
	return append(dst, '/')
}

// TenantPrefix returns the prefix under which area holds all of tenant's
// partitions: for example "raw/tenant_id=acme/". The tenant is not
// validated.
func TenantPrefix(area, tenant string) string {
	return area + "/" + tenantKey + tenant + "/"
}

// ParsePartitionKey parses "tenant_id=<T>/dt=<YYYY-MM-DD>", with or without a
// trailing slash, validating the tenant and the day. The error wraps
// [ErrInvalidKey] and, where it applies, [ErrInvalidTenant] or
// [ErrInvalidDay].
func ParsePartitionKey(key string) (Partition, error) {
	s := strings.TrimSuffix(key, "/")
	rest, ok := strings.CutPrefix(s, tenantKey)
	if !ok {
		return Partition{}, fmt.Errorf("%w %s: want tenant_id=<T>/dt=<YYYY-MM-DD>", ErrInvalidKey, quoteShort(key))
	}
	tenant, dt, ok := strings.Cut(rest, "/"+dtKey)
	if !ok {
		return Partition{}, fmt.Errorf("%w %s: want tenant_id=<T>/dt=<YYYY-MM-DD>", ErrInvalidKey, quoteShort(key))
	}
	if err := ValidateTenant(tenant); err != nil {
		return Partition{}, fmt.Errorf("%w %s: %w", ErrInvalidKey, quoteShort(key), err)
	}
	day, err := ParseDay(dt)
	if err != nil {
		return Partition{}, fmt.Errorf("%w %s: %w", ErrInvalidKey, quoteShort(key), err)
	}
	return Partition{Tenant: tenant, Day: day}, nil
}

// ObjectKey is a key of a partition's object, split into its parts.
type ObjectKey struct {
	Area      string    // AreaRaw or AreaCompacted
	Partition Partition // the partition the object belongs to
	Name      string    // the rest of the key after the partition prefix, e.g. "w1-000001.ndjson.zst" or "_manifest/00000003.json"
}

// ParseObjectKey splits a key of the raw or compacted area
// ("<area>/tenant_id=<T>/dt=<D>/<name>"). The error wraps [ErrInvalidKey].
func ParseObjectKey(key string) (ObjectKey, error) {
	area, rest, ok := strings.Cut(key, "/")
	if !ok || (area != AreaRaw && area != AreaCompacted) {
		return ObjectKey{}, fmt.Errorf("%w %s: not under %s/ or %s/", ErrInvalidKey, quoteShort(key), AreaRaw, AreaCompacted)
	}
	// tenant_id=<T>/dt=YYYY-MM-DD/<name>
	i := strings.Index(rest, "/"+dtKey)
	if i < 0 || len(rest) < i+1+len(dtKey)+10+2 || rest[i+1+len(dtKey)+10] != '/' {
		return ObjectKey{}, fmt.Errorf("%w %s: want %s/tenant_id=<T>/dt=<YYYY-MM-DD>/<name>", ErrInvalidKey, quoteShort(key), area)
	}
	end := i + 1 + len(dtKey) + 10
	p, err := ParsePartitionKey(rest[:end])
	if err != nil {
		return ObjectKey{}, err
	}
	return ObjectKey{Area: area, Partition: p, Name: rest[end+1:]}, nil
}
