package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/envelope"
	"github.com/loglake/loglake/projection"
)

// ForeignLayout describes logs that another writer stored in a bucket — Amazon
// Data Firehose with dynamic partitioning, typically — so that an [Engine]
// made by [NewForeign] can search them where they are: where each
// partition's objects are (a partition projection), and what the objects
// hold (JSON envelopes or bare records, one value after another, as
// loglake's ingest accepts them).
//
// The zero value of every field but Projection works.
type ForeignLayout struct {
	// Projection gives the partitions and their locations, for example
	//
	//	projection.FromFirehosePrefix("", "logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", nil)
	//
	// It must have the tenant column (see TenantColumn) and either a date
	// column of daily or finer granularity or integer columns named year,
	// month and day (FromFirehosePrefix's names; hour and minute columns
	// may follow). Other columns must be enums or integers; another
	// injected column is an error, since a query could not constrain it.
	// Its locations must end with "/" and the tenant value must fill a
	// whole path segment of them, so that one tenant's location is never a
	// prefix of another's. A location that starts with scheme://host/
	// (s3://bucket/) is read from the bucket without that part; otherwise
	// it is a key prefix of the bucket. The projection's time zone (UTC
	// for Firehose) is the zone of dt. Required.
	Projection *projection.Config

	// TenantColumn is the projection column whose values are tenant ids:
	// a query's tenant_id = 'T' constrains it, and records read as tenant
	// T. Default: "tenant_id" if the projection has that column, else its
	// only injected column.
	TenantColumn string

	// TenantField, TimestampField and LogField name the envelope's fields:
	// the tenant id (of the envelope; records take their partition's),
	// the event time, and the array of records. Default: "tenant_id",
	// "timestamp", "log", as loglake's lake settings.
	TenantField, TimestampField, LogField string

	// TimestampFormats are the encodings of the event time, as the lake
	// setting of that name. Default: RFC 3339, epoch seconds and epoch
	// milliseconds.
	TimestampFormats []loglake.TimestampFormat

	// CarryFields are envelope fields copied into each of its records that
	// does not have the field itself, as ingest's Options.CarryFields.
	// Default: none. At most 64.
	CarryFields []string

	// EventTime says that the projection's time columns are the records'
	// event time (a partition key taken from the records' timestamp), so
	// that a query's timestamp range selects partitions exactly, as dt
	// does. Default: false: the time columns are Firehose's
	// !{timestamp:…}, the time a record arrived, which can be any time
	// after the event (a device uploads its logs when it comes online);
	// then a timestamp range selects partitions only within MaxDelay.
	EventTime bool

	// MaxDelay bounds how far a record's arrival time (its partition's
	// time) may lie from its event time, either way (late uploads, clock
	// skew), when EventTime is false: a timestamp range [From, To] then
	// reads the partitions of [From-MaxDelay, To+MaxDelay]. Default: 0:
	// a timestamp range does not narrow the partitions at all, only dt
	// constraints do, so no late record is ever missed. Negative is
	// invalid.
	MaxDelay time.Duration
}

// foreignSource is a foreign engine's bucket and resolved layout.
type foreignSource struct {
	bucket    *blob.Bucket
	lay       ForeignLayout
	proj      *projection.Config
	tenantCol string
	dateCol   string   // the date column, or ""
	split     []string // year, month, day[, hour[, minute]] integer columns, or nil
	scfg      envelope.Config
}

