package projection

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func collect(t *testing.T, c *Config, cons map[string]Constraint, opts *EnumerateOptions) ([]string, error) {
	t.Helper()
	var out []string
	for p, err := range c.Enumerate(cons, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, strings.Join(p.Values, ","))
	}
	return out, nil
}

func TestConstraintErrors(t *testing.T) {
	c := &Config{Columns: []Column{
		{Name: "e", Type: Enum, Values: []string{"a", "b"}},
		{Name: "n", Type: Integer, Range: [2]string{"0", "9"}},
	}}
	f := func(cons map[string]Constraint, want string) {
		t.Helper()
		_, err := collect(t, c, cons, nil)
		if !errors.Is(err, ErrInvalidConstraint) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want ErrInvalidConstraint mentioning %q", cons, err, want)
		}
	}
	f(map[string]Constraint{"e": {Lo: Bound{Set: true}}}, "only = and IN apply")
	f(map[string]Constraint{"n": {Overlap: true}}, "Overlap applies to date columns only")
	f(map[string]Constraint{"x": Eq("1")}, `no partition column "x"`)
}

func TestIntegerExtremes(t *testing.T) {
	c := &Config{Columns: []Column{{Name: "n", Type: Integer, Range: [2]string{"-9223372036854775808", "9223372036854775807"}}}}
	got, err := collect(t, c, map[string]Constraint{"n": IntRange(math.MaxInt64-1, math.MaxInt64)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"9223372036854775806", "9223372036854775807"}, got); diff != "" {
		t.Error(diff)
	}
	got, err = collect(t, c, map[string]Constraint{"n": {Hi: Bound{Set: true, Int: math.MinInt64 + 1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"-9223372036854775808", "-9223372036854775807"}, got); diff != "" {
		t.Error(diff)
	}
	// The whole int64 range is counted (saturated), not enumerated.
	_, err = c.Count(nil, nil)
	if !errors.Is(err, ErrTooManyPartitions) || !strings.Contains(err.Error(), "over 9e18") {
		t.Errorf("Count of the int64 range: %v", err)
	}
	// Exclusive bounds at the extremes select nothing rather than wrap.
	for _, con := range []Constraint{
		{Lo: Bound{Set: true, Int: math.MaxInt64, Exclusive: true}},
		{Hi: Bound{Set: true, Int: math.MinInt64, Exclusive: true}},
	} {
		if got, err := collect(t, c, map[string]Constraint{"n": con}, nil); err != nil || len(got) != 0 {
			t.Errorf("%+v: got %v, %v; want nothing", con, got, err)
		}
	}
}

// TestMonthEnds: monthly steps from the 31st clamp to each month's last day
// (java.time's plusMonths), counted from the start, not compounded.
func TestMonthEnds(t *testing.T) {
	c := &Config{Columns: []Column{{Name: "d", Type: Date, Format: "yyyy-MM-dd", Range: [2]string{"2024-01-31", "2024-05-31"}, Unit: Months}}}
	got, err := collect(t, c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"}, got); diff != "" {
		t.Error(diff)
	}
}

// TestTimeZone: NOW and rendering follow Config.TimeZone.
func TestTimeZone(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	c := Default("", 1, tokyo)
	now := time.Date(2024, 3, 10, 20, 0, 0, 0, time.UTC) // 2024-03-11 05:00 in Tokyo
	got, err := collect(t, c, map[string]Constraint{"tenant_id": Eq("t")}, &EnumerateOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"t,2024-03-10", "t,2024-03-11"}, got); diff != "" {
		t.Error(diff)
	}
	// An overlap range given in UTC selects the Tokyo days it touches.
	got, err = collect(t, c, map[string]Constraint{"tenant_id": Eq("t"), "dt": Overlapping(now.Add(-time.Hour), now)}, &EnumerateOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"t,2024-03-11"}, got); diff != "" {
		t.Error(diff)
	}
}

// TestPartitionsOutliveTheWalk: yielded strings stay intact after later
// iterations and after the walk (the arena never rewrites them).
func TestPartitionsOutliveTheWalk(t *testing.T) {
	c := Default("s3://b", 400, nil)
	now := func() time.Time { return time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC) }
	var kept []Partition
	for p, err := range c.Enumerate(map[string]Constraint{"tenant_id": In("a", "b")}, &EnumerateOptions{Now: now}) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, p)
	}
	for _, p := range kept {
		want := "s3://b/compacted/tenant_id=" + p.Values[0] + "/dt=" + p.Values[1] + "/"
		if p.Location != want {
			t.Fatalf("kept location %q, want %q", p.Location, want)
		}
	}
	if len(kept) != 802 {
		t.Errorf("%d partitions, want 802", len(kept))
	}
}
