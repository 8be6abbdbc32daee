package query

import (
	"time"
)

// The builder makes the same Query values Parse does, for callers who would
// rather not assemble SQL text:
//
//	q := query.Select("timestamp", "file_path").
//		Where(query.And(
//			query.Eq("tenant_id", "acme"),
//			query.Like("file_path", "%社外秘%"),
//		)).
//		OrderBy("timestamp", query.Desc).
//		Limit(100)
//
// Builder methods take and return Query values, so a partly built query can
// be reused as a template. Names given to the builder are used as they are
// (case-sensitive), like double-quoted identifiers in SQL. The builder does
// not validate; [Query.Validate] (which the engine calls) does.

// Direction is the sort direction of ORDER BY.
type Direction bool

// Sort directions.
const (
	Asc  Direction = false
	Desc Direction = true
)

// Selectable is a select-list entry for [SelectTerms]: a [Term] or a
// [SelectItem].
type Selectable interface {
	selectItem() SelectItem
}

func (t Term) selectItem() SelectItem        { return SelectItem{Term: t} }
func (it SelectItem) selectItem() SelectItem { return it }

// Select starts a query selecting the given columns; with none, SELECT *.
func Select(columns ...string) Query {
	var q Query
	for _, c := range columns {
		q.Items = append(q.Items, SelectItem{Term: Term{Column: c}})
	}
	return q
}

// SelectTerms starts a query selecting terms: columns ([Col]), truncated
// timestamps ([DateTrunc]) and aggregates ([CountAll], [Sum], …), each
// optionally renamed with [Term.As].
func SelectTerms(items ...Selectable) Query {
	var q Query
	for _, it := range items {
		q.Items = append(q.Items, it.selectItem())
	}
	return q
}

// Col is the column name as a term.
func Col(name string) Term { return Term{Column: name} }

// DateTrunc is date_trunc(unit, column).
func DateTrunc(unit TimeUnit, column string) Term { return Term{Unit: unit, Column: column} }

// CountAll is count(*).
func CountAll() Term { return Term{Agg: AggCount} }

// Count is count(column): the number of non-NULL values.
func Count(column string) Term { return Term{Agg: AggCount, Column: column} }

// Min is min(column).
func Min(column string) Term { return Term{Agg: AggMin, Column: column} }

// Max is max(column).
func Max(column string) Term { return Term{Agg: AggMax, Column: column} }

// Sum is sum(column).
func Sum(column string) Term { return Term{Agg: AggSum, Column: column} }

// As names the term's result column.
func (t Term) As(alias string) SelectItem { return SelectItem{Term: t, Alias: alias} }

// Where sets the WHERE clause (replacing any earlier one; combine with
// [And]). A nil e removes it.
func (q Query) Where(e Expr) Query {
	q.Filter = e
	return q
}

// GroupBy appends GROUP BY terms.
func (q Query) GroupBy(terms ...Term) Query {
	q.Groups = append(q.Groups[:len(q.Groups):len(q.Groups)], terms...)
	return q
}

// OrderBy appends an ORDER BY on a column.
func (q Query) OrderBy(column string, dir Direction) Query {
	return q.OrderByTerm(Col(column), dir)
}

// OrderByTerm appends an ORDER BY on any term (date_trunc, an aggregate).
func (q Query) OrderByTerm(t Term, dir Direction) Query {
	q.Order = append(q.Order[:len(q.Order):len(q.Order)], OrderItem{Term: t, Desc: bool(dir)})
	return q
}

// Limit sets LIMIT n; 0 removes it.
func (q Query) Limit(n int64) Query {
	q.MaxRows = n
	return q
}

// And is the conjunction of exprs. Nested ANDs are flattened, nil operands
// dropped; with one operand left it is returned as is, with none And
// returns nil (no condition).
func And(exprs ...Expr) Expr { return junction(exprs, true) }

// Or is the disjunction of exprs, flattened like [And].
func Or(exprs ...Expr) Expr { return junction(exprs, false) }

func junction(exprs []Expr, and bool) Expr {
	var args []Expr
	for _, e := range exprs {
		switch x := e.(type) {
		case nil:
		case *AndExpr:
			if and {
				args = append(args, x.Args...)
			} else {
				args = append(args, x)
			}
		case *OrExpr:
			if !and {
				args = append(args, x.Args...)
			} else {
				args = append(args, x)
			}
		default:
			args = append(args, e)
		}
	}
	switch {
	case len(args) == 0:
		return nil
	case len(args) == 1:
		return args[0]
	case and:
		return &AndExpr{Args: args}
	}
	return &OrExpr{Args: args}
}

// Not is NOT e.
func Not(e Expr) Expr { return &NotExpr{X: e} }

// Lit makes a literal of v: nil, a string, any integer or float type, a
// bool or a time.Time (kept as UTC). Other types are kept and rejected by
// [Query.Validate].
func Lit(v any) *Literal {
	v = normValue(v)
	if t, ok := v.(time.Time); ok {
		v = t.Round(0).UTC() // no monotonic clock reading
	}
	return &Literal{Value: v}
}

func cmpExpr(op CmpOp, column string, v any) Expr {
	return &CompareExpr{Op: op, L: &Column{Name: column}, R: Lit(v)}
}

// Eq is column = v.
func Eq(column string, v any) Expr { return cmpExpr(OpEq, column, v) }

// Ne is column <> v.
func Ne(column string, v any) Expr { return cmpExpr(OpNe, column, v) }

// Lt is column < v.
func Lt(column string, v any) Expr { return cmpExpr(OpLt, column, v) }

// Le is column <= v.
func Le(column string, v any) Expr { return cmpExpr(OpLe, column, v) }

// Gt is column > v.
func Gt(column string, v any) Expr { return cmpExpr(OpGt, column, v) }

// Ge is column >= v.
func Ge(column string, v any) Expr { return cmpExpr(OpGe, column, v) }

// In is column IN (values…).
func In[T any](column string, values ...T) Expr {
	e := &InExpr{X: &Column{Name: column}}
	for _, v := range values {
		e.List = append(e.List, Lit(v))
	}
	return e
}

// NotIn is column NOT IN (values…).
func NotIn[T any](column string, values ...T) Expr {
	e := In(column, values...).(*InExpr)
	e.Not = true
	return e
}

// Between is column BETWEEN lo AND hi (both inclusive).
func Between(column string, lo, hi any) Expr {
	return &BetweenExpr{X: &Column{Name: column}, Lo: Lit(lo), Hi: Lit(hi)}
}

// Like is column LIKE pattern. Use [LikeExpr.WithEscape] for an escape
// character.
func Like(column, pattern string) *LikeExpr {
	return &LikeExpr{X: &Column{Name: column}, Pattern: pattern}
}

// NotLike is column NOT LIKE pattern.
func NotLike(column, pattern string) *LikeExpr {
	e := Like(column, pattern)
	e.Not = true
	return e
}

// ILike is column ILIKE pattern: case-insensitive (Unicode simple folding).
func ILike(column, pattern string) *LikeExpr {
	e := Like(column, pattern)
	e.IgnoreCase = true
	return e
}

// WithEscape returns a copy of e with the escape character c (ESCAPE 'c').
func (e *LikeExpr) WithEscape(c rune) *LikeExpr {
	x := *e
	x.Escape = c
	return &x
}

// IsNull is column IS NULL (the field is missing or null).
func IsNull(column string) Expr { return &IsNullExpr{X: &Column{Name: column}} }

// IsNotNull is column IS NOT NULL.
func IsNotNull(column string) Expr { return &IsNullExpr{X: &Column{Name: column}, Not: true} }