// NewForeign returns an Engine over the logs in bucket laid out as layout
// describes (see [ForeignLayout]). Raw objects that hold envelopes, as
// Firehose delivers them, are split into records while they are scanned,
// so an existing Firehose lake described by a projection is searched
// directly, without loglake's ingest or compaction.
//
// The engine only reads: it lists inside each partition location a query
// selects (never the bucket, to find partitions) and reads the objects
// there. The caller keeps ownership of bucket. Objects are decoded by
// extension — .gz gzip, .zst zstd — or, without a known extension, by
// their first bytes (Firehose writes gzip objects, or uncompressed ones
// without an extension); .snappy, .zip and .parquet objects are errors.
// A JSON value that is malformed or not an object is skipped and counted
// in [Stats.ValuesDropped].
//
// Queries are scoped to tenants as on a lake (see "Tenant scope" in the
// package doc): the tenant column is constrained by tenant_id = 'T' and
// records read as their partition's tenant. Options.AllowCrossTenant
// works only when the tenant column is an enum, whose values are the
// tenants; an injected one would need a LIST of the bucket. Every
// invalid field of layout or opts is reported in one error wrapping
// [loglake.ErrInvalidOptions].
func NewForeign(bucket *blob.Bucket, layout ForeignLayout, opts *Options) (*Engine, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var errs []error
	if err := o.validate(); err != nil {
		errs = append(errs, err)
	}
	if bucket == nil {
		errs = append(errs, errors.New("query: nil bucket"))
	}
	src, err := newForeignSource(bucket, layout)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", loglake.ErrInvalidOptions, errors.Join(errs...))
	}
	o = o.withDefaults()
	loc := src.proj.TimeZone
	if loc == nil {
		loc = time.UTC
	}
	return &Engine{
		src: src,
		settings: loglake.Settings{
			TimeZone:         loc.String(),
			TenantField:      src.lay.TenantField,
			TimestampField:   src.lay.TimestampField,
			TimestampFormats: src.lay.TimestampFormats,
		},
		loc:     loc,
		opts:    o,
		slots:   map[string]chan struct{}{},
		running: map[*Rows]struct{}{},
	}, nil
}

// newForeignSource fills the layout's defaults and checks it.
func newForeignSource(bucket *blob.Bucket, l ForeignLayout) (*foreignSource, error) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	l.CarryFields = slices.Clone(l.CarryFields)
	l.TimestampFormats = slices.Clone(l.TimestampFormats)
	if l.TenantField == "" {
		l.TenantField = "tenant_id"
	}
	if l.TimestampField == "" {
		l.TimestampField = TimeColumn
	}
	if l.LogField == "" {
		l.LogField = "log"
	}
	if len(l.TimestampFormats) == 0 {
		l.TimestampFormats = []loglake.TimestampFormat{loglake.TimestampRFC3339, loglake.TimestampEpochSecond, loglake.TimestampEpochMilli}
	}
	if l.MaxDelay < 0 {
		bad("MaxDelay = %v: negative", l.MaxDelay)
	}
	if len(l.CarryFields) > envelope.MaxCarryFields {
		bad("CarryFields: %d fields, at most %d", len(l.CarryFields), envelope.MaxCarryFields)
	}
	for i, f := range l.CarryFields {
		switch {
		case f == "" || strings.ContainsAny(f, "\"\\") || strings.ContainsFunc(f, func(r rune) bool { return r < 0x20 }):
			bad("CarryFields %q: want a name without quotes, backslashes or control characters", f)
		case f == l.TenantField || f == l.TimestampField || f == l.LogField:
			bad("CarryFields %q: the tenant, timestamp and log fields cannot be carried", f)
		case slices.Contains(l.CarryFields[:i], f):
			bad("CarryFields %q: named twice", f)
		}
	}
	src := &foreignSource{bucket: bucket, lay: l}
	c := l.Projection
	if c == nil {
		bad("Projection: nil")
	} else if err := c.Validate(); err != nil {
		bad("Projection: %v", err)
	} else if c.Disabled {
		bad("Projection: disabled")
	} else {
		src.proj = c
		src.resolveColumns(bad)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("query: ForeignLayout: %s", strings.Join(errs, "; "))
	}
	src.scfg = envelope.Config{TenantField: l.TenantField, TimestampField: l.TimestampField, LogField: l.LogField, CarryFields: l.CarryFields}
	return src, nil
}

