package query

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
)

func TestScope(t *testing.T) {
	tests := []struct {
		where string
		want  []string // nil: unscoped
	}{
		{"tenant_id = 'acme'", []string{"acme"}},
		{"'acme' = tenant_id", []string{"acme"}},
		{`"tenant_id" = 'acme'`, []string{"acme"}},
		{"TENANT_ID = 'acme'", []string{"acme"}}, // bare identifiers fold to lower case
		{"tenant_id IN ('b', 'a', 'b')", []string{"a", "b"}},
		{"tenant_id IN ('a', 'b') AND tenant_id = 'b'", []string{"b"}},
		{"tenant_id = 'a' AND tenant_id = 'b'", []string{}},
		{"x = 1 AND (y = 2 AND tenant_id = 'a')", []string{"a"}},
		{"tenant_id = 'a' AND (x = 1 OR y = 2)", []string{"a"}},
		{"tenant_id = 'a' AND tenant_id = 'b' OR tenant_id = 'c'", nil}, // AND binds tighter: an OR at the top
		{"tenant_id = 5", []string{}},
		{"tenant_id IN (5, 'a', NULL)", []string{"a"}},
		{"tenant_id = NULL", []string{}},
		// Hostile and non-narrowing forms.
		{"tenant_id = 'a' OR 1=1", nil},
		{"tenant_id = 'a' OR tenant_id = 'b'", nil}, // an OR never counts, even when it could
		{"NOT tenant_id <> 'a'", nil},
		{"NOT (tenant_id = 'a')", nil},
		{"NOT NOT tenant_id = 'a'", nil},
		{"tenant_id <> 'a'", nil},
		{"tenant_id NOT IN ('a')", nil},
		{"tenant_id >= 'a' AND tenant_id <= 'a'", nil},
		{"tenant_id BETWEEN 'a' AND 'a'", nil},
		{"tenant_id LIKE 'a'", nil},
		{"tenant_id IS NOT NULL", nil},
		{"tenant_id = tenant_id", nil},
		{"tenant_id IN (tenant_id)", nil},
		{"\"TENANT_ID\" = 'a'", nil}, // a different, case-sensitive column
		{"tenant_id2 = 'a'", nil},
		{"x = 'tenant_id = ''a'''", nil},
		{"1 = 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.Scope(false)
			if tt.want == nil {
				if !errors.Is(err, ErrUnscopedQuery) {
					t.Fatalf("Scope = %+v, %v; want ErrUnscopedQuery", got, err)
				}
				all, err := q.Scope(true)
				if err != nil || !all.All {
					t.Fatalf("Scope(allowCrossTenant) = %+v, %v; want All", all, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Scope: %v", err)
			}
			if diff := cmp.Diff(Scope{Tenants: tt.want}, got); diff != "" {
				t.Fatalf("Scope mismatch (-want +got):\n%s", diff)
			}
			// With cross-tenant queries allowed, a scoped query stays scoped.
			if got2, _ := q.Scope(true); got2.All {
				t.Fatalf("Scope(true) widened a scoped query")
			}
		})
	}
	if _, err := Parse("SELECT * FROM logs"); err != nil {
		t.Fatal(err)
	}
	if _, err := (Query{}).Scope(false); !errors.Is(err, ErrUnscopedQuery) {
		t.Fatalf("no WHERE: %v", err)
	}
}

// TestScopeAdversarial: text tricks that try to smuggle a second tenant in.
// Each either fails to parse or is scoped to exactly the tenant the text
// names in its first, real comparison.
func TestScopeAdversarial(t *testing.T) {
	for _, sql := range []string{
		"SELECT * FROM logs WHERE tenant_id = 'a' -- ' OR tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a' /* ' OR tenant_id = 'b' */",
		"SELECT * FROM logs WHERE tenant_id = 'a'' OR tenant_id = ''b'",
		"SELECT * FROM logs WHERE tenant_id = 'a\\' OR tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a' OR/**/tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a'; SELECT * FROM logs WHERE tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a' AND (tenant_id = 'b' OR 1=1)",
		"SELECT * FROM logs WHERE tenant_id = 'a' --\n OR tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a' \u2028OR tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = 'a\x00' OR tenant_id = 'b'",
		"SELECT * FROM logs WHERE tenant_id = U&'\\0061'",
		"SELECT * FROM logs WHERE tenant_id = E'a' OR TRUE",
		"SELECT * FROM logs WHERE tenant_id = 'a' OR TRUE",
		"SELECT * FROM logs WHERE tenant_id IN ('a') OR tenant_id NOT IN ('a')",
		"SELECT * FROM logs WHERE \"tenant_id\" = 'a' OR \"tenant_id\" <> 'a'",
	} {
		q, err := Parse(sql)
		if err != nil {
			continue // rejected outright: fine
		}
		s, err := q.Scope(false)
		switch {
		case errors.Is(err, ErrUnscopedQuery), errors.Is(err, loglake.ErrInvalidTenant):
		case err != nil:
			t.Errorf("%q: unexpected error %v", sql, err)
		case len(s.Tenants) > 1 || len(s.Tenants) == 1 && s.Tenants[0] != "a":
			t.Errorf("%q: scope %v reaches beyond tenant a", sql, s.Tenants)
		}
		// The reference evaluator agrees: no record of tenant b matches
		// a query scoped to a.
		if err == nil {
			res, err := refEval(q, []record{{"tenant_id": "b"}, {"tenant_id": "a"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range res.Rows {
				for i, c := range res.Columns {
					if c == "tenant_id" && row[i] == "b" {
						t.Errorf("%q: scoped to %v but matches tenant b", sql, s.Tenants)
					}
				}
			}
		}
	}
}

func TestScopeInvalidTenant(t *testing.T) {
	for _, w := range []string{"tenant_id = '../other'", "tenant_id IN ('a', 'b/c')", "tenant_id = ''"} {
		q, err := Parse("SELECT * FROM logs WHERE " + w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Scope(false); !errors.Is(err, loglake.ErrInvalidTenant) {
			t.Errorf("%s: Scope error = %v, want ErrInvalidTenant", w, err)
		}
	}
}

func TestTimeRange(t *testing.T) {
	d := func(s string) time.Time {
		ts, ok := parseTimestamp(s)
		if !ok {
			t.Fatalf("bad time %q", s)
		}
		return ts
	}
	tests := []struct {
		where string
		want  TimeRange
	}{
		{"x = 1", TimeRange{}},
		{"timestamp >= TIMESTAMP '2024-05-01' AND timestamp < TIMESTAMP '2024-05-02'", TimeRange{d("2024-05-01"), d("2024-05-02")}},
		{"timestamp > '2024-05-01T09:00:00+09:00'", TimeRange{From: d("2024-05-01")}},
		{"TIMESTAMP '2024-05-03' > timestamp", TimeRange{To: d("2024-05-03")}},
		{"timestamp BETWEEN '2024-05-01' AND '2024-05-31'", TimeRange{d("2024-05-01"), d("2024-05-31")}},
		{"timestamp = '2024-05-01 10:00'", TimeRange{d("2024-05-01 10:00"), d("2024-05-01 10:00")}},
		{"timestamp IN ('2024-05-03', '2024-05-01', 'junk')", TimeRange{d("2024-05-01"), d("2024-05-03")}},
		{"timestamp >= '2024-05-01' AND timestamp >= '2024-05-10' AND timestamp <= '2024-06-01'", TimeRange{d("2024-05-10"), d("2024-06-01")}},
		{"timestamp >= '2024-05-01' OR x = 1", TimeRange{}},
		{"NOT timestamp < '2024-05-01'", TimeRange{}},
		{"timestamp >= 'yesterday'", TimeRange{}},
		{"timestamp NOT BETWEEN '2024-05-01' AND '2024-05-31'", TimeRange{}},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, q.TimeRange()); diff != "" {
			t.Errorf("%s: TimeRange mismatch (-want +got):\n%s", tt.where, diff)
		}
	}
}

func TestDayRange(t *testing.T) {
	day := func(s string) loglake.Day {
		d, err := loglake.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		where string
		want  DayRange
		empty bool
	}{
		{"x = 1", DayRange{}, false},
		{"dt = '2024-05-01'", DayRange{Days: []loglake.Day{day("2024-05-01")}}, false},
		{"dt >= '2024-05-01' AND dt < '2024-06-01'", DayRange{First: day("2024-05-01"), Last: day("2024-05-31")}, false},
		{"dt > '2024-02-28' AND dt <= '2024-03-01'", DayRange{First: day("2024-02-29"), Last: day("2024-03-01")}, false},
		{"'2024-05-01' <= dt", DayRange{First: day("2024-05-01")}, false},
		{"dt BETWEEN '2024-05-01' AND '2024-05-03'", DayRange{First: day("2024-05-01"), Last: day("2024-05-03")}, false},
		{"dt IN ('2024-05-03', '2024-05-01', 'junk') AND dt >= '2024-05-02'", DayRange{First: day("2024-05-02"), Days: []loglake.Day{day("2024-05-03")}}, false},
		{"dt = 'junk'", DayRange{Days: []loglake.Day{}}, true},
		{"dt = '2024-05-01' AND dt = '2024-05-02'", DayRange{Days: []loglake.Day{}}, true},
		{"dt > '2024-05-02' AND dt < '2024-05-01'", DayRange{First: day("2024-05-03"), Last: day("2024-04-30")}, true},
		{"dt >= 'junk'", DayRange{}, false},
		{"dt <> '2024-05-01'", DayRange{}, false},
		{"dt = '2024-05-01' OR dt = '2024-05-02'", DayRange{}, false},
		{"NOT dt = '2024-05-01'", DayRange{}, false},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
		if err != nil {
			t.Fatal(err)
		}
		got := q.DayRange()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: DayRange mismatch (-want +got):\n%s", tt.where, diff)
		}
		if got.Empty() != tt.empty {
			t.Errorf("%s: Empty() = %v, want %v", tt.where, got.Empty(), tt.empty)
		}
	}
}
