package projection

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParseAthenaExamples parses the example property values of Athena's
// documentation, one type and property at a time:
//
//	https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
//	https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html
//	https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html
//
// and checks that Properties renders a Config that parses back equal.
func TestParseAthenaExamples(t *testing.T) {
	on := func(kv ...string) map[string]string {
		m := map[string]string{"projection.enabled": "true"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		props map[string]string
		cols  []string
		want  []Column
	}{
		{"enum/values", on("projection.c.type", "enum", "projection.c.values", "A,B,C,D,E,F,G,Unknown"), []string{"c"},
			[]Column{{Name: "c", Type: Enum, Values: []string{"A", "B", "C", "D", "E", "F", "G", "Unknown"}}}},
		{"enum/type case and white space", on("projection.c.type", "  Enum ", "projection.c.values", " A,B "), []string{"c"},
			[]Column{{Name: "c", Type: Enum, Values: []string{" A", "B "}}}},
		{"integer/range 0,10", on("projection.c.type", "integer", "projection.c.range", "0,10"), []string{"c"},
			[]Column{{Name: "c", Type: Integer, Range: [2]string{"0", "10"}, Interval: 1}}},
		{"integer/range -1,8675309", on("projection.c.type", "integer", "projection.c.range", "-1,8675309"), []string{"c"},
			[]Column{{Name: "c", Type: Integer, Range: [2]string{"-1", "8675309"}, Interval: 1}}},
		{"integer/range 0001,9999", on("projection.c.type", "INTEGER", "projection.c.range", "0001,9999"), []string{"c"},
			[]Column{{Name: "c", Type: Integer, Range: [2]string{"0001", "9999"}, Interval: 1}}},
		{"integer/interval 5", on("projection.c.type", "integer", "projection.c.range", "1,3", "projection.c.interval", " 5 "), []string{"c"},
			[]Column{{Name: "c", Type: Integer, Range: [2]string{"1", "3"}, Interval: 5}}},
		{"integer/digits 5", on("projection.c.type", "integer", "projection.c.range", "1,3", "projection.c.digits", "5"), []string{"c"},
			[]Column{{Name: "c", Type: Integer, Range: [2]string{"1", "3"}, Interval: 1, Digits: 5}}},
		{"date/range 201701,201812 format yyyyMM", on("projection.c.type", "date", "projection.c.range", "201701,201812", "projection.c.format", "yyyyMM"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"201701", "201812"}, Format: "yyyyMM", Interval: 1, Unit: Months}}},
		{"date/format dd-MM-yyyy", on("projection.c.type", "date", "projection.c.range", "01-01-2010,31-12-2018", "projection.c.format", "dd-MM-yyyy"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"01-01-2010", "31-12-2018"}, Format: "dd-MM-yyyy", Interval: 1, Unit: Days}}},
		{"date/format dd-MM-yyyy-HH-mm-ss", on("projection.c.type", "date", "projection.c.range", "NOW-3YEARS,NOW", "projection.c.format", "dd-MM-yyyy-HH-mm-ss", "projection.c.interval", "1", "projection.c.interval.unit", "seconds"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"NOW-3YEARS", "NOW"}, Format: "dd-MM-yyyy-HH-mm-ss", Interval: 1, Unit: Seconds}}},
		{"date/range 201801,NOW+1MONTH", on("projection.c.type", "date", "projection.c.range", "201801,NOW+1MONTH", "projection.c.format", "yyyyMM"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"201801", "NOW+1MONTH"}, Format: "yyyyMM", Interval: 1, Unit: Months}}},
		{"date/relative bounds with white space", on("projection.c.type", "date", "projection.c.range", " NOW - 5 YEARS , NOW ", "projection.c.format", "yyyy-MM-dd"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{" NOW - 5 YEARS ", " NOW "}, Format: "yyyy-MM-dd", Interval: 1, Unit: Days}}},
		{"date/interval 2 MONTHS", on("projection.c.type", "date", "projection.c.range", "2017-01,2018-12", "projection.c.format", "yyyy-MM", "projection.c.interval", "2", "projection.c.interval.unit", "MONTHS"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"2017-01", "2018-12"}, Format: "yyyy-MM", Interval: 2, Unit: Months}}},
		{"date/each unit", on("projection.c.type", "date", "projection.c.range", "2020-01-01 00:00:00.000,NOW", "projection.c.format", "yyyy-MM-dd HH:mm:ss.SSS", "projection.c.interval.unit", "MILLIS"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"2020-01-01 00:00:00.000", "NOW"}, Format: "yyyy-MM-dd HH:mm:ss.SSS", Interval: 1, Unit: Millis}}},
		{"date/quoted literal", on("projection.c.type", "date", "projection.c.range", "2020-01-01T00,NOW", "projection.c.format", "yyyy-MM-dd'T'HH", "projection.c.interval.unit", "HOURS"), []string{"c"},
			[]Column{{Name: "c", Type: Date, Range: [2]string{"2020-01-01T00", "NOW"}, Format: "yyyy-MM-dd'T'HH", Interval: 1, Unit: Hours}}},
		{"injected", on("projection.device_id.type", "injected", "storage.location.template", "s3://amzn-s3-demo-bucket/prefix/${device_id}"), []string{"device_id"},
			[]Column{{Name: "device_id", Type: Injected}}},
		{"setting-up/year 2010,2016", on("projection.year.type", "integer", "projection.year.range", "2010,2016"), []string{"year"},
			[]Column{{Name: "year", Type: Integer, Range: [2]string{"2010", "2016"}, Interval: 1}}},
		{"order from the template without PARTITIONED BY", on("projection.b.type", "injected", "projection.a.type", "injected", "storage.location.template", "s3://x/${b}/${a}/"), nil,
			[]Column{{Name: "b", Type: Injected}, {Name: "a", Type: Injected}}},
		{"other table properties are ignored", on("projection.c.type", "injected", "classification", "parquet", "has_encrypted_data", "false"), []string{"c"},
			[]Column{{Name: "c", Type: Injected}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.props, tt.cols)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Columns, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			c2, err := Parse(c.Properties(), tt.cols)
			if err != nil {
				t.Fatalf("parse of rendered properties %v: %v", c.Properties(), err)
			}
			if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

// TestParseErrors checks that each bad property is reported by name.
func TestParseErrors(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"projection.enabled": "true", "projection.dt.type": "date", "projection.dt.range": "2024-01-01,NOW", "projection.dt.format": "yyyy-MM-dd"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<delete>" {
				delete(m, kv[i])
				continue
			}
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	f := func(props map[string]string, wantProp, wantText string, cols ...string) {
		t.Helper()
		_, err := Parse(props, cols)
		if err == nil {
			t.Fatalf("Parse(%v) = nil error, want one naming %s", props, wantProp)
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("error %v does not wrap ErrInvalidConfig", err)
		}
		var pe *PropertyError
		if !errors.As(err, &pe) || pe.Property != wantProp {
			t.Errorf("error %v: want a *PropertyError for %s", err, wantProp)
		}
		if !strings.Contains(err.Error(), wantText) {
			t.Errorf("error %q does not contain %q", err, wantText)
		}
	}
	f(base("projection.enabled", "<delete>"), "projection.enabled", "missing")
	f(base("projection.enabled", "yes"), "projection.enabled", "true or false")
	f(base("projection.dt.type", "<delete>"), "projection.dt.type", "missing")
	f(base("projection.dt.type", "timestamp"), "projection.dt.type", "unknown projection type")
	f(base("projection.dt.formt", "x"), "projection.dt.formt", "unknown property")
	f(base("projection.other.type", "enum", "projection.other.values", "a"), "projection.other.type", "not a partition column", "dt")
	f(base("projection.dt.digits", "2"), "projection.dt.digits", "not a property of date columns")
	f(base("projection.dt.values", "a,b"), "projection.dt.values", "not a property of date columns")
	f(base("projection.dt.format", "<delete>"), "projection.dt.format", "missing")
	f(base("projection.dt.format", "EEE yyyy-MM-dd"), "projection.dt.format", "unsupported pattern letter 'E'")
	f(base("projection.dt.format", "yyyy-MMM-dd"), "projection.dt.format", "text month")
	f(base("projection.dt.format", "yyyy-MM-dd'T"), "projection.dt.format", "unterminated quoted text")
	f(base("projection.dt.format", "yyyy-MM-dd[ HH]"), "projection.dt.format", "reserved pattern character")
	f(base("projection.dt.format", "MM-dd"), "projection.dt.format", "no year field")
	f(base("projection.dt.format", "yyyy-dd"), "projection.dt.format", "has a day field but no month field")
	f(base("projection.dt.format", "yyyy-MM-dd HH:mm:ss.S"), "projection.dt.format", "use SSS")
	f(base("projection.dt.format", "yyyy'..'MM-dd"), "projection.dt.format", "could escape")
	f(base("projection.dt.format", "yyyy-MM-dd-HH"), "projection.dt.interval.unit", "missing")
	f(base("projection.dt.interval.unit", "HOURS"), "projection.dt.interval.unit", "finer than the format")
	f(base("projection.dt.interval.unit", "FORTNIGHTS"), "projection.dt.interval.unit", "want YEARS")
	f(base("projection.dt.interval", "0"), "projection.dt.interval", "positive integer")
	f(base("projection.dt.interval", "-1"), "projection.dt.interval", "positive integer")
	f(base("projection.dt.range", "2024-01-01"), "projection.dt.range", "two comma-separated bounds")
	f(base("projection.dt.range", "2024-01-01-2024-12-31"), "projection.dt.range", "two comma-separated bounds")
	f(base("projection.dt.range", "2024-12-31,2024-01-01"), "projection.dt.range", "min is after max")
	f(base("projection.dt.range", "2024/01/01,NOW"), "projection.dt.range", "does not match the format")
	f(base("projection.dt.range", " 2024-01-01,NOW"), "projection.dt.range", "does not match the format") // white space is part of a date literal
	f(base("projection.dt.range", "NOW-3FORTNIGHTS,NOW"), "projection.dt.range", "bad unit")
	f(base("projection.dt.range", "NOW-3days,NOW"), "projection.dt.range", "bad unit")
	f(base("projection.dt.range", "NOW*3DAYS,NOW"), "projection.dt.range", "bad relative bound")
	f(base("projection.dt.range", "NOW-99999YEARS,NOW"), "projection.dt.range", "outside years")
	f(base("projection.dt.range", "NOW-1MILLIS,NOW"), "projection.dt.range", "bad unit")
	f(base("storage.location.template", "s3://b/${dt"), "storage.location.template", "unterminated")
	f(base("storage.location.template", "s3://b/${day}/"), "storage.location.template", "names no partition column")
	f(base("storage.location.template", "s3://b/static/"), "storage.location.template", "no placeholder for partition column \"dt\"")
	f(base("storage.location.template", "s3://b/\n${dt}/"), "storage.location.template", "control character")

	f(map[string]string{"projection.enabled": "true", "projection.n.type": "integer", "projection.n.range": "5,1"}, "projection.n.range", "min is greater than max")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "integer", "projection.n.range": "a,b"}, "projection.n.range", "two integers")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "integer", "projection.n.range": "1,2", "projection.n.digits": "x"}, "projection.n.digits", "positive integer")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "integer", "projection.n.range": "1,2", "projection.n.format": "yyyy"}, "projection.n.format", "not a property of integer columns")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "injected", "projection.n.values": "a"}, "projection.n.values", "not a property of injected columns")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "enum"}, "projection.n.values", "missing")
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "enum", "projection.n.values": "a,../b"}, "projection.n.values", `contains ".."`)
	f(map[string]string{"projection.enabled": "true", "projection.n.type": "enum", "projection.n.values": "a,,b"}, "projection.n.values", "empty")
}

