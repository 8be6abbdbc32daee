package projection

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loglake/loglake/internal/datadriven"
)

// TestDataDriven runs testdata/enumerate/*: projection planning as text
// (STYLE.md point 15). Commands:
//
//	config [cols=(a,b)]       Parse the input's key=value lines
//	lake [root=R] [days=N] [raw]  Default / DefaultRaw
//	firehose [root=R] [date=COL]  FromFirehosePrefix of the input line
//	properties                the current config's properties, sorted
//	enumerate now=T [max=N] [desc] [limit=N]
//	                          one constraint per input line:
//	                          col = v | col in (a,b) | col >= v | col > v |
//	                          col <= v | col < v | col overlaps FROM..TO
//	count now=T [max=N]       like enumerate, the count only
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/enumerate", func(t *testing.T, d *datadriven.TestData) string {
		return runCmd(t, d)
	})
}

var ddConfig *Config

func runCmd(t *testing.T, d *datadriven.TestData) string {
	arg := func(k string) string {
		if a, ok := d.Arg(k); ok && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ",")
		}
		return ""
	}
	switch d.Cmd {
	case "config":
		props := map[string]string{}
		for _, l := range strings.Split(d.Input, "\n") {
			if l == "" {
				continue
			}
			k, v, _ := strings.Cut(l, "=")
			props[k] = v
		}
		var cols []string
		if a, ok := d.Arg("cols"); ok {
			cols = a.Vals
		}
		c, err := Parse(props, cols)
		if err != nil {
			ddConfig = nil
			return "error: " + err.Error()
		}
		ddConfig = c
		return "ok"
	case "lake":
		days, _ := strconv.Atoi(arg("days"))
		if _, raw := d.Arg("raw"); raw {
			ddConfig = DefaultRaw(arg("root"), days, nil)
		} else {
			ddConfig = Default(arg("root"), days, nil)
		}
		return ddConfig.LocationTemplate
	case "firehose":
		c, err := FromFirehosePrefix(arg("root"), strings.TrimSpace(d.Input), &FirehoseOptions{
			DateColumn: arg("date"),
			Now:        func() time.Time { return time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC) },
		})
		if err != nil {
			ddConfig = nil
			return "error: " + err.Error()
		}
		ddConfig = c
		return "ok"
	case "properties":
		props := ddConfig.Properties()
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(props)) {
			fmt.Fprintf(&b, "%s=%s\n", k, props[k])
		}
		return b.String()
	case "enumerate", "count":
		if ddConfig == nil {
			t.Fatalf("%s: no config", d.Pos)
		}
		now, err := time.Parse(time.RFC3339, arg("now"))
		if err != nil {
			t.Fatalf("%s: now: %v", d.Pos, err)
		}
		opts := &EnumerateOptions{Now: func() time.Time { return now }}
		opts.MaxPartitions, _ = strconv.Atoi(arg("max"))
		_, opts.Descending = d.Arg("desc")
		cons, err := parseConstraints(d.Input, ddConfig.TimeZone)
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		if d.Cmd == "count" {
			n, err := ddConfig.Count(cons, opts)
			if err != nil {
				return "error: " + err.Error()
			}
			return strconv.FormatInt(n, 10)
		}
		limit, _ := strconv.Atoi(arg("limit"))
		var b strings.Builder
		n := 0
		for p, err := range ddConfig.Enumerate(cons, opts) {
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
				break
			}
			if limit > 0 && n == limit {
				b.WriteString("...\n")
				break
			}
			fmt.Fprintf(&b, "%s %s\n", strings.Join(p.Values, " "), p.Location)
			n++
		}
		if b.Len() == 0 {
			return "(none)"
		}
		return b.String()
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

// parseConstraints reads "col op value" lines.
func parseConstraints(input string, loc *time.Location) (map[string]Constraint, error) {
	if loc == nil {
		loc = time.UTC
	}
	cons := map[string]Constraint{}
	for _, l := range strings.Split(input, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("constraint %q: want col op value", l)
		}
		col, op, v := f[0], f[1], f[2]
		c := cons[col]
		switch op {
		case "=":
			c.In = append(c.In, v)
		case "in":
			c.In = strings.Split(strings.Trim(v, "()"), ",")
			if v == "()" {
				c.In = []string{}
			}
		case ">=", ">", "<=", "<":
			b, err := parseBound(v, loc)
			if err != nil {
				return nil, err
			}
			b.Exclusive = op == ">" || op == "<"
			if op[0] == '>' {
				c.Lo = b
			} else {
				c.Hi = b
			}
		case "overlaps":
			from, to, _ := strings.Cut(v, "..")
			lo, err1 := parseBound(from, loc)
			hi, err2 := parseBound(to, loc)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			c.Lo, c.Hi, c.Overlap = lo, hi, true
			c.Hi.Exclusive = true
		default:
			return nil, fmt.Errorf("constraint %q: unknown operator", l)
		}
		cons[col] = c
	}
	return cons, nil
}

// parseBound reads an integer, a date (2006-01-02) or an RFC 3339 instant.
// Other text is a set bound without a value (for error cases).
func parseBound(v string, loc *time.Location) (Bound, error) {
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return Bound{Set: true, Int: i}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return Bound{Set: true, Time: t}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil { // other text: a set bound of no particular value
		return Bound{Set: true}, nil
	}
	return Bound{Set: true, Time: t}, nil
}
