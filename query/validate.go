package query

import (
	"fmt"
	"math"
	"time"

	"github.com/loglake/loglake/internal/like"
)

// Validate reports whether q is a query Parse could have returned: terms
// well formed, grouping consistent, literals of supported types, LIKE
// patterns valid, expressions no deeper than MaxDepth. Queries from Parse
// are always valid; built queries should be validated (the engine does).
// The error matches [ErrInvalidQuery].
func (q Query) Validate() error {
	if q.MaxRows < 0 {
		return invalidf("negative LIMIT %d", q.MaxRows)
	}
	if q.Filter != nil {
		if err := validateExpr(q.Filter, 0); err != nil {
			return err
		}
	}
	return validateShape(&q, nil, "")
}

// validateShape checks the select list, GROUP BY and ORDER BY. With pos
// non-nil, errors are SyntaxErrors at the offending item.
func validateShape(q *Query, pos *positions, src string) error {
	fail := func(toks []token, i int, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if pos == nil || i >= len(toks) {
			return invalidf("%s", msg)
		}
		return newSyntaxError(src, toks[i].pos, "", msg, nil)
	}
	var items, groups, order []token
	if pos != nil {
		items, groups, order = pos.items, pos.groups, pos.order
	}
	aggregated := len(q.Groups) > 0
	for i, it := range q.Items {
		if err := checkTerm(it.Term); err != nil {
			return fail(items, i, "select item %d: %s", i+1, err)
		}
		if it.Agg != AggNone {
			aggregated = true
		}
	}
	for i, g := range q.Groups {
		if err := checkTerm(g); err != nil {
			return fail(groups, i, "GROUP BY item %d: %s", i+1, err)
		}
		if g.Agg != AggNone {
			return fail(groups, i, "GROUP BY item %d: aggregate %s cannot be grouped by", i+1, g)
		}
	}
	isGroup := func(t Term) bool {
		for _, g := range q.Groups {
			if g == t {
				return true
			}
		}
		return false
	}
	if aggregated {
		if len(q.Items) == 0 {
			var sel []token
			if pos != nil {
				sel = pos.sel
			}
			return fail(sel, 0, "SELECT * cannot be combined with GROUP BY or aggregates")
		}
		for i, it := range q.Items {
			if it.Agg == AggNone && !isGroup(it.Term) {
				return fail(items, i, "%s must appear in GROUP BY or be inside an aggregate", it.Term)
			}
		}
	}
	for i, o := range q.Order {
		if err := checkTerm(o.Term); err != nil {
			return fail(order, i, "ORDER BY item %d: %s", i+1, err)
		}
		switch {
		case aggregated && o.Agg == AggNone && !isGroup(o.Term):
			return fail(order, i, "ORDER BY %s: an aggregated query can only be ordered by GROUP BY terms and aggregates", o.Term)
		case !aggregated && o.Agg != AggNone:
			return fail(order, i, "ORDER BY %s: aggregate in a query without aggregates", o.Term)
		}
	}
	return nil
}

func checkTerm(t Term) error {
	switch {
	case t.Agg > AggSum:
		return fmt.Errorf("unknown aggregate %d", t.Agg)
	case t.Unit > UnitDay:
		return fmt.Errorf("unknown date_trunc unit %d", t.Unit)
	case t.Agg != AggNone && t.Unit != NoUnit:
		return fmt.Errorf("date_trunc inside %s is not supported", t.Agg)
	case t.Column == "" && t.Agg != AggCount:
		return fmt.Errorf("missing column")
	}
	return nil
}

// validateExpr checks a WHERE expression of a built query.
func validateExpr(e Expr, depth int) error {
	if depth > MaxDepth {
		return invalidf("expression nested deeper than %d levels", MaxDepth)
	}
	switch e := e.(type) {
	case *AndExpr:
		return validateArgs("AND", e.Args, depth)
	case *OrExpr:
		return validateArgs("OR", e.Args, depth)
	case *NotExpr:
		if e.X == nil {
			return invalidf("NOT without an operand")
		}
		return validateExpr(e.X, depth+1)
	case *CompareExpr:
		if e.Op > OpGe {
			return invalidf("unknown comparison operator %d", e.Op)
		}
		return validateOperands(e.L, e.R)
	case *InExpr:
		if len(e.List) == 0 {
			return invalidf("IN with an empty list")
		}
		if err := validateOperands(e.X); err != nil {
			return err
		}
		return validateOperands(e.List...)
	case *BetweenExpr:
		return validateOperands(e.X, e.Lo, e.Hi)
	case *LikeExpr:
		if err := validateOperands(e.X); err != nil {
			return err
		}
		if _, err := like.Compile(e.Pattern, like.Options{Escape: e.Escape, IgnoreCase: e.IgnoreCase}); err != nil {
			return fmt.Errorf("query: %w: %w", err, ErrInvalidQuery)
		}
		return nil
	case *IsNullExpr:
		return validateOperands(e.X)
	case nil:
		return invalidf("missing expression")
	}
	return invalidf("unsupported expression type %T", e)
}

func validateArgs(op string, args []Expr, depth int) error {
	if len(args) < 2 {
		return invalidf("%s with %d operands (want at least 2)", op, len(args))
	}
	for _, a := range args {
		// A nested AND/OR prints in parentheses, which the parser counts.
		d := depth
		if isAndOr(a) {
			d++
		}
		if err := validateExpr(a, d); err != nil {
			return err
		}
	}
	return nil
}

func validateOperands(ops ...Operand) error {
	for _, o := range ops {
		switch o := o.(type) {
		case *Column:
			if o.Name == "" {
				return invalidf("empty column name")
			}
		case *Literal:
			switch v := o.Value.(type) {
			case nil, bool, int64, string:
			case float64:
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return invalidf("literal %v is not a finite number", v)
				}
			case time.Time:
				if y := v.UTC().Year(); y < 1 || y > 9999 {
					return invalidf("TIMESTAMP year %d out of range 1 to 9999", y)
				}
			default:
				return invalidf("literal of unsupported type %s", typeName(v))
			}
		case nil:
			return invalidf("missing operand")
		default:
			return invalidf("unsupported operand type %T", o)
		}
	}
	return nil
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
