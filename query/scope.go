package query

import (
	"fmt"
	"slices"
	"time"

	"github.com/loglake/loglake"
)

// Scope is the set of tenants a query may read.
type Scope struct {
	// All is true when the query does not limit tenant_id and cross-tenant
	// queries were allowed: every tenant may be read.
	All bool
	// Tenants are the tenants the query is limited to, sorted and unique,
	// when All is false. Empty means the query cannot match any record (for
	// example tenant_id = 'a' AND tenant_id = 'b').
	Tenants []string
}

// Scope returns the tenants q is guaranteed to be limited to. Only
// top-level conjuncts of the WHERE clause count — q.Filter itself or an
// operand of a top-level AND (nested ANDs included) — and only of the forms
//
//	tenant_id = 'T'    'T' = tenant_id    tenant_id IN ('T1', 'T2', …)
//
// Several such conjuncts intersect. Anything else — a tenant_id under OR or
// NOT, NOT IN, <>, <, LIKE, a comparison with another column — does not
// narrow the scope, so a WHERE clause without such a conjunct leaves the
// query unscoped: Scope then returns an error wrapping [ErrUnscopedQuery],
// unless allowCrossTenant is true, when it returns Scope{All: true}.
//
// A literal that is not a valid tenant id (see loglake.ValidateTenant)
// makes Scope return an error wrapping loglake.ErrInvalidTenant, so that
// no query text ever reaches an object key unchecked.
//
// Since the SQL text is parsed first, nothing in it — comments, quotes,
// escapes, OR 1=1 — can widen the scope: a disjunction is never a
// top-level conjunct.
func (q Query) Scope(allowCrossTenant bool) (Scope, error) {
	var set []string
	scoped := false
	for _, c := range conjuncts(q.Filter, nil) {
		vals, ok := tenantValues(c)
		if !ok {
			continue
		}
		for _, v := range vals {
			if err := loglake.ValidateTenant(v); err != nil {
				return Scope{}, fmt.Errorf("query: tenant_id literal: %w", err)
			}
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		if !scoped {
			set, scoped = vals, true
			continue
		}
		set = slices.DeleteFunc(set, func(t string) bool {
			_, found := slices.BinarySearch(vals, t)
			return !found
		})
	}
	if !scoped {
		if allowCrossTenant {
			return Scope{All: true}, nil
		}
		return Scope{}, fmt.Errorf("query: WHERE must constrain %s with = or IN at the top level: %w", TenantColumn, ErrUnscopedQuery)
	}
	if set == nil {
		set = []string{}
	}
	return Scope{Tenants: set}, nil
}

// conjuncts appends the top-level conjuncts of e to dst.
func conjuncts(e Expr, dst []Expr) []Expr {
	switch x := e.(type) {
	case nil:
		return dst
	case *AndExpr:
		for _, a := range x.Args {
			dst = conjuncts(a, dst)
		}
		return dst
	}
	return append(dst, e)
}

// tenantValues recognises tenant_id = 'T', 'T' = tenant_id and
// tenant_id IN ('T', …). Non-string literals can never equal a tenant id
// and are dropped (the conjunct still narrows, possibly to nothing).
func tenantValues(e Expr) ([]string, bool) {
	switch x := e.(type) {
	case *CompareExpr:
		if x.Op != OpEq {
			return nil, false
		}
		col, lit, ok := columnLiteral(x.L, x.R)
		if !ok || col != TenantColumn {
			return nil, false
		}
		if s, ok := lit.(string); ok {
			return []string{s}, true
		}
		return []string{}, true
	case *InExpr:
		c, ok := x.X.(*Column)
		if x.Not || !ok || c.Name != TenantColumn {
			return nil, false
		}
		vals := []string{}
		for _, o := range x.List {
			l, ok := o.(*Literal)
			if !ok {
				return nil, false // tenant_id IN (other_column): not a constant set
			}
			if s, ok := l.Value.(string); ok {
				vals = append(vals, s)
			}
		}
		return vals, true
	}
	return nil, false
}

// columnLiteral matches a column compared with a literal, either way round.
func columnLiteral(a, b Operand) (col string, lit any, ok bool) {
	if c, ok := a.(*Column); ok {
		if l, ok := b.(*Literal); ok {
			return c.Name, normValue(l.Value), true
		}
	}
	if c, ok := b.(*Column); ok {
		if l, ok := a.(*Literal); ok {
			return c.Name, normValue(l.Value), true
		}
	}
	return "", nil, false
}

// TimeRange is a conservative range of the timestamp column: every record a
// query can match has From <= timestamp <= To. A zero From or To is
// unbounded. From after To means no record can match.
type TimeRange struct {
	From, To time.Time
}

// TimeRange returns the range of timestamps q can match, from top-level
// conjuncts comparing timestamp with a TIMESTAMP literal or with a string
// that parses as one (=, <, <=, >, >=, BETWEEN, IN). Other conjuncts do not
// narrow it. Strict bounds are widened to inclusive ones; the range is for
// pruning partitions and files, not for filtering rows. It assumes the
// timestamp column holds timestamps.
func (q Query) TimeRange() TimeRange {
	var r TimeRange
	lower := func(t time.Time) {
		if r.From.IsZero() || t.After(r.From) {
			r.From = t
		}
	}
	upper := func(t time.Time) {
		if r.To.IsZero() || t.Before(r.To) {
			r.To = t
		}
	}
	asTime := func(v any) (time.Time, bool) {
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), true
		case string:
			return parseTimestamp(x)
		}
		return time.Time{}, false
	}
	for _, c := range conjuncts(q.Filter, nil) {
		switch x := c.(type) {
		case *CompareExpr:
			col, lit, ok := columnLiteral(x.L, x.R)
			op := x.Op
			if _, isCol := x.L.(*Column); !isCol {
				op = op.flip()
			}
			t, okT := asTime(lit)
			if !ok || col != TimeColumn || !okT {
				continue
			}
			switch op {
			case OpEq:
				lower(t)
				upper(t)
			case OpGt, OpGe:
				lower(t)
			case OpLt, OpLe:
				upper(t)
			}
		case *BetweenExpr:
			c, ok := x.X.(*Column)
			if x.Not || !ok || c.Name != TimeColumn {
				continue
			}
			if l, ok := x.Lo.(*Literal); ok {
				if t, ok := asTime(l.Value); ok {
					lower(t)
				}
			}
			if l, ok := x.Hi.(*Literal); ok {
				if t, ok := asTime(l.Value); ok {
					upper(t)
				}
			}
		case *InExpr:
			c, ok := x.X.(*Column)
			if x.Not || !ok || c.Name != TimeColumn {
				continue
			}
			var lo, hi time.Time
			all := true
			for _, o := range x.List {
				l, ok := o.(*Literal)
				if !ok {
					all = false
					break
				}
				t, ok := asTime(l.Value)
				if !ok {
					continue // never equal to a timestamp
				}
				if lo.IsZero() || t.Before(lo) {
					lo = t
				}
				if hi.IsZero() || t.After(hi) {
					hi = t
				}
			}
			if all && !lo.IsZero() {
				lower(lo)
				upper(hi)
			}
		}
	}
	return r
}