// resolveColumns finds the tenant and time columns of the projection and
// checks the location template.
func (s *foreignSource) resolveColumns(bad func(string, ...any)) {
	c := s.proj
	byName := map[string]projection.Column{}
	var injected []string
	for _, col := range c.Columns {
		byName[col.Name] = col
		if col.Type == projection.Injected {
			injected = append(injected, col.Name)
		}
	}
	s.tenantCol = s.lay.TenantColumn
	if s.tenantCol == "" {
		if _, ok := byName[TenantColumn]; ok {
			s.tenantCol = TenantColumn
		} else if len(injected) == 1 {
			s.tenantCol = injected[0]
		}
	}
	tc, ok := byName[s.tenantCol]
	switch {
	case s.tenantCol == "":
		bad("TenantColumn: not set, and the projection has no tenant_id column and not exactly one injected column")
	case !ok:
		bad("TenantColumn %q: not a column of the projection", s.tenantCol)
	case tc.Type != projection.Injected && tc.Type != projection.Enum:
		bad("TenantColumn %q: a %v column; want injected or enum", s.tenantCol, tc.Type)
	}
	for _, name := range injected {
		if name != s.tenantCol {
			bad("Projection: injected column %q: a query cannot constrain it", name)
		}
	}
	for _, col := range c.Columns {
		if col.Type != projection.Date {
			continue
		}
		switch {
		case s.dateCol != "":
			bad("Projection: two date columns, %q and %q", s.dateCol, col.Name)
		case col.Unit < projection.Days:
			bad("Projection: date column %q: interval unit %v is coarser than a day; dt needs daily or finer partitions", col.Name, col.Unit)
		case col.Unit == projection.Days && col.Interval > 1:
			bad("Projection: date column %q: an interval of %d days; dt needs daily or finer partitions", col.Name, col.Interval)
		}
		s.dateCol = col.Name
	}
	if s.dateCol == "" {
		for _, name := range []string{"year", "month", "day", "hour", "minute"} {
			col, ok := byName[name]
			if !ok {
				break
			}
			if col.Type != projection.Integer {
				bad("Projection: column %q: a %v column; want integer", name, col.Type)
			}
			s.split = append(s.split, name)
		}
		if len(s.split) < 3 {
			bad("Projection: no date column and no year, month and day integer columns: records need a day")
			s.split = nil
		}
	}
	tmpl := stripScheme(c.LocationTemplate)
	if !strings.HasSuffix(tmpl, "/") {
		bad("Projection: location template %q does not end with \"/\"", c.LocationTemplate)
	}
	ph := "${" + s.tenantCol + "}/"
	if s.tenantCol != "" && !strings.HasPrefix(tmpl, ph) && !strings.Contains(tmpl, "/"+ph) {
		bad("Projection: location template %q: the tenant column must fill a whole path segment (…/${%s}/…)", c.LocationTemplate, s.tenantCol)
	}
}

// stripScheme removes a leading scheme://host/ from a location.
func stripScheme(loc string) string {
	_, rest, ok := strings.Cut(loc, "://")
	if !ok {
		return loc
	}
	_, path, _ := strings.Cut(rest, "/")
	return path
}

