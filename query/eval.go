package query

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/loglake/loglake/internal/like"
)

// This file holds the row-at-a-time semantics of expressions: value
// coercion, comparison, three-valued logic. The reference evaluator uses it
// for whole queries, and the engine for rows it cannot evaluate faster.

// tri is a SQL truth value.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triNull
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func (a tri) and(b tri) tri {
	switch {
	case a == triFalse || b == triFalse:
		return triFalse
	case a == triNull || b == triNull:
		return triNull
	}
	return triTrue
}

func (a tri) or(b tri) tri {
	switch {
	case a == triTrue || b == triTrue:
		return triTrue
	case a == triNull || b == triNull:
		return triNull
	}
	return triFalse
}

func (a tri) not() tri {
	switch a {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triNull
}

// parseTimestamp parses the text of a TIMESTAMP literal, or a string
// compared with a timestamp: 'YYYY-MM-DD', optionally followed by ' ' or
// 'T' and HH:MM[:SS[.fraction]], optionally followed by a zone: Z, ±HH:MM
// (with or without a space before it) or ' UTC'. Without a zone the time is
// UTC. RFC 3339 timestamps are a special case. The result is in UTC, in
// the years 1 to 9999.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 4 && strings.EqualFold(s[len(s)-4:], " UTC") {
		s = s[:len(s)-4] + "Z"
	}
	if len(s) < 10 {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			if y := t.Year(); y < 1 || y > 9999 {
				return time.Time{}, false // not printable as YYYY in UTC
			}
			return t, true
		}
	}
	return time.Time{}, false
}

var timestampLayouts = []string{
	"2006-01-02T15:04:05Z07:00", // fractional seconds are accepted after :05
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04 Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// normValue maps a Go value to the value domain of expressions: nil,
// string, int64, float64, bool, time.Time. Other integer and float types are
// widened; []byte becomes a string; unknown types are returned unchanged and
// compare as NULL.
func normValue(v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return v
	case time.Time:
		return x.UTC()
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	}
	return v
}

// compareValues orders two normalised values. ok is false when either is
// NULL or they cannot be compared; the comparison is then NULL. Rules:
//   - numbers compare with numbers, int64 and float64 exactly (NaN: never);
//   - strings compare with strings, byte-wise (= code point order);
//   - booleans with booleans, false < true;
//   - timestamps with timestamps; a string compared with a timestamp is
//     parsed as by TIMESTAMP '…' (RFC 3339 included), and if it does not
//     parse the comparison is NULL;
//   - any other mix (a string and a number, say) is NULL, where Trino would
//     reject the query: log fields change type from record to record, and a
//     record whose field has another type simply does not match.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp.Compare(x, y), true
		case float64:
			c, ok := cmpIntFloat(x, y)
			return c, ok
		}
	case float64:
		switch y := b.(type) {
		case float64:
			if math.IsNaN(x) || math.IsNaN(y) {
				return 0, false
			}
			return cmp.Compare(x, y), true
		case int64:
			c, ok := cmpIntFloat(y, x)
			return -c, ok
		}
	case string:
		switch y := b.(type) {
		case string:
			return strings.Compare(x, y), true
		case time.Time:
			t, ok := parseTimestamp(x)
			if !ok {
				return 0, false
			}
			return t.Compare(y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			return x.Compare(y), true
		case string:
			t, ok := parseTimestamp(y)
			if !ok {
				return 0, false
			}
			return x.Compare(t), true
		}
	}
	return 0, false
}

// cmpIntFloat compares an int64 with a float64 exactly.
func cmpIntFloat(i int64, f float64) (int, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= 0x1p63:
		return -1, true
	case f < -0x1p63:
		return 1, true
	}
	t := math.Trunc(f)
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c, true
	}
	return cmp.Compare(0, f-t), true // i == trunc(f): the fraction decides
}

func compareOp(op CmpOp, a, b any) tri {
	c, ok := compareValues(a, b)
	if !ok {
		return triNull
	}
	switch op {
	case OpEq:
		return triOf(c == 0)
	case OpNe:
		return triOf(c != 0)
	case OpLt:
		return triOf(c < 0)
	case OpLe:
		return triOf(c <= 0)
	case OpGt:
		return triOf(c > 0)
	case OpGe:
		return triOf(c >= 0)
	}
	return triNull
}

// getter returns the value of a column of the current row, nil when the
// row lacks the column or holds NULL.
type getter func(col string) any

// pred is a compiled WHERE expression.
type pred func(get getter) tri

// valueFn is a compiled operand.
type valueFn func(get getter) any