// TestParseReportsEverything: one call names every bad property.
func TestParseReportsEverything(t *testing.T) {
	_, err := Parse(map[string]string{
		"projection.enabled":  "maybe",
		"projection.a.type":   "enum",
		"projection.b.type":   "integer",
		"projection.b.range":  "1",
		"projection.b.digits": "-2",
	}, []string{"a", "b", "c"})
	for _, want := range []string{"projection.enabled", "projection.a.values", "projection.b.range", "projection.b.digits", "projection.c.type"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestDisabled(t *testing.T) {
	c, err := Parse(map[string]string{"projection.enabled": "FALSE", "projection.a.type": "injected"}, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Enumerate(map[string]Constraint{"a": Eq("x")}, nil) {
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "disabled") {
			t.Errorf("Enumerate on a disabled projection: %v", err)
		}
	}
	if got := c.Properties()["projection.enabled"]; got != "false" {
		t.Errorf("projection.enabled = %q", got)
	}
}

// TestDateFormats checks the Java pattern subset against values
// java.time.format.DateTimeFormatter renders for the same instant.
func TestDateFormats(t *testing.T) {
	at := time.Date(2024, 3, 5, 7, 8, 9, 123456789, time.UTC)
	f := func(pattern, want string) {
		t.Helper()
		df, err := compileDateFormat(pattern)
		if err != nil {
			t.Fatalf("%q: %v", pattern, err)
		}
		got := string(df.appendFormat(nil, at))
		if got != want {
			t.Errorf("%q renders %q, want %q", pattern, got, want)
		}
		back, ok := df.parse(got, time.UTC)
		if !ok || !back.Equal(truncate(at, df.precision)) {
			t.Errorf("%q: parse(%q) = %v, %v; want %v", pattern, got, back, ok, truncate(at, df.precision))
		}
	}
	f("yyyy-MM-dd", "2024-03-05")
	f("yyyyMMdd", "20240305")
	f("yyyy/MM/dd/HH", "2024/03/05/07")
	f("uuuu-M-d", "2024-3-5")
	f("yy-MM", "24-03")
	f("y", "2024")
	f("dd-MM-yyyy-HH-mm-ss", "05-03-2024-07-08-09")
	f("yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 07:08:09.123")
	f("yyyy-MM-dd'T'HH:mm:ss.SSS", "2024-03-05T07:08:09.123")
	f("'year='yyyy'/month='MM", "year=2024/month=03")
	f("yyyy''MM", "2024'03")
}