// DayRange is a conservative range of the dt column (partition days): every
// record a query can match lies in a partition with First <= dt <= Last
// and, if Days is not nil, with dt in Days. A zero First or Last is
// unbounded. Empty reports that no partition can match.
type DayRange struct {
	First, Last loglake.Day
	Days        []loglake.Day // sorted, unique; nil when not constrained to a list
}

// Empty reports whether no day is in the range.
func (r DayRange) Empty() bool {
	if r.Days != nil && len(r.Days) == 0 {
		return true
	}
	return r.First.IsValid() && r.Last.IsValid() && r.First.After(r.Last)
}

// DayRange returns the dt partitions q can match, from top-level conjuncts
// comparing dt with 'YYYY-MM-DD' string literals (=, <>, <, <=, >, >=,
// BETWEEN, IN). As dt is a string column, a literal that is not a valid
// date never equals a partition's dt; in a range comparison it is ignored.
// Other conjuncts do not narrow the range.
func (q Query) DayRange() DayRange {
	var r DayRange
	lower := func(d loglake.Day) {
		if !r.First.IsValid() || d.After(r.First) {
			r.First = d
		}
	}
	upper := func(d loglake.Day) {
		if !r.Last.IsValid() || d.Before(r.Last) {
			r.Last = d
		}
	}
	restrict := func(days []loglake.Day) {
		slices.SortFunc(days, loglake.Day.Compare)
		days = slices.Compact(days)
		if r.Days == nil {
			r.Days = days
			return
		}
		r.Days = slices.DeleteFunc(r.Days, func(d loglake.Day) bool {
			_, found := slices.BinarySearchFunc(days, d, loglake.Day.Compare)
			return !found
		})
	}
	asDay := func(v any) (loglake.Day, bool) {
		s, ok := v.(string)
		if !ok {
			return loglake.Day{}, false
		}
		d, err := loglake.ParseDay(s)
		return d, err == nil
	}
	for _, c := range conjuncts(q.Filter, nil) {
		switch x := c.(type) {
		case *CompareExpr:
			col, lit, ok := columnLiteral(x.L, x.R)
			if !ok || col != DayColumn {
				continue
			}
			op := x.Op
			if _, isCol := x.L.(*Column); !isCol {
				op = op.flip()
			}
			d, okD := asDay(lit)
			switch {
			case op == OpEq && !okD:
				restrict([]loglake.Day{}) // equal to no valid day
			case !okD || op == OpNe:
			case op == OpEq:
				restrict([]loglake.Day{d})
			case op == OpGe:
				lower(d)
			case op == OpGt:
				lower(d.AddDays(1))
			case op == OpLe:
				upper(d)
			case op == OpLt:
				upper(d.AddDays(-1))
			}
		case *BetweenExpr:
			c, ok := x.X.(*Column)
			if x.Not || !ok || c.Name != DayColumn {
				continue
			}
			if l, ok := x.Lo.(*Literal); ok {
				if d, ok := asDay(l.Value); ok {
					lower(d)
				}
			}
			if l, ok := x.Hi.(*Literal); ok {
				if d, ok := asDay(l.Value); ok {
					upper(d)
				}
			}
		case *InExpr:
			c, ok := x.X.(*Column)
			if x.Not || !ok || c.Name != DayColumn {
				continue
			}
			days := []loglake.Day{}
			constant := true
			for _, o := range x.List {
				l, ok := o.(*Literal)
				if !ok {
					constant = false
					break
				}
				if d, ok := asDay(l.Value); ok {
					days = append(days, d)
				}
			}
			if constant {
				restrict(days)
			}
		}
	}
	if r.Days != nil {
		r.Days = slices.DeleteFunc(r.Days, func(d loglake.Day) bool {
			return r.First.IsValid() && d.Before(r.First) || r.Last.IsValid() && d.After(r.Last)
		})
	}
	return r
}