// compilePred compiles e (which must be valid) into a function of rows.
// LIKE patterns are compiled once here.
func compilePred(e Expr) (pred, error) {
	switch e := e.(type) {
	case *AndExpr, *OrExpr:
		var args []Expr
		isAnd := false
		if a, ok := e.(*AndExpr); ok {
			args, isAnd = a.Args, true
		} else {
			args = e.(*OrExpr).Args
		}
		ps := make([]pred, len(args))
		for i, a := range args {
			p, err := compilePred(a)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		if isAnd {
			return func(get getter) tri {
				r := triTrue
				for _, p := range ps {
					if r = r.and(p(get)); r == triFalse {
						return r
					}
				}
				return r
			}, nil
		}
		return func(get getter) tri {
			r := triFalse
			for _, p := range ps {
				if r = r.or(p(get)); r == triTrue {
					return r
				}
			}
			return r
		}, nil
	case *NotExpr:
		p, err := compilePred(e.X)
		if err != nil {
			return nil, err
		}
		return func(get getter) tri { return p(get).not() }, nil
	case *CompareExpr:
		l, r, op := compileOperand(e.L), compileOperand(e.R), e.Op
		return func(get getter) tri { return compareOp(op, l(get), r(get)) }, nil
	case *InExpr:
		x := compileOperand(e.X)
		list := make([]valueFn, len(e.List))
		for i, o := range e.List {
			list[i] = compileOperand(o)
		}
		not := e.Not
		return func(get getter) tri {
			v := x(get)
			r := triFalse
			for _, l := range list {
				if r = r.or(compareOp(OpEq, v, l(get))); r == triTrue {
					break
				}
			}
			if not {
				return r.not()
			}
			return r
		}, nil
	case *BetweenExpr:
		x, lo, hi, not := compileOperand(e.X), compileOperand(e.Lo), compileOperand(e.Hi), e.Not
		return func(get getter) tri {
			v := x(get)
			r := compareOp(OpGe, v, lo(get)).and(compareOp(OpLe, v, hi(get)))
			if not {
				return r.not()
			}
			return r
		}, nil
	case *LikeExpr:
		m, err := like.Compile(e.Pattern, like.Options{Escape: e.Escape, IgnoreCase: e.IgnoreCase})
		if err != nil {
			return nil, err
		}
		x, not := compileOperand(e.X), e.Not
		return func(get getter) tri {
			s, ok := x(get).(string)
			if !ok {
				return triNull // NULL, or not a string
			}
			r := triOf(m.MatchString(s))
			if not {
				return r.not()
			}
			return r
		}, nil
	case *IsNullExpr:
		x, not := compileOperand(e.X), e.Not
		return func(get getter) tri { return triOf((x(get) == nil) != not) }, nil
	}
	return nil, invalidf("unsupported expression type %T", e)
}

func compileOperand(o Operand) valueFn {
	switch o := o.(type) {
	case *Column:
		name := o.Name
		return func(get getter) any { return normValue(get(name)) }
	case *Literal:
		v := normValue(o.Value)
		return func(getter) any { return v }
	}
	return func(getter) any { return nil }
}

// truncTime applies date_trunc in UTC to a timestamp, or to a string that
// parses as one; anything else gives NULL.
func truncTime(v any, u TimeUnit) any {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x.UTC()
	case string:
		var ok bool
		if t, ok = parseTimestamp(x); !ok {
			return nil
		}
	default:
		return nil
	}
	switch u {
	case UnitMinute:
		return t.Truncate(time.Minute)
	case UnitHour:
		return t.Truncate(time.Hour)
	case UnitDay:
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// inspectLeaves calls fn for every predicate of e that is not AND, OR or
// NOT (comparisons, IN, BETWEEN, LIKE, IS NULL), walking through those
// three.
func inspectLeaves(e Expr, fn func(Expr)) {
	switch x := e.(type) {
	case nil:
	case *AndExpr:
		for _, a := range x.Args {
			inspectLeaves(a, fn)
		}
	case *OrExpr:
		for _, a := range x.Args {
			inspectLeaves(a, fn)
		}
	case *NotExpr:
		inspectLeaves(x.X, fn)
	default:
		fn(e)
	}
}

// prefilterLiterals returns needles (strings, exact or up to ASCII case)
// that the raw NDJSON line of every record matching e contains, possibly
// JSON-escaped, for a like.JSONPrefilter: the needles of the LIKE and ILIKE
// predicates (not NOT LIKE) that are top-level conjuncts of e and test a
// field of the record. tenant_id and dt are left out, since they come
// from the partition and need not appear in the line. Equalities col =
// 'text' add text when only a string can equal it, col = true|false the
// literal (see equalityNeedle).
func prefilterLiterals(e Expr) []like.Needle {
	var lits []like.Needle
	for _, c := range conjuncts(e, nil) {
		if n, ok := equalityNeedle(c); ok {
			lits = append(lits, n)
			continue
		}
		l, ok := c.(*LikeExpr)
		if !ok || l.Not {
			continue
		}
		col, ok := l.X.(*Column)
		if !ok || col.Name == TenantColumn || col.Name == DayColumn {
			continue
		}
		m, err := like.Compile(l.Pattern, like.Options{Escape: l.Escape, IgnoreCase: l.IgnoreCase})
		if err != nil {
			continue
		}
		lits = append(lits, m.Needles()...)
	}
	return lits
}

// referencedColumns returns the sorted, unique columns q reads anywhere
// (select list, WHERE, GROUP BY, ORDER BY), for column pruning; all is
// true for SELECT *, which reads every column.
func (q Query) referencedColumns() (cols []string, all bool) {
	seen := map[string]bool{}
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	for _, it := range q.Items {
		add(it.Column)
	}
	for _, g := range q.Groups {
		add(g.Column)
	}
	for _, o := range q.Order {
		add(o.Column)
	}
	ops := func(os ...Operand) {
		for _, o := range os {
			if c, ok := o.(*Column); ok {
				add(c.Name)
			}
		}
	}
	inspectLeaves(q.Filter, func(e Expr) {
		switch x := e.(type) {
		case *CompareExpr:
			ops(x.L, x.R)
		case *InExpr:
			ops(x.X)
			ops(x.List...)
		case *BetweenExpr:
			ops(x.X, x.Lo, x.Hi)
		case *LikeExpr:
			ops(x.X)
		case *IsNullExpr:
			ops(x.X)
		}
	})
	slices.Sort(cols)
	return cols, len(q.Items) == 0
}
