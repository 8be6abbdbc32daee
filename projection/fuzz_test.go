package projection

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var fuzzNow = time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)

// encodeProps writes properties one per line, "key=value".
func encodeProps(m map[string]string) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + v + "\n")
	}
	return b.String()
}

func decodeProps(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// FuzzParse: Parse never panics; what it accepts round-trips through
// Properties, enumerates without panicking, and renders locations that stay
// below the template's prefix whatever the injected value.
func FuzzParse(f *testing.F) {
	f.Add(encodeProps(Default("s3://b/lake", 3, nil).Properties()), "acme")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.c.type": "enum", "projection.c.values": "A,B,C,D,E,F,G,Unknown"}), "")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.c.type": "integer", "projection.c.range": "-1,8675309", "projection.c.interval": "5", "projection.c.digits": "3"}), "")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.c.type": "date", "projection.c.range": "201801,NOW+1MONTH", "projection.c.format": "yyyyMM"}), "")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.c.type": "date", "projection.c.range": "NOW-3YEARS,NOW", "projection.c.format": "dd-MM-yyyy-HH-mm-ss", "projection.c.interval.unit": "HOURS"}), "")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.device_id.type": "injected", "storage.location.template": "s3://amzn-s3-demo-bucket/prefix/${device_id}"}), "../../etc")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.a.type": "injected", "storage.location.template": "s3://b/${a}${a}/"}), ".")
	f.Add(encodeProps(map[string]string{"projection.enabled": "true", "projection.a.type": "injected", "storage.location.template": "s3://b/${a"}), "x%2f")
	f.Fuzz(func(t *testing.T, propText, value string) {
		props := decodeProps(propText)
		c, err := Parse(props, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Parse error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		names := make([]string, len(c.Columns))
		for i, col := range c.Columns {
			names[i] = col.Name
		}
		c2, err := Parse(c.Properties(), names)
		if err != nil {
			t.Fatalf("Parse(Properties()) = %v; properties %q", err, c.Properties())
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		cons := map[string]Constraint{}
		for _, col := range c.Columns {
			if col.Type == Injected {
				cons[col.Name] = In(value, "ok")
			}
		}
		prefix := TemplatePrefix(c.LocationTemplate)
		n := 0
		for p, err := range c.Enumerate(cons, &EnumerateOptions{Now: func() time.Time { return fuzzNow }, MaxPartitions: 50}) {
			if err != nil {
				if ValidateValue(value, PathSafe) == nil && !errors.Is(err, ErrTooManyPartitions) && !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("Enumerate: %v", err)
				}
				break
			}
			checkLocation(t, c.LocationTemplate, prefix, p)
			if n++; n > 50 {
				t.Fatalf("more partitions than MaxPartitions")
			}
		}
	})
}

// checkLocation: a location is its template with each placeholder replaced
// by the partition's value; it starts with the template's prefix, and values
// add no ".." or "." path segment.
func checkLocation(t *testing.T, tmpl, prefix string, p Partition) {
	t.Helper()
	if !strings.HasPrefix(p.Location, prefix) {
		t.Fatalf("location %q escapes prefix %q", p.Location, prefix)
	}
	if tmpl == "" {
		return
	}
	tsegs := strings.Split(tmpl, "/")
	for _, seg := range strings.Split(p.Location[len(prefix):], "/") {
		if (seg == ".." || seg == ".") && !slices.Contains(tsegs, seg) {
			t.Fatalf("location %q has a %q segment its template %q does not", p.Location, seg, tmpl)
		}
	}
}

// FuzzRender: any injected value is either rejected with ErrInvalidValue or
// rendered verbatim into its one placeholder, never adding a segment.
func FuzzRender(f *testing.F) {
	for _, v := range []string{"acme", "a/b", "..", ".", "", "a=b", "%2e%2e", "a\x00b", "a\\b", "テナント", "\xff", "x.y-z_1"} {
		f.Add("s3://bucket/p/tenant_id=${t}/", v)
	}
	f.Add("${t}", "a")
	f.Add("s3://b/${t}${t}", "a.")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		c := &Config{Columns: []Column{{Name: "t", Type: Injected}}, LocationTemplate: tmpl}
		if tmpl == "" || c.Validate() != nil {
			return // an empty template is Athena's default layout, t=value/
		}
		verr := ValidateValue(value, PathSafe)
		for p, err := range c.Enumerate(map[string]Constraint{"t": Eq(value)}, nil) {
			if verr != nil {
				if !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("value %q: want ErrInvalidValue, got %v", value, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(tmpl, "${t}", value); p.Location != want {
				t.Fatalf("location %q, want %q", p.Location, want)
			}
			if strings.Count(p.Location, "/") != strings.Count(tmpl, "/") {
				t.Fatalf("value %q added a path segment: %q", value, p.Location)
			}
			checkLocation(t, tmpl, TemplatePrefix(tmpl), p)
		}
		if verr == nil {
			if strings.ContainsAny(value, "/\\=%") || strings.Contains(value, "..") || value == "" || value == "." {
				t.Fatalf("ValidateValue accepted %q", value)
			}
		}
	})
}

// FuzzDateFormat: a pattern that compiles renders and parses back its own
// output; parse never panics on any input.
func FuzzDateFormat(f *testing.F) {
	for _, p := range []string{"yyyy-MM-dd", "yyyyMM", "dd-MM-yyyy-HH-mm-ss", "yyyy/MM/dd/HH", "yy", "y", "yyyy-MM-dd'T'HH:mm:ss.SSS", "''yyyy''", "EEE", "yyyy[MM]"} {
		f.Add(p, "2024-03-05", int64(1709600000))
	}
	f.Fuzz(func(t *testing.T, pattern, input string, sec int64) {
		df, err := compileDateFormat(pattern)
		if err != nil {
			return
		}
		df.parse(input, time.UTC)
		at := time.Unix(sec%(250000*86400), 0).UTC() // years 1970 ± 684
		if at.Year() < 1000 {
			return
		}
		s := string(df.appendFormat(nil, at))
		back, ok := df.parse(s, time.UTC)
		want := truncate(at, df.precision)
		if df.tokens[0].kind == fYear && df.tokens[0].width == 2 || hasTwoDigitYear(df) {
			return // yy loses the century
		}
		if !ok || !back.Equal(want) {
			t.Fatalf("%q: %v renders %q, parses back %v %v; want %v", pattern, at, s, back, ok, want)
		}
	})
}

func hasTwoDigitYear(df *dateFormat) bool {
	for _, t := range df.tokens {
		if t.kind == fYear && t.width == 2 {
			return true
		}
	}
	return false
}

// FuzzFirehosePrefix never panics, and what it accepts validates.
func FuzzFirehosePrefix(f *testing.F) {
	f.Add("logs/!{partitionKeyFromQuery:tenant}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", "")
	f.Add("logs/!{partitionKeyFromQuery:tenant}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", "day")
	f.Add("!{timestamp:yyyy-MM-dd}/!{partitionKeyFromLambda:k}/", "d")
	f.Add("x/!{firehose:random-string}/", "")
	f.Fuzz(func(t *testing.T, prefix, dateCol string) {
		c, err := FromFirehosePrefix("s3://b", prefix, &FirehoseOptions{DateColumn: dateCol, Now: func() time.Time { return fuzzNow }})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
	})
}
