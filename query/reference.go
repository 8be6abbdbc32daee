package query

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the reference evaluator: the plain, obviously-correct
// semantics of a whole query over in-memory records, against which the
// engine is tested differentially. Speed does not matter here.

// record is one log record: field name to value (nil, string, int64,
// float64, bool or time.Time; other integer and float types are widened).
// A missing field is NULL.
type record map[string]any

// refResult is a query result: column names and rows of values.
type refResult struct {
	Columns []string
	Rows    [][]any
}

// refEval evaluates q over recs:
//   - WHERE with three-valued logic (rows where it is NULL are dropped);
//   - without aggregates: rows in input order, then ORDER BY (stable, NULLs
//     last in both directions, as Trino), then LIMIT. SELECT * yields the
//     sorted union of the matching records' fields;
//   - with aggregates or GROUP BY: groups in order of first appearance
//     (NULL keys form one group; int64 1 and float64 1.0 are different
//     keys), one row for a query without GROUP BY even over no rows;
//     count → int64; sum → int64 (error on overflow) or float64 if any
//     value is a float64, NULL over no values; min/max over values of one
//     comparable kind; then ORDER BY and LIMIT.
//
// Ties in ORDER BY keep input order, so a differential test must compare
// tied rows as a set.
func refEval(q Query, recs []record) (*refResult, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	keep := recs
	if q.Filter != nil {
		p, err := compilePred(q.Filter)
		if err != nil {
			return nil, err
		}
		keep = nil
		for _, r := range recs {
			if p(r.get) == triTrue {
				keep = append(keep, r)
			}
		}
	}
	aggregated := len(q.Groups) > 0
	for _, it := range q.Items {
		aggregated = aggregated || it.Agg != AggNone
	}
	if aggregated {
		return refAggregate(q, keep)
	}

	if len(q.Order) > 0 {
		keep = slices.Clone(keep)
		sortRecords(q.Order, keep)
	}
	if q.MaxRows > 0 && int64(len(keep)) > q.MaxRows {
		keep = keep[:q.MaxRows]
	}
	res := &refResult{}
	if len(q.Items) == 0 {
		seen := map[string]bool{}
		for _, r := range keep {
			for k := range r {
				if !seen[k] {
					seen[k] = true
					res.Columns = append(res.Columns, k)
				}
			}
		}
		slices.Sort(res.Columns)
		for _, r := range keep {
			row := make([]any, len(res.Columns))
			for i, c := range res.Columns {
				row[i] = normValue(r[c])
			}
			res.Rows = append(res.Rows, row)
		}
		return res, nil
	}
	for _, it := range q.Items {
		res.Columns = append(res.Columns, it.Name())
	}
	for _, r := range keep {
		row := make([]any, len(q.Items))
		for i, it := range q.Items {
			row[i] = termValue(it.Term, r.get)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

func (r record) get(col string) any { return r[col] }

// termValue evaluates a non-aggregate term on a row.
func termValue(t Term, get getter) any {
	v := normValue(get(t.Column))
	if t.Unit != NoUnit {
		return truncTime(v, t.Unit)
	}
	return v
}

// sortRecords sorts recs stably by the ORDER BY items.
func sortRecords(order []OrderItem, recs []record) {
	slices.SortStableFunc(recs, func(a, b record) int {
		for _, o := range order {
			if c := orderCompare(termValue(o.Term, a.get), termValue(o.Term, b.get), o.Desc); c != 0 {
				return c
			}
		}
		return 0
	})
}

// orderCompare orders two values for ORDER BY: NULLs (and values of another
// kind than the other side's) last in both directions, as Trino does.
func orderCompare(a, b any, desc bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	c, ok := compareValues(a, b)
	if !ok {
		// Incomparable kinds: order by kind so the sort stays consistent.
		return cmp.Compare(kindRank(a), kindRank(b))
	}
	if desc {
		return -c
	}
	return c
}

func kindRank(v any) int {
	switch v.(type) {
	case bool:
		return 1
	case int64, float64:
		return 2
	case string:
		return 3
	case time.Time:
		return 4
	}
	return 5
}

// groupKey encodes a value for use as part of a map key.
func groupKey(v any) string {
	switch x := v.(type) {
	case nil:
		return "n"
	case string:
		return "s" + strconv.Quote(x)
	case int64:
		return "i" + strconv.FormatInt(x, 10)
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "b" + strconv.FormatBool(x)
	case time.Time:
		return "t" + strconv.FormatInt(x.Unix(), 10) + "." + strconv.Itoa(x.Nanosecond())
	}
	return fmt.Sprintf("?%T:%v", v, v)
}

type aggState struct {
	count int64
	val   any // min, max or sum so far; nil before the first value
	isF   bool
	sumF  float64
	sumI  int64
}

type group struct {
	key  string
	keys map[Term]any
	aggs map[Term]*aggState
}

// aggregator computes the groups and aggregates of a query, row by row.
// The reference evaluator and the engine share it, so that both have one
// semantics; the engine runs one per partition and merges them.
type aggregator struct {
	q      Query
	aggs   []Term // every aggregate the query needs, from SELECT and ORDER BY
	groups []*group
	index  map[string]*group
}

func newAggregator(q Query) *aggregator {
	a := &aggregator{q: q, index: map[string]*group{}}
	for _, it := range q.Items {
		if it.Agg != AggNone && !slices.Contains(a.aggs, it.Term) {
			a.aggs = append(a.aggs, it.Term)
		}
	}
	for _, o := range q.Order {
		if o.Agg != AggNone && !slices.Contains(a.aggs, o.Term) {
			a.aggs = append(a.aggs, o.Term)
		}
	}
	if len(q.Groups) == 0 {
		a.newGroup("", nil) // one row even over no records
	}
	return a
}

func (a *aggregator) newGroup(key string, keys map[Term]any) *group {
	g := &group{key: key, keys: keys, aggs: make(map[Term]*aggState, len(a.aggs))}
	for _, t := range a.aggs {
		g.aggs[t] = &aggState{}
	}
	a.groups = append(a.groups, g)
	a.index[key] = g
	return g
}

// add adds one row.
func (a *aggregator) add(get getter) error {
	var g *group
	if len(a.q.Groups) == 0 {
		g = a.groups[0]
	} else {
		keys := make(map[Term]any, len(a.q.Groups))
		k := ""
		for _, t := range a.q.Groups {
			v := termValue(t, get)
			keys[t] = v
			k += groupKey(v) + "\x00"
		}
		if g = a.index[k]; g == nil {
			for t, v := range keys {
				if s, ok := v.(string); ok {
					keys[t] = strings.Clone(s) // get may alias a reused buffer
				}
			}
			g = a.newGroup(k, keys)
		}
	}
	for _, t := range a.aggs {
		if err := g.aggs[t].add(t, get); err != nil {
			return err
		}
	}
	return nil
}

// merge adds b's groups to a's (groups new to a come after a's, in b's
// order).
func (a *aggregator) merge(b *aggregator) error {
	for _, bg := range b.groups {
		g := a.index[bg.key]
		if g == nil {
			g = a.newGroup(bg.key, bg.keys)
		}
		for _, t := range a.aggs {
			if err := g.aggs[t].merge(t, bg.aggs[t]); err != nil {
				return err
			}
		}
	}
	return nil
}

// result orders the groups, applies LIMIT and returns the rows of the
// select list.
func (a *aggregator) result() [][]any {
	q := a.q
	groups := a.groups
	value := func(g *group, t Term) any {
		if t.Agg == AggNone {
			return g.keys[t]
		}
		return g.aggs[t].result(t.Agg)
	}
	if len(q.Order) > 0 {
		groups = slices.Clone(groups)
		slices.SortStableFunc(groups, func(a, b *group) int {
			for _, o := range q.Order {
				if c := orderCompare(value(a, o.Term), value(b, o.Term), o.Desc); c != 0 {
					return c
				}
			}
			return 0
		})
	}
	if q.MaxRows > 0 && int64(len(groups)) > q.MaxRows {
		groups = groups[:q.MaxRows]
	}
	rows := make([][]any, 0, len(groups))
	for _, g := range groups {
		row := make([]any, len(q.Items))
		for i, it := range q.Items {
			row[i] = value(g, it.Term)
		}
		rows = append(rows, row)
	}
	return rows
}

func refAggregate(q Query, recs []record) (*refResult, error) {
	a := newAggregator(q)
	for _, r := range recs {
		if err := a.add(r.get); err != nil {
			return nil, err
		}
	}
	res := &refResult{Rows: a.result()}
	for _, it := range q.Items {
		res.Columns = append(res.Columns, it.Name())
	}
	return res, nil
}

func (s *aggState) add(t Term, get getter) error {
	if t.Agg == AggCount && t.Column == "" {
		s.count++
		return nil
	}
	v := normValue(get(t.Column))
	if v == nil {
		return nil
	}
	if str, ok := v.(string); ok && t.Agg != AggCount {
		v = strings.Clone(str) // get may alias a reused buffer
	}
	s.count++
	switch t.Agg {
	case AggMin, AggMax:
		if s.val == nil {
			s.val = v
			return nil
		}
		c, ok := compareValues(v, s.val)
		if !ok {
			return fmt.Errorf("query: %s: cannot compare %s with %s", t, typeName(v), typeName(s.val))
		}
		if (t.Agg == AggMin && c < 0) || (t.Agg == AggMax && c > 0) {
			s.val = v
		}
	case AggSum:
		switch x := v.(type) {
		case int64:
			if s.isF {
				s.sumF += float64(x)
			} else if (x > 0 && s.sumI > math.MaxInt64-x) || (x < 0 && s.sumI < math.MinInt64-x) {
				return fmt.Errorf("query: %s: integer overflow", t)
			} else {
				s.sumI += x
			}
		case float64:
			if !s.isF {
				s.isF, s.sumF = true, float64(s.sumI)
			}
			s.sumF += x
		default:
			return fmt.Errorf("query: %s: cannot sum a %s", t, typeName(v))
		}
		s.val = true
	}
	return nil
}

// addValue folds one non-NULL value into the state (the part of add
// after the value is known).
func (s *aggState) addValue(t Term, v any) error {
	switch t.Agg {
	case AggMin, AggMax:
		if s.val == nil {
			s.val = v
			return nil
		}
		c, ok := compareValues(v, s.val)
		if !ok {
			return fmt.Errorf("query: %s: cannot compare %s with %s", t, typeName(v), typeName(s.val))
		}
		if (t.Agg == AggMin && c < 0) || (t.Agg == AggMax && c > 0) {
			s.val = v
		}
	}
	return nil
}

// merge folds the state of another part of the rows into s.
func (s *aggState) merge(t Term, o *aggState) error {
	s.count += o.count
	switch t.Agg {
	case AggMin, AggMax:
		if o.val != nil {
			return s.addValue(t, o.val)
		}
	case AggSum:
		if o.val == nil {
			return nil
		}
		switch {
		case o.isF && !s.isF:
			s.isF, s.sumF = true, float64(s.sumI)+o.sumF
		case o.isF:
			s.sumF += o.sumF
		case s.isF:
			s.sumF += float64(o.sumI)
		case (o.sumI > 0 && s.sumI > math.MaxInt64-o.sumI) || (o.sumI < 0 && s.sumI < math.MinInt64-o.sumI):
			return fmt.Errorf("query: %s: integer overflow", t)
		default:
			s.sumI += o.sumI
		}
		s.val = true
	}
	return nil
}

func (s *aggState) result(a Agg) any {
	switch a {
	case AggCount:
		return s.count
	case AggSum:
		if s.val == nil {
			return nil
		}
		if s.isF {
			return s.sumF
		}
		return s.sumI
	}
	return s.val
}
