package projection

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loglake's own layout.
const (
	// DefaultRetentionDays is the default retention window of loglake's
	// layout: five years, 1,825 days.
	DefaultRetentionDays = 1825
	// TenantColumn and DayColumn are loglake's partition columns.
	TenantColumn = "tenant_id"
	DayColumn    = "dt"
	// DayFormat is the dt column's pattern (Java spelling).
	DayFormat = "yyyy-MM-dd"
	// AreaCompacted and AreaRaw are the top-level prefixes of the Parquet
	// and NDJSON tables.
	AreaCompacted = "compacted"
	AreaRaw       = "raw"
)

// Default is the projection of loglake's compacted table under root:
// tenant_id injected (tenant id charset enforced), dt a daily date
// yyyy-MM-dd over NOW-<retentionDays>DAYS..NOW in loc, and the location
// template <root>/compacted/tenant_id=${tenant_id}/dt=${dt}/.
//
// root is a URL such as "s3://bucket/prefix" for external engines, or ""
// for keys relative to the lake's bucket. retentionDays <= 0 means
// DefaultRetentionDays; a nil loc means UTC.
func Default(root string, retentionDays int, loc *time.Location) *Config {
	return lakeConfig(root, AreaCompacted, retentionDays, loc)
}

// DefaultRaw is Default for the raw NDJSON table, under <root>/raw/.
func DefaultRaw(root string, retentionDays int, loc *time.Location) *Config {
	return lakeConfig(root, AreaRaw, retentionDays, loc)
}

func lakeConfig(root, area string, days int, loc *time.Location) *Config {
	if days <= 0 {
		days = DefaultRetentionDays
	}
	return &Config{
		Columns: []Column{
			{Name: TenantColumn, Type: Injected, Rule: TenantID},
			{Name: DayColumn, Type: Date, Format: DayFormat,
				Range:    [2]string{"NOW-" + strconv.Itoa(days) + "DAYS", "NOW"},
				Interval: 1, Unit: Days},
		},
		LocationTemplate: joinRoot(root, area) + TenantColumn + "=${" + TenantColumn + "}/" + DayColumn + "=${" + DayColumn + "}/",
		TimeZone:         loc,
	}
}

// joinRoot returns root + "/" + area + "/", or area + "/" for an empty root.
func joinRoot(root, area string) string {
	root = strings.TrimRight(root, "/")
	if root == "" {
		return area + "/"
	}
	return root + "/" + area + "/"
}

// FirehoseOptions tune FromFirehosePrefix. A nil *FirehoseOptions means the
// zero value.
type FirehoseOptions struct {
	// DateColumn, when set, merges the prefix's !{timestamp:...} parts into
	// one date column of that name whose format is their concatenation
	// (e.g. "yyyy/MM/dd"), as Athena's Firehose example recommends: date
	// ranges then map exactly onto partitions. Default: "" — one integer
	// column per part (year, month, day, hour, minute).
	DateColumn string
	// DateRange is the merged date column's range. Default:
	// "NOW-1825DAYS,NOW".
	DateRange string
	// Years is the year column's integer range when parts are split.
	// Default: the ten years up to and including the clock's year.
	Years [2]int
	// Now is the clock for the Years default. Default: time.Now.
	Now func() time.Time
}

