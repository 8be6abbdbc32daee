package projection

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEnumerateMatchesBruteForce: for random small configurations and
// constraints, Enumerate yields exactly the tuples a naive walk over the
// whole domain accepts, each once, in the documented order.
func TestEnumerateMatchesBruteForce(t *testing.T) {
	now := time.Date(2024, 2, 27, 13, 45, 10, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for i := range iters {
		c, cons, desc := randomCase(rng, now)
		opts := &EnumerateOptions{Now: func() time.Time { return now }, Descending: desc, MaxPartitions: 1 + rng.IntN(400)}
		want, wantErr := bruteForce(c, cons, now, desc)
		var got []string
		var gotErr error
		for p, err := range c.Enumerate(cons, opts) {
			if err != nil {
				gotErr = err
				break
			}
			got = append(got, strings.Join(p.Values, "|")+" "+p.Location)
		}
		name := fmt.Sprintf("case %d: props=%v cons=%+v desc=%v", i, c.Properties(), cons, desc)
		switch {
		case wantErr != nil:
			if gotErr == nil {
				t.Fatalf("%s: no error, want %v", name, wantErr)
			}
			continue
		case len(want) > opts.MaxPartitions:
			if !errors.Is(gotErr, ErrTooManyPartitions) || len(got) > 0 {
				t.Fatalf("%s: %d partitions over the limit %d: got %d and error %v", name, len(want), opts.MaxPartitions, len(got), gotErr)
			}
			continue
		case gotErr != nil:
			t.Fatalf("%s: %v", name, gotErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-brute force +Enumerate):\n%s", name, diff)
		}
		if n, err := c.Count(cons, opts); err != nil || n != int64(len(want)) {
			t.Fatalf("%s: Count = %d, %v; want %d", name, n, err, len(want))
		}
	}
}

var dateShapes = []struct {
	format string
	units  []Unit // allowed interval units
	lit    string // Go layout of a literal bound
}{
	{"yyyy-MM-dd", []Unit{Days, Weeks, Months}, "2006-01-02"},
	{"yyyyMM", []Unit{Months, Years}, "200601"},
	{"yyyy/MM/dd/HH", []Unit{Hours, Days}, "2006/01/02/15"},
	{"yyyy", []Unit{Years}, "2006"},
	{"yyyy-MM-dd HH:mm", []Unit{Minutes, Hours}, "2006-01-02 15:04"},
}

func randomCase(rng *rand.Rand, now time.Time) (*Config, map[string]Constraint, bool) {
	c := &Config{}
	cons := map[string]Constraint{}
	ncol := 1 + rng.IntN(3)
	tmpl := "s3://b/t/"
	pool := []string{"a", "b", "c", "d"}
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, pool[rng.IntN(len(pool))])
		}
		return out
	}
	for i := range ncol {
		name := fmt.Sprintf("c%d", i)
		col := Column{Name: name, Type: Type(1 + rng.IntN(4))}
		var con Constraint
		switch col.Type {
		case Enum:
			col.Values = pick(1 + rng.IntN(4))
			if rng.IntN(2) == 0 {
				con.In = pick(rng.IntN(3))
				if con.In == nil {
					con.In = []string{}
				}
			}
		case Injected:
			con.In = pick(1 + rng.IntN(3))
			if rng.IntN(20) == 0 {
				con.In = nil // error: unconstrained injected column
			}
		case Integer:
			lo := int64(rng.IntN(11) - 5)
			col.Range = [2]string{strconv.FormatInt(lo, 10), strconv.FormatInt(lo+int64(rng.IntN(13)), 10)}
			col.Interval = int64(1 + rng.IntN(3))
			col.Digits = rng.IntN(4)
			if rng.IntN(2) == 0 {
				con.Lo = Bound{Set: true, Int: int64(rng.IntN(21) - 8), Exclusive: rng.IntN(2) == 0}
			}
			if rng.IntN(2) == 0 {
				con.Hi = Bound{Set: true, Int: int64(rng.IntN(21) - 8), Exclusive: rng.IntN(2) == 0}
			}
			if rng.IntN(3) == 0 {
				for range rng.IntN(4) {
					con.In = append(con.In, strconv.Itoa(rng.IntN(21)-8))
				}
				con.In = append(con.In, "0"+strconv.Itoa(rng.IntN(5)), "x")
			}
		case Date:
			sh := dateShapes[rng.IntN(len(dateShapes))]
			col.Format = sh.format
			col.Unit = sh.units[rng.IntN(len(sh.units))]
			col.Interval = int64(1 + rng.IntN(3))
			span := func() int64 { return int64(rng.IntN(12)) }
			switch rng.IntN(3) {
			case 0:
				col.Range = [2]string{fmt.Sprintf("NOW-%d%s", span(), col.Unit), "NOW"}
			case 1:
				col.Range = [2]string{fmt.Sprintf("NOW-%d%s", span(), col.Unit), fmt.Sprintf("NOW+%d%s", span()/3, col.Unit)}
			default:
				start := addUnits(now, -span()*col.Interval, col.Unit)
				col.Range = [2]string{start.Format(sh.lit), "NOW"}
			}
			df, _ := compileDateFormat(col.Format)
			bound := func() Bound {
				t := addUnits(now, -int64(rng.IntN(14)), col.Unit)
				if rng.IntN(2) == 0 { // exactly on a partition's start
					t = truncate(t, df.precision)
				} else {
					t = t.Add(time.Duration(rng.IntN(7200)-3600) * time.Second)
				}
				return Bound{Set: true, Time: t, Exclusive: rng.IntN(2) == 0}
			}
			if rng.IntN(2) == 0 {
				con.Lo = bound()
			}
			if rng.IntN(2) == 0 {
				con.Hi = bound()
			}
			con.Overlap = rng.IntN(2) == 0
			if rng.IntN(4) == 0 {
				for range 1 + rng.IntN(3) {
					con.In = append(con.In, addUnits(now, -int64(rng.IntN(10)), col.Unit).Format(sh.lit))
				}
				con.In = append(con.In, "garbage")
			}
		}
		c.Columns = append(c.Columns, col)
		if con.In != nil || con.Lo.Set || con.Hi.Set || con.Overlap {
			cons[name] = con
		}
		tmpl += name + "=${" + name + "}/"
	}
	c.LocationTemplate = tmpl
	return c, cons, rng.IntN(2) == 0
}