// enumerateForeign fills p.parts and p.locs from the foreign projection:
// for each tenant and each day the query's dt (and, per the layout,
// timestamp) constraints allow, the projection's partitions of that day.
// Days without a bound go back RetentionDays from NOW. Nothing is listed.
func (e *Engine) enumerateForeign(p *plan) error {
	s := e.src
	loc := e.loc
	tenants := p.scope.Tenants
	if p.scope.All {
		col := s.proj.Columns[slices.IndexFunc(s.proj.Columns, func(c projection.Column) bool { return c.Name == s.tenantCol })]
		if col.Type != projection.Enum {
			return fmt.Errorf("query: a foreign layout whose tenant column %q is injected cannot list its tenants; constrain %s: %w", s.tenantCol, TenantColumn, ErrUnscopedQuery)
		}
		for _, v := range col.Values {
			if loglake.ValidateTenant(v) == nil {
				tenants = append(tenants, v)
			}
		}
	}
	dr := p.q.DayRange()
	win := p.partTR // the partitions' time window
	if !win.From.IsZero() {
		if d := loglake.DayOf(win.From, loc); !dr.First.IsValid() || d.After(dr.First) {
			dr.First = d
		}
	}
	if !win.To.IsZero() {
		if d := loglake.DayOf(win.To, loc); !dr.Last.IsValid() || d.Before(dr.Last) {
			dr.Last = d
		}
	}
	now := loglake.DayOf(e.opts.Now(), loc)
	if oldest := now.AddDays(-e.opts.RetentionDays); !dr.First.IsValid() || dr.First.Before(oldest) {
		dr.First = oldest
	}
	if !dr.Last.IsValid() || dr.Last.After(now) {
		dr.Last = now
	}
	if len(tenants) == 0 || dr.Empty() || (!win.From.IsZero() && !win.To.IsZero() && win.From.After(win.To)) {
		p.empty = true
		return nil
	}
	var days []loglake.Day
	for d := dr.First; !d.After(dr.Last); d = d.AddDays(1) {
		if dr.Days != nil {
			if _, ok := slices.BinarySearchFunc(dr.Days, d, loglake.Day.Compare); !ok {
				continue
			}
		}
		days = append(days, d)
	}
	if n := int64(len(days)) * int64(len(tenants)); n > int64(e.opts.MaxPartitions) {
		return fmt.Errorf("query: plan: %d tenant-days, limit %d: %w", n, e.opts.MaxPartitions, projection.ErrTooManyPartitions)
	}
	eo := &projection.EnumerateOptions{Now: e.opts.Now, MaxPartitions: e.opts.MaxPartitions}
	seen := map[string]bool{}
	for _, t := range tenants {
		for _, d := range days {
			cons := map[string]projection.Constraint{s.tenantCol: projection.Eq(t)}
			// The day's part of the window: [from, to).
			from, to := d.Start(loc), d.AddDays(1).Start(loc)
			if !win.From.IsZero() && win.From.After(from) {
				from = win.From
			}
			if !win.To.IsZero() && win.To.Before(to) {
				to = win.To.Add(time.Nanosecond)
			}
			if !from.Before(to) {
				continue
			}
			if s.dateCol != "" {
				cons[s.dateCol] = projection.Overlapping(from, to)
			} else {
				s.splitConstraints(cons, d, from, to, loc)
			}
			for pp, err := range s.proj.Enumerate(cons, eo) {
				if err != nil {
					return fmt.Errorf("query: plan: %w", err)
				}
				key := stripScheme(pp.Location)
				if seen[key] {
					continue // a partition spanning midnight: read once, as its first day
				}
				seen[key] = true
				p.parts = append(p.parts, loglake.Partition{Tenant: t, Day: d})
				p.locs = append(p.locs, key)
				if len(p.parts) > e.opts.MaxPartitions {
					return fmt.Errorf("query: plan: more than %d partitions: %w", e.opts.MaxPartitions, projection.ErrTooManyPartitions)
				}
			}
		}
	}
	return nil
}

// splitConstraints constrains year, month and day to d, and hour (and
// minute) to the window [from, to) within d.
func (s *foreignSource) splitConstraints(cons map[string]projection.Constraint, d loglake.Day, from, to time.Time, loc *time.Location) {
	y, m, dd := d.Start(loc).Date()
	cons["year"] = projection.IntRange(int64(y), int64(y))
	cons["month"] = projection.IntRange(int64(m), int64(m))
	cons["day"] = projection.IntRange(int64(dd), int64(dd))
	if len(s.split) < 4 {
		return
	}
	a, b := from.In(loc), to.Add(-time.Nanosecond).In(loc)
	if a.Day() != dd {
		a = d.Start(loc)
	}
	if b.Day() != dd {
		b = d.AddDays(1).Start(loc).Add(-time.Nanosecond)
	}
	cons["hour"] = projection.IntRange(int64(a.Hour()), int64(b.Hour()))
	if len(s.split) >= 5 && a.Hour() == b.Hour() {
		cons["minute"] = projection.IntRange(int64(a.Minute()), int64(b.Minute()))
	}
}

// foreignView lists the objects of a foreign partition location as a View
// of raw objects (nothing is ever compacted there).
func (x *execution) foreignView(ctx context.Context, i int) (*compact.View, error) {
	b := x.e.src.bucket
	v := &compact.View{Partition: x.p.parts[i]}
	it := b.List(&blob.ListOptions{Prefix: x.p.locs[i]})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			if err == io.EOF {
				return v, nil
			}
			return nil, fmt.Errorf("query: list %s: %w", x.p.locs[i], err)
		}
		if obj.IsDir || strings.HasSuffix(obj.Key, "/") || obj.Size == 0 {
			continue // a folder marker or an empty object
		}
		v.Raw = append(v.Raw, compact.ObjectRef{Key: obj.Key, Size: obj.Size})
	}
}