// FromFirehosePrefix describes a lake written by Amazon Data Firehose with
// dynamic partitioning, from its S3 prefix expression, e.g.
//
//	logs/!{partitionKeyFromQuery:tenant}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/
//
// Each !{partitionKeyFromQuery:k} or !{partitionKeyFromLambda:k} becomes an
// injected column k. Each !{timestamp:P} becomes an integer column named for
// its field (yyyy → year, MM → month, dd → day, HH → hour, mm → minute) with
// the field's range and padding, unless opts.DateColumn merges them into one
// date column. root ("s3://bucket") is prepended to the prefix to form the
// location template. Firehose renders timestamps in UTC; so does the
// returned Config.
func FromFirehosePrefix(root, prefix string, opts *FirehoseOptions) (*Config, error) {
	var o FirehoseOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DateRange == "" {
		o.DateRange = "NOW-" + strconv.Itoa(DefaultRetentionDays) + "DAYS,NOW"
	}
	if o.Years == [2]int{} {
		y := o.Now().UTC().Year()
		o.Years = [2]int{y - 9, y}
	}
	c := &Config{TimeZone: time.UTC}
	var tmpl strings.Builder
	root = strings.TrimRight(root, "/")
	if root != "" {
		tmpl.WriteString(root + "/")
	}
	var dateFmt strings.Builder // merged timestamp pattern
	dateIdx := -1               // index of the merged date column
	inDate, dateDone := false, false
	rest := prefix
	for {
		i := strings.Index(rest, "!{")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("projection: firehose prefix %q: unterminated !{", prefix)
		}
		lit, expr := rest[:i], rest[i+2:i+j]
		rest = rest[i+j+1:]
		ns, arg, _ := strings.Cut(expr, ":")
		switch {
		case ns == "partitionKeyFromQuery" || ns == "partitionKeyFromLambda":
			if err := validIdent(arg); err != nil {
				return nil, fmt.Errorf("projection: firehose prefix %q: partition key: %v", prefix, err)
			}
			if inDate {
				inDate, dateDone = false, true
			}
			tmpl.WriteString(lit + "${" + arg + "}")
			c.Columns = append(c.Columns, Column{Name: arg, Type: Injected})
		case ns == "timestamp" && o.DateColumn != "":
			switch {
			case dateDone:
				return nil, fmt.Errorf("projection: firehose prefix %q: timestamp parts must be adjacent to merge into %q", prefix, o.DateColumn)
			case !inDate:
				inDate = true
				tmpl.WriteString(lit + "${" + o.DateColumn + "}")
				dateIdx = len(c.Columns)
				c.Columns = append(c.Columns, Column{Name: o.DateColumn, Type: Date})
			default:
				dateFmt.WriteString(quoteLiteral(lit))
			}
			dateFmt.WriteString(arg)
		case ns == "timestamp":
			col, err := timestampColumn(arg, o.Years)
			if err != nil {
				return nil, fmt.Errorf("projection: firehose prefix %q: %v", prefix, err)
			}
			tmpl.WriteString(lit + "${" + col.Name + "}")
			c.Columns = append(c.Columns, col)
		default:
			return nil, fmt.Errorf("projection: firehose prefix %q: !{%s} cannot be projected (only partitionKeyFromQuery, partitionKeyFromLambda and timestamp)", prefix, expr)
		}
	}
	tmpl.WriteString(rest)
	if dateIdx >= 0 {
		df, err := compileDateFormat(dateFmt.String())
		if err != nil {
			return nil, fmt.Errorf("projection: firehose prefix %q: %v", prefix, err)
		}
		lo, hi, _ := strings.Cut(o.DateRange, ",")
		c.Columns[dateIdx] = Column{Name: o.DateColumn, Type: Date, Format: dateFmt.String(), Range: [2]string{lo, hi}, Interval: 1, Unit: df.precision}
	}
	c.LocationTemplate = tmpl.String()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("projection: firehose prefix %q: %w", prefix, err)
	}
	return c, nil
}

// quoteLiteral quotes text for a Java pattern when it holds letters.
func quoteLiteral(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '\'' }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func timestampColumn(p string, years [2]int) (Column, error) {
	digits := 0
	if len(p) == 2 {
		digits = 2
	}
	switch p {
	case "yyyy", "uuuu":
		return Column{Name: "year", Type: Integer, Range: [2]string{strconv.Itoa(years[0]), strconv.Itoa(years[1])}, Interval: 1}, nil
	case "MM", "M":
		return Column{Name: "month", Type: Integer, Range: [2]string{"1", "12"}, Interval: 1, Digits: digits}, nil
	case "dd", "d":
		return Column{Name: "day", Type: Integer, Range: [2]string{"1", "31"}, Interval: 1, Digits: digits}, nil
	case "HH", "H":
		return Column{Name: "hour", Type: Integer, Range: [2]string{"0", "23"}, Interval: 1, Digits: digits}, nil
	case "mm", "m":
		return Column{Name: "minute", Type: Integer, Range: [2]string{"0", "59"}, Interval: 1, Digits: digits}, nil
	}
	return Column{}, fmt.Errorf("timestamp pattern %q: split columns need one field per part (yyyy, MM, dd, HH, mm); set DateColumn to merge other patterns", p)
}
