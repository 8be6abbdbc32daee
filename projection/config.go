package projection

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is a partition column's projection type (projection.<col>.type).
type Type uint8

// The four projection types Athena supports.
const (
	// Enum columns take one of a fixed list of values (.values).
	Enum Type = iota + 1
	// Integer columns take every interval-th integer of an inclusive range
	// (.range, .interval, .digits).
	Integer
	// Date columns take every interval-th instant of an inclusive range,
	// rendered with a pattern (.range, .format, .interval, .interval.unit).
	Date
	// Injected columns take the values the query gives (= or IN); they have
	// no other property.
	Injected
)

var typeNames = [...]string{"", "enum", "integer", "date", "injected"}

// String returns the property spelling ("date").
func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// ValueRule says which values an enum or injected column accepts beyond the
// rules every value obeys (see [ValidateValue]). It is a loglake setting,
// not an Athena property, and is not rendered by [Config.Properties].
type ValueRule uint8

const (
	// PathSafe, the default, accepts any value that cannot change the shape
	// of a location: not empty, no '/', '\', "..", '=', '%', control
	// characters or invalid UTF-8.
	PathSafe ValueRule = iota
	// TenantID accepts loglake tenant ids only: 1-64 characters of
	// [A-Za-z0-9._-], starting with a letter or digit, no "..".
	TenantID
)

// Column is the projection of one partition column. Only the fields of its
// Type are meaningful; [Parse] rejects properties that do not belong to it.
type Column struct {
	Name string
	Type Type

	// Values lists an Enum column's values, in order (.values).
	Values []string

	// Range holds the two bounds of an Integer or Date column as written in
	// .range, white space included (Athena ignores white space around
	// integers and around NOW expressions but not inside date literals).
	Range [2]string
	// Format is a Date column's java.time DateTimeFormatter pattern
	// (.format).
	Format string
	// Interval is the step between values of an Integer or Date column
	// (.interval). Parse fills the default, 1.
	Interval int64
	// Unit is a Date column's interval unit (.interval.unit). Parse fills the
	// default: DAYS or MONTHS when the format's finest field is a day or a
	// month; for finer formats Athena requires the property.
	Unit Unit
	// Digits zero-pads an Integer column's values to this width (.digits);
	// 0 means no padding.
	Digits int

	// Rule restricts an Enum or Injected column's values (loglake only).
	Rule ValueRule
}

// Config is a table's partition projection: its columns in PARTITIONED BY
// order and the location template. Build one with [Parse], [Default] or by
// hand; [Config.Validate] checks it, and [Config.Enumerate] validates it on
// every call, so a hand-built Config cannot bypass the checks.
//
// A Config is plain data: safe for concurrent use as long as nobody mutates
// it.
type Config struct {
	// Disabled mirrors projection.enabled=false: Enumerate refuses to run.
	Disabled bool
	// Columns are the partition columns, in PARTITIONED BY order; it is also
	// the order of Partition.Values and of enumeration (first column
	// outermost).
	Columns []Column
	// LocationTemplate is storage.location.template: a location with a
	// ${col} placeholder for every column (Athena requires each one). Empty
	// means Athena's default, Hive-style "col=value/" segments; the rendered
	// locations are then relative to the table's LOCATION.
	LocationTemplate string
	// TimeZone is the zone NOW is taken in and dates are rendered in
	// (loglake only, not rendered as a property). Default: UTC, as Athena.
	TimeZone *time.Location
}

// Errors. Each error this package returns wraps one of them (errors.Is),
// and names the property, column or value at fault.
var (
	// ErrInvalidConfig: a property is unknown, malformed or inconsistent
	// with others; the error is a *PropertyError.
	ErrInvalidConfig = errors.New("projection: invalid configuration")
	// ErrInvalidConstraint: a constraint names an unknown column, bounds a
	// column that cannot be bounded, or an injected column has no = or IN.
	ErrInvalidConstraint = errors.New("projection: invalid constraint")
	// ErrInvalidValue: an injected (or enum) value could change the shape of
	// a location ("/", "..", control characters, ...).
	ErrInvalidValue = errors.New("projection: invalid partition value")
	// ErrTooManyPartitions: the constraints select more partitions than
	// EnumerateOptions.MaxPartitions; nothing was enumerated.
	ErrTooManyPartitions = errors.New("projection: too many partitions")
)

