package query

import (
	"slices"

	"github.com/loglake/loglake/internal/like"
)

// Parquet scans evaluate WHERE column by column. The top-level conjuncts
// are split by the record columns they read:
//
//   - none (tenant_id and dt only): a constant of the partition;
//   - one: a function of that column's value alone, evaluated on the
//     column's pages — once per dictionary entry, once per distinct
//     boolean, or value by value with fast paths for LIKE and equality —
//     into a selection of rows;
//   - more: the residual, evaluated row by row on the decoded rows that
//     every column's selection kept.
//
// A row survives when every conjunct is TRUE, so the selections of the
// columns are ANDed; NULL and FALSE alike drop a row.

// colPred is the conjuncts of WHERE that read one record column.
type colPred struct {
	col   string
	conjs []Expr
	p     pred          // the conjuncts ANDed
	like  *driveLike    // the only conjunct is col [NOT] LIKE: plain pages search its literal
	lit   *like.Literal // like.lit, searched through its rarest byte
	eq    []byte        // the only conjunct is col = 'eq' (hasEq)
	hasEq bool
	i64   func(int64) bool // for int64 values: the conjuncts are TRUE; nil for none
}

// splitFilter fills p.colPreds, p.constPred, p.residual and p.pqCols from
// the query's WHERE clause.
func (p *plan) splitFilter() error {
	q := p.q
	byCol := map[string]*colPred{}
	var consts, rest []Expr
	for _, c := range conjuncts(q.Filter, nil) {
		cols := recordColumns(c)
		switch len(cols) {
		case 0:
			consts = append(consts, c)
		case 1:
			cp := byCol[cols[0]]
			if cp == nil {
				cp = &colPred{col: cols[0]}
				byCol[cols[0]] = cp
				p.colPreds = append(p.colPreds, cp)
			}
			cp.conjs = append(cp.conjs, c)
		default:
			rest = append(rest, c)
		}
	}
	var err error
	if p.constPred, err = compileConjs(consts); err != nil {
		return err
	}
	if p.residual, err = compileConjs(rest); err != nil {
		return err
	}
	p.residualConjs = rest
	for _, cp := range p.colPreds {
		if cp.p, err = compileConjs(cp.conjs); err != nil {
			return err
		}
		if len(cp.conjs) != 1 {
			cp.i64 = int64Conjs(cp.conjs)
			continue
		}
		switch x := cp.conjs[0].(type) {
		case *LikeExpr:
			m, err := like.Compile(x.Pattern, like.Options{Escape: x.Escape, IgnoreCase: x.IgnoreCase})
			if err != nil {
				return err
			}
			d := &driveLike{col: cp.col, m: m, not: x.Not}
			if !x.Not {
				for _, r := range m.RequiredLiterals() {
					if len(r) > len(d.lit) {
						d.lit = []byte(r)
					}
				}
			}
			cp.like = d
			if len(d.lit) > 0 {
				cp.lit = like.NewLiteral(d.lit)
			}
		case *CompareExpr:
			if x.Op == OpEq {
				if s, ok := stringLiteralOf(x.L, x.R); ok {
					cp.eq, cp.hasEq = []byte(s), true
				}
			}
		}
		cp.i64 = int64Conjs(cp.conjs)
	}
	slices.SortFunc(p.colPreds, func(a, b *colPred) int {
		switch {
		case a.col < b.col:
			return -1
		case a.col > b.col:
			return 1
		}
		return 0
	})
	// The columns Parquet scans decode at surviving rows: those of the
	// select list, GROUP BY, ORDER BY and the residual.
	if !p.all {
		seen := map[string]bool{}
		add := func(c string) {
			if c != "" && c != TenantColumn && c != DayColumn && !seen[c] {
				seen[c] = true
				p.pqCols = append(p.pqCols, c)
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
		for _, c := range rest {
			for _, col := range recordColumns(c) {
				add(col)
			}
		}
		slices.Sort(p.pqCols)
	}
	return nil
}

// recordColumns returns the record columns (not tenant_id, dt) e reads.
func recordColumns(e Expr) []string {
	cols, _ := Query{Filter: e}.referencedColumns()
	out := cols[:0]
	for _, c := range cols {
		if c != TenantColumn && c != DayColumn {
			out = append(out, c)
		}
	}
	return out
}

// compileConjs compiles the AND of es; nil for none.
func compileConjs(es []Expr) (pred, error) {
	switch len(es) {
	case 0:
		return nil, nil
	case 1:
		return compilePred(es[0])
	}
	return compilePred(&AndExpr{Args: es})
}

// stringLiteralOf returns the string of a comparison column = 'lit' (either
// side).
func stringLiteralOf(l, r Operand) (string, bool) {
	if _, ok := l.(*Column); !ok {
		l, r = r, l
	}
	if _, ok := l.(*Column); !ok {
		return "", false
	}
	lit, ok := r.(*Literal)
	if !ok {
		return "", false
	}
	s, ok := lit.Value.(string)
	return s, ok
}

// int64Conjs returns, when every conjunct compares the column with an
// integer literal (col op n, n op col, col [NOT] IN (n, …),
// col [NOT] BETWEEN n AND m, col IS [NOT] NULL excluded), a function
// telling whether all are TRUE for a non-NULL int64 value; nil otherwise.
func int64Conjs(es []Expr) func(int64) bool {
	var fs []func(int64) bool
	for _, e := range es {
		f := int64Conj(e)
		if f == nil {
			return nil
		}
		fs = append(fs, f)
	}
	if len(fs) == 1 {
		return fs[0]
	}
	return func(v int64) bool {
		for _, f := range fs {
			if !f(v) {
				return false
			}
		}
		return true
	}
}

func intLit(o Operand) (int64, bool) {
	l, ok := o.(*Literal)
	if !ok {
		return 0, false
	}
	n, ok := l.Value.(int64)
	return n, ok
}

func int64Conj(e Expr) func(int64) bool {
	cmpOp := func(op CmpOp, n int64) func(int64) bool {
		switch op {
		case OpEq:
			return func(v int64) bool { return v == n }
		case OpNe:
			return func(v int64) bool { return v != n }
		case OpLt:
			return func(v int64) bool { return v < n }
		case OpLe:
			return func(v int64) bool { return v <= n }
		case OpGt:
			return func(v int64) bool { return v > n }
		case OpGe:
			return func(v int64) bool { return v >= n }
		}
		return nil
	}
	switch x := e.(type) {
	case *CompareExpr:
		if _, ok := x.L.(*Column); ok {
			if n, ok := intLit(x.R); ok {
				return cmpOp(x.Op, n)
			}
		}
		if _, ok := x.R.(*Column); ok {
			if n, ok := intLit(x.L); ok {
				// n op col is col op' n.
				flip := map[CmpOp]CmpOp{OpEq: OpEq, OpNe: OpNe, OpLt: OpGt, OpLe: OpGe, OpGt: OpLt, OpGe: OpLe}
				if op, ok := flip[x.Op]; ok {
					return cmpOp(op, n)
				}
			}
		}
	case *InExpr:
		if _, ok := x.X.(*Column); !ok {
			return nil
		}
		var ns []int64
		for _, o := range x.List {
			n, ok := intLit(o)
			if !ok {
				return nil // NULL or other kinds in the list: three-valued subtleties
			}
			ns = append(ns, n)
		}
		not := x.Not
		return func(v int64) bool { return slices.Contains(ns, v) != not }
	case *BetweenExpr:
		if _, ok := x.X.(*Column); !ok {
			return nil
		}
		lo, ok1 := intLit(x.Lo)
		hi, ok2 := intLit(x.Hi)
		if !ok1 || !ok2 {
			return nil
		}
		not := x.Not
		return func(v int64) bool { return (v >= lo && v <= hi) != not }
	}
	return nil
}