// bruteForce walks each column's whole domain naively, filters it, and
// forms the product. It shares only the date pattern code and addUnits
// with the implementation (both tested on their own).
func bruteForce(c *Config, cons map[string]Constraint, now time.Time, desc bool) ([]string, error) {
	var lists [][]string
	for _, col := range c.Columns {
		con, has := cons[col.Name]
		var vals []string
		switch col.Type {
		case Enum:
			for _, v := range col.Values {
				if (con.In == nil || slices.Contains(con.In, v)) && !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
		case Injected:
			if !has || con.In == nil {
				return nil, errors.New("unconstrained injected column")
			}
			for _, v := range con.In {
				if !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
		case Integer:
			lo, _ := strconv.ParseInt(col.Range[0], 10, 64)
			hi, _ := strconv.ParseInt(col.Range[1], 10, 64)
			for v := lo; v <= hi; v += col.Interval {
				if !intOK(v, con) {
					continue
				}
				s := strconv.FormatInt(v, 10)
				if v >= 0 && len(s) < col.Digits {
					s = strings.Repeat("0", col.Digits-len(s)) + s
				}
				if v < 0 && len(s)-1 < col.Digits {
					s = "-" + strings.Repeat("0", col.Digits-len(s)+1) + s[1:]
				}
				vals = append(vals, s)
			}
		case Date:
			df, err := compileDateFormat(col.Format)
			if err != nil {
				return nil, err
			}
			start, _, err1 := resolveBound(col.Range[0], df, now, time.UTC)
			end, _, err2 := resolveBound(col.Range[1], df, now, time.UTC)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			for k := int64(0); ; k++ {
				t := addUnits(start, k*col.Interval, col.Unit)
				if t.After(end) {
					break
				}
				next := addUnits(start, (k+1)*col.Interval, col.Unit)
				if dateOK(t, next, con, df) {
					vals = append(vals, string(df.appendFormat(nil, t)))
				}
			}
		}
		if desc && (col.Type == Integer || col.Type == Date) {
			slices.Reverse(vals)
		}
		lists = append(lists, vals)
	}
	var out []string
	var walk func(i int, vals []string)
	walk = func(i int, vals []string) {
		if i == len(lists) {
			loc := c.LocationTemplate
			for j, col := range c.Columns {
				loc = strings.ReplaceAll(loc, "${"+col.Name+"}", vals[j])
			}
			out = append(out, strings.Join(vals, "|")+" "+loc)
			return
		}
		for _, v := range lists[i] {
			walk(i+1, append(vals[:i:i], v))
		}
	}
	walk(0, nil)
	return out, nil
}

func intOK(v int64, con Constraint) bool {
	if con.Lo.Set && (v < con.Lo.Int || (con.Lo.Exclusive && v == con.Lo.Int)) {
		return false
	}
	if con.Hi.Set && (v > con.Hi.Int || (con.Hi.Exclusive && v == con.Hi.Int)) {
		return false
	}
	if con.In != nil {
		for _, s := range con.In {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil && i == v {
				return true
			}
		}
		return false
	}
	return true
}

func dateOK(t, next time.Time, con Constraint, df *dateFormat) bool {
	if con.Lo.Set {
		lo := con.Lo.Time
		switch {
		case con.Overlap && !next.After(lo), con.Overlap && con.Lo.Exclusive && !next.After(lo.Add(time.Nanosecond)):
			return false
		case !con.Overlap && (t.Before(lo) || (con.Lo.Exclusive && t.Equal(lo))):
			return false
		}
	}
	if con.Hi.Set && (t.After(con.Hi.Time) || (con.Hi.Exclusive && t.Equal(con.Hi.Time))) {
		return false
	}
	if con.In != nil {
		for _, s := range con.In {
			if v, ok := df.parse(s, time.UTC); ok && v.Equal(t) {
				return true
			}
		}
		return false
	}
	return true
}
