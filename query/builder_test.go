package query

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBuilder(t *testing.T) {
	a, b, c := Eq("a", 1), Eq("b", 2), Eq("c", 3)
	tests := []struct {
		name string
		got  Expr
		want Expr
	}{
		{"and flattens", And(And(a, b), c), &AndExpr{Args: []Expr{a, b, c}}},
		{"and of one", And(a), a},
		{"and of none", And(), nil},
		{"and drops nil", And(nil, a, nil), a},
		{"or inside and", And(Or(a, b), c), &AndExpr{Args: []Expr{&OrExpr{Args: []Expr{a, b}}, c}}},
		{"or flattens", Or(a, Or(b, c)), &OrExpr{Args: []Expr{a, b, c}}},
		{"ints widen", Eq("a", uint16(7)), &CompareExpr{OpEq, col("a"), lit(int64(7))}},
		{"in", In("tenant_id", "x", "y"), &InExpr{X: col("tenant_id"), List: []Operand{lit("x"), lit("y")}}},
		{"not in", NotIn("n", 1, 2), &InExpr{X: col("n"), List: []Operand{lit(int64(1)), lit(int64(2))}, Not: true}},
		{"like escape", NotLike("p", `a\%`).WithEscape('\\'), &LikeExpr{X: col("p"), Pattern: `a\%`, Escape: '\\', Not: true}},
		{"is not null", IsNotNull("x"), &IsNullExpr{X: col("x"), Not: true}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	// Times are kept as UTC without a monotonic reading, and print back.
	now := time.Now()
	q := Select().Where(Ge("timestamp", now))
	p, err := Parse(q.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(q, p); diff != "" {
		t.Errorf("time literal round trip (-want +got):\n%s", diff)
	}
	// Builder methods do not share backing arrays between derived queries.
	base := Select("x").GroupBy(Col("x"))
	q1, q2 := base.GroupBy(Col("y")), base.GroupBy(Col("z"))
	if q1.Groups[1].Column != "y" || q2.Groups[1].Column != "z" {
		t.Errorf("derived queries share GROUP BY storage: %v %v", q1.Groups, q2.Groups)
	}
}

func TestValidate(t *testing.T) {
	deep := Expr(Eq("a", 1))
	for range MaxDepth + 1 {
		deep = Not(deep)
	}
	for name, q := range map[string]Query{
		"bad literal":     Select().Where(Eq("a", struct{}{})),
		"nan":             Select().Where(Eq("a", nanValue())),
		"empty and":       Select().Where(&AndExpr{}),
		"empty in":        Select().Where(&InExpr{X: col("a")}),
		"bad pattern":     Select().Where(Like("a", `x\`).WithEscape('\\')),
		"long pattern":    Select().Where(Like("a", string(make([]byte, MaxPatternLen+1)))),
		"too deep":        Select().Where(deep),
		"nil operand":     Select().Where(&CompareExpr{L: col("a")}),
		"missing column":  SelectTerms(Min("")),
		"negative limit":  Select().Limit(-1),
		"ungrouped":       SelectTerms(Col("a"), CountAll()),
		"agg in group by": SelectTerms(CountAll()).GroupBy(CountAll()),
		"star with group": Select().GroupBy(Col("a")),
	} {
		if err := q.Validate(); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%s: Validate = %v, want ErrInvalidQuery", name, err)
		}
	}
	if err := Select().Where(Like("a", string(make([]byte, MaxPatternLen+1)))).Validate(); !errors.Is(err, ErrPatternTooLong) {
		t.Errorf("long pattern: %v, want ErrPatternTooLong", err)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}