// PropertyError reports a bad table property. It wraps ErrInvalidConfig.
type PropertyError struct {
	Property string // e.g. "projection.dt.format"
	Value    string
	Reason   string
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("projection: property %q = %q: %s", e.Property, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *PropertyError) Unwrap() error { return ErrInvalidConfig }

func propErr(prop, value, format string, args ...any) error {
	return &PropertyError{Property: prop, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Property names.
const (
	PropEnabled  = "projection.enabled"
	PropTemplate = "storage.location.template"
	propPrefix   = "projection."
)

// suffixes of projection.<col>.<suffix>, in rendering order.
var suffixOrder = []string{"type", "values", "range", "format", "interval", "interval.unit", "digits"}

// allowed[type] lists the suffixes a type accepts.
var allowed = map[Type]map[string]bool{
	Enum:     {"type": true, "values": true},
	Integer:  {"type": true, "range": true, "interval": true, "digits": true},
	Date:     {"type": true, "range": true, "format": true, "interval": true, "interval.unit": true},
	Injected: {"type": true},
}

// Parse reads a table's projection properties (TBLPROPERTIES or Glue table
// parameters). partitionCols is the table's PARTITIONED BY column list; every
// one needs a projection.<col>.type, and projection properties for other
// columns are an error. When partitionCols is nil, the columns are those the
// properties name, in the order of their first ${col} in the template, then
// by name.
//
// Keys outside "projection." and "storage.location.template" are not
// projection properties and are ignored. Every problem is reported: the
// error joins one *PropertyError per bad property.
func Parse(props map[string]string, partitionCols []string) (*Config, error) {
	var errs []error
	c := &Config{}
	en, ok := props[PropEnabled]
	switch {
	case !ok:
		errs = append(errs, propErr(PropEnabled, "", "missing: projection must be enabled explicitly"))
	case strings.EqualFold(strings.TrimSpace(en), "true"):
	case strings.EqualFold(strings.TrimSpace(en), "false"):
		c.Disabled = true
	default:
		errs = append(errs, propErr(PropEnabled, en, "must be true or false"))
	}
	c.LocationTemplate = props[PropTemplate]

	// Group projection.<col>.<suffix> by column. Column names never contain
	// '.', so the first dot after the prefix ends the name.
	byCol := map[string]map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if !strings.HasPrefix(k, propPrefix) || k == PropEnabled {
			continue
		}
		name, suffix, ok := strings.Cut(k[len(propPrefix):], ".")
		if !ok || !slices.Contains(suffixOrder, suffix) {
			errs = append(errs, propErr(k, props[k], "unknown property (want projection.<column>.{%s})", strings.Join(suffixOrder, ",")))
			continue
		}
		if byCol[name] == nil {
			byCol[name] = map[string]string{}
		}
		byCol[name][suffix] = props[k]
	}

	cols := partitionCols
	if cols == nil {
		cols = columnOrder(c.LocationTemplate, byCol)
	}
	for _, name := range cols {
		p, ok := byCol[name]
		delete(byCol, name)
		if !ok || p["type"] == "" {
			errs = append(errs, propErr(propPrefix+name+".type", "", "missing: every partition column needs a projection type"))
			continue
		}
		col, cerrs := parseColumn(name, p)
		errs = append(errs, cerrs...)
		c.Columns = append(c.Columns, col)
	}
	for _, name := range slices.Sorted(maps.Keys(byCol)) {
		errs = append(errs, propErr(propPrefix+name+".type", byCol[name]["type"], "column %q is not a partition column", name))
	}
	if len(errs) == 0 {
		if _, err := c.compile(nil); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// columnOrder orders the column names a property set mentions when the
// caller gave no PARTITIONED BY list.
func columnOrder(template string, byCol map[string]map[string]string) []string {
	var out []string
	for _, p := range splitTemplate(template) {
		if p.ph && byCol[p.name] != nil && !slices.Contains(out, p.name) {
			out = append(out, p.name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byCol)) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func parseColumn(name string, p map[string]string) (Column, []error) {
	var errs []error
	key := func(s string) string { return propPrefix + name + "." + s }
	col := Column{Name: name}
	if err := validIdent(name); err != nil {
		errs = append(errs, propErr(key("type"), p["type"], "column name: %v", err))
	}
	switch strings.ToLower(strings.TrimSpace(p["type"])) {
	case "enum":
		col.Type = Enum
	case "integer":
		col.Type = Integer
	case "date":
		col.Type = Date
	case "injected":
		col.Type = Injected
	default:
		return col, append(errs, propErr(key("type"), p["type"], "unknown projection type (want enum, integer, date or injected)"))
	}
	for _, s := range suffixOrder {
		if _, ok := p[s]; ok && !allowed[col.Type][s] {
			errs = append(errs, propErr(key(s), p[s], "not a property of %s columns", col.Type))
		}
	}
	need := func(s string) (string, bool) {
		v, ok := p[s]
		if !ok {
			errs = append(errs, propErr(key(s), "", "missing: required for %s columns", col.Type))
		}
		return v, ok
	}
	switch col.Type {
	case Enum:
		if v, ok := need("values"); ok {
			col.Values = strings.Split(v, ",")
		}
	case Integer, Date:
		if v, ok := need("range"); ok {
			lo, hi, found := strings.Cut(v, ",")
			if !found || strings.Contains(hi, ",") {
				errs = append(errs, propErr(key("range"), v, "want two comma-separated bounds, min,max"))
			}
			col.Range = [2]string{lo, hi}
		}
		col.Interval = 1
		if v, ok := p["interval"]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 {
				errs = append(errs, propErr(key("interval"), v, "want a positive integer"))
			}
			col.Interval = n
		}
		if col.Type == Integer {
			if v, ok := p["digits"]; ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n <= 0 || n > 19 {
					errs = append(errs, propErr(key("digits"), v, "want a positive integer (at most 19)"))
				}
				col.Digits = n
			}
			break
		}
		if v, ok := need("format"); ok {
			col.Format = v
		}
		if v, ok := p["interval.unit"]; ok {
			u, ok := parseUnit(v)
			if !ok {
				errs = append(errs, propErr(key("interval.unit"), v, "want YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS or MILLIS"))
			}
			col.Unit = u
		} else if f, err := compileDateFormat(col.Format); err == nil {
			switch f.precision {
			case Days, Months:
				col.Unit = f.precision
			default:
				errs = append(errs, propErr(key("interval.unit"), "", "missing: required when the format's finest field is not a day or a month"))
			}
		}
	}
	return col, errs
}

// Properties renders c as Athena table properties. Parse(c.Properties(),
// names) returns a Config equal to c (less the loglake-only fields TimeZone
// and Rule). Defaults that Parse fills in are rendered explicitly for date
// columns (interval, interval.unit), so the table means the same thing to
// any reader.
func (c *Config) Properties() map[string]string {
	m := map[string]string{}
	for _, kv := range c.propertyList() {
		m[kv[0]] = kv[1]
	}
	return m
}

// propertyList is Properties in a stable order, for DDL.
func (c *Config) propertyList() [][2]string {
	out := [][2]string{{PropEnabled, strconv.FormatBool(!c.Disabled)}}
	for _, col := range c.Columns {
		k := propPrefix + col.Name + "."
		out = append(out, [2]string{k + "type", col.Type.String()})
		switch col.Type {
		case Enum:
			out = append(out, [2]string{k + "values", strings.Join(col.Values, ",")})
		case Integer:
			out = append(out, [2]string{k + "range", col.Range[0] + "," + col.Range[1]})
			if col.Interval > 1 {
				out = append(out, [2]string{k + "interval", strconv.FormatInt(col.Interval, 10)})
			}
			if col.Digits > 0 {
				out = append(out, [2]string{k + "digits", strconv.Itoa(col.Digits)})
			}
		case Date:
			out = append(out,
				[2]string{k + "range", col.Range[0] + "," + col.Range[1]},
				[2]string{k + "format", col.Format},
				[2]string{k + "interval", strconv.FormatInt(max(col.Interval, 1), 10)})
			if col.Unit != UnitNone {
				out = append(out, [2]string{k + "interval.unit", col.Unit.String()})
			}
		}
	}
	if c.LocationTemplate != "" {
		out = append(out, [2]string{PropTemplate, c.LocationTemplate})
	}
	return out
}

// Validate reports whether c is a usable projection, with the same checks
// as Parse.
func (c *Config) Validate() error {
	_, err := c.compile(nil)
	return err
}

// validIdent checks a column name: it becomes part of property keys,
// ${col} placeholders and DDL, so only [A-Za-z_][A-Za-z0-9_]* (at most 255
// bytes) is allowed.
func validIdent(s string) error {
	if s == "" || len(s) > 255 {
		return fmt.Errorf("%q: want 1-255 characters", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return fmt.Errorf("%q: want letters, digits and '_', not starting with a digit", s)
	}
	return nil
}
