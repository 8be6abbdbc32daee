package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/like"
	"github.com/loglake/loglake/projection"
)

// mode is how a query's matched rows become its result.
type mode uint8

const (
	modeStream mode = iota // plain rows, streamed as partitions complete (LIMIT stops early)
	modeOrder              // ORDER BY without aggregates: rows are held (top LIMIT only), sorted at the end
	modeAgg                // aggregates or GROUP BY: partial aggregates per partition, merged
)

// plan is a query made ready to run: the partitions to read, in order, and
// everything the scanners need.
type plan struct {
	q     Query
	scope Scope
	pred  pred     // nil without WHERE
	cols  []string // record columns the query reads (not tenant_id, dt); nil with all
	all   bool     // SELECT *: every column
	pre   *like.JSONPrefilter
	drive *driveLike // the LIKE conjunct a Parquet file must have the column of; may be nil
	// colPreds, constPred, residual and pqCols split WHERE for Parquet
	// scans (see colpred.go): conjuncts by the one record column they
	// read, those that read none, the others (row by row; nil for none),
	// and the columns decoded at surviving rows.
	colPreds      []*colPred
	constPred     pred
	residual      pred
	residualConjs []Expr
	pqCols        []string
	mode          mode
	limit         int64 // LIMIT, 0 for none
	tr            TimeRange
	fromUS        int64 // tr.From in µs (rounded up), or minInt64
	toUS          int64 // tr.To in µs (rounded down), or maxInt64
	// tsOrder is +1 or -1 when the first ORDER BY term is the plain
	// timestamp column (ASC or DESC) and the query has a LIMIT: partitions
	// are then read from that end and reading stops once the answer is
	// certain. 0 otherwise.
	tsOrder int
	parts   []loglake.Partition
	// locs, for a foreign engine, are the key prefixes of parts (one per
	// projected partition; several may share a tenant and day). nil
	// otherwise.
	locs []string
	// partTR is the range of partition times the query can match: tr on
	// a lake; on a foreign layout tr, tr widened by MaxDelay, or
	// unbounded, as its time columns allow (see ForeignLayout.EventTime).
	partTR TimeRange
	empty  bool // the query can match nothing
	// pageIndex: the time range is bounded on both sides and shorter than
	// a day, narrow enough that reading the timestamp column's page index
	// (a small range read per row group) pays for itself.
	pageIndex bool
}

// driveLike is a top-level conjunct col [NOT] LIKE 'p': a Parquet file
// without col is skipped unopened (chooseDrive), and plain pages of col
// are searched for lit (colPred).
type driveLike struct {
	col string
	m   *like.Matcher
	not bool
	lit []byte // a required literal to search page data for; nil for none
	// keep reports whether a string value passes the conjunct, for a
	// raw LineBatch's Gate.
	keep func([]byte) bool
}

// narrow makes lb, a batch of raw lines, decode only the columns the plan
// reads and drop the lines its driving LIKE certainly rejects.
func (p *plan) narrow(lb *compact.LineBatch) {
	if p.all {
		return
	}
	lb.KeepColumns(p.cols)
	if d := p.drive; d != nil {
		lb.Gate(d.col, d.keep)
	}
}

// needsColumn reports whether the plan reads column c of a record.
func (p *plan) needsColumn(c string) bool {
	if p.all {
		return true
	}
	_, ok := slices.BinarySearch(p.cols, c)
	return ok
}

// newPlan checks q against the engine's limits and scope rules and plans
// it. It lists the bucket only for a cross-tenant query.
func (e *Engine) newPlan(ctx context.Context, q Query) (*plan, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := checkPatterns(q.Filter, e.opts.MaxPatternLen); err != nil {
		return nil, err
	}
	scope, err := q.Scope(e.opts.AllowCrossTenant)
	if err != nil {
		return nil, err
	}
	p := &plan{q: q, scope: scope, limit: q.MaxRows}
	if q.Filter != nil {
		if p.pred, err = compilePred(q.Filter); err != nil {
			return nil, err
		}
	}
	cols, all := q.referencedColumns()
	p.all = all
	for _, c := range cols {
		if c != TenantColumn && c != DayColumn {
			p.cols = append(p.cols, c)
		}
	}
	p.pre = like.NewJSONPrefilterNeedles(prefilterLiterals(q.Filter)...)
	p.drive = chooseDrive(q.Filter)
	if err := p.splitFilter(); err != nil {
		return nil, err
	}

	aggregated := len(q.Groups) > 0
	for _, it := range q.Items {
		aggregated = aggregated || it.Agg != AggNone
	}
	switch {
	case aggregated:
		p.mode = modeAgg
	case len(q.Order) > 0:
		p.mode = modeOrder
		if o := q.Order[0]; q.MaxRows > 0 && o.Agg == AggNone && o.Unit == NoUnit && o.Column == TimeColumn {
			p.tsOrder = 1
			if o.Desc {
				p.tsOrder = -1
			}
		}
	}

	p.tr = q.TimeRange()
	if e.settings.TimestampField != TimeColumn {
		// The lake's event time is another field: dt says nothing about
		// the timestamp column, and files' time ranges are of that field.
		p.tr, p.tsOrder = TimeRange{}, 0
	}
	p.partTR = p.tr
	if s := e.src; s != nil && !s.lay.EventTime {
		// Arrival-time partitions: a record's partition may lie up to
		// MaxDelay from its timestamp, and partitions are not in
		// timestamp order.
		p.tsOrder = 0
		p.partTR = TimeRange{}
		if d := s.lay.MaxDelay; d > 0 {
			if !p.tr.From.IsZero() {
				p.partTR.From = p.tr.From.Add(-d)
			}
			if !p.tr.To.IsZero() {
				p.partTR.To = p.tr.To.Add(d)
			}
		}
	}
	p.fromUS, p.toUS = minInt64, maxInt64
	if !p.tr.From.IsZero() {
		p.fromUS = ceilMicro(p.tr.From)
	}
	if !p.tr.To.IsZero() {
		p.toUS = p.tr.To.UnixMicro()
		if p.tr.To.UnixNano()%1000 < 0 { // before 1970: UnixMicro truncates towards zero
			p.toUS--
		}
	}
	p.pageIndex = e.src == nil && e.settings.TimestampField == TimeColumn && p.fromUS != minInt64 && p.toUS != maxInt64 &&
		p.toUS-p.fromUS < pageIndexMaxRange.Microseconds()
	if err := e.enumerate(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// pageIndexMaxRange is the widest time range for which Parquet scans use
// the timestamp column's page index: a file holds one day sorted by time,
// so a range under a day skips pages, and a wider one rarely does.
const pageIndexMaxRange = 24 * time.Hour

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// checkPatterns enforces the engine's pattern length limit.
func checkPatterns(e Expr, max int) error {
	var err error
	inspectLeaves(e, func(e Expr) {
		if x, ok := e.(*LikeExpr); ok && len(x.Pattern) > max && err == nil {
			err = fmt.Errorf("query: pattern of %d bytes, limit %d: %w", len(x.Pattern), max, ErrPatternTooLong)
		}
	})
	return err
}

// chooseDrive picks the top-level LIKE conjunct on a record column with
// the longest required literal (a positive LIKE before a NOT LIKE).
func chooseDrive(e Expr) *driveLike {
	var best *driveLike
	score := -1
	for _, c := range conjuncts(e, nil) {
		l, ok := c.(*LikeExpr)
		if !ok {
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
		d := &driveLike{col: col.Name, m: m, not: l.Not}
		d.keep = func(v []byte) bool { return d.m.Match(v) != d.not }
		s := 0
		if !l.Not {
			s = 1
			for _, r := range m.RequiredLiterals() {
				if len(r) > len(d.lit) {
					d.lit = []byte(r)
				}
			}
			s += len(d.lit)
		}
		if s > score {
			best, score = d, s
		}
	}
	return best
}

// enumerate fills p.parts: the partitions of the scoped tenants whose day
// the query's dt and timestamp constraints allow, through the lake's
// partition projection. Only a cross-tenant query lists anything (the
// tenant prefixes).
func (e *Engine) enumerate(ctx context.Context, p *plan) error {
	if e.src != nil {
		return e.enumerateForeign(p)
	}
	loc := e.loc
	tenants := p.scope.Tenants
	if p.scope.All {
		var err error
		if tenants, err = e.listTenants(ctx); err != nil {
			return err
		}
	}
	dr := p.q.DayRange()
	if !p.partTR.From.IsZero() {
		if d := loglake.DayOf(p.partTR.From, loc); !dr.First.IsValid() || d.After(dr.First) {
			dr.First = d
		}
	}
	if !p.partTR.To.IsZero() {
		if d := loglake.DayOf(p.partTR.To, loc); !dr.Last.IsValid() || d.Before(dr.Last) {
			dr.Last = d
		}
	}
	if len(tenants) == 0 || dr.Empty() || (!p.partTR.From.IsZero() && !p.partTR.To.IsZero() && p.partTR.From.After(p.partTR.To)) {
		p.empty = true
		return nil
	}
	var dt projection.Constraint
	if dr.Days != nil {
		vals := []string{}
		for _, d := range dr.Days {
			if (!dr.First.IsValid() || !d.Before(dr.First)) && (!dr.Last.IsValid() || !d.After(dr.Last)) {
				vals = append(vals, d.String())
			}
		}
		dt = projection.In(vals...)
	} else {
		if dr.First.IsValid() {
			dt.Lo = projection.Bound{Set: true, Time: dr.First.Start(loc)}
		}
		if dr.Last.IsValid() {
			dt.Hi = projection.Bound{Set: true, Time: dr.Last.Start(loc)}
		}
	}
	cons := map[string]projection.Constraint{
		projection.TenantColumn: projection.In(tenants...),
		projection.DayColumn:    dt,
	}
	opts := &projection.EnumerateOptions{Now: e.opts.Now, MaxPartitions: e.opts.MaxPartitions}
	for pp, err := range e.proj.Enumerate(cons, opts) {
		if err != nil {
			return fmt.Errorf("query: plan: %w", err)
		}
		day, err := loglake.ParseDay(pp.Values[1])
		if err != nil {
			return fmt.Errorf("query: plan: %w", err)
		}
		part := loglake.Partition{Tenant: pp.Values[0], Day: day}
		if err := part.Validate(); err != nil {
			return fmt.Errorf("query: plan: %w", err)
		}
		p.parts = append(p.parts, part)
	}
	switch {
	case p.tsOrder < 0:
		slices.SortStableFunc(p.parts, func(a, b loglake.Partition) int { return b.Day.Compare(a.Day) })
	case p.tsOrder > 0:
		slices.SortStableFunc(p.parts, func(a, b loglake.Partition) int { return a.Day.Compare(b.Day) })
	}
	return nil
}

// listTenants finds every tenant with data, for cross-tenant queries: the
// tenant_id= prefixes under raw/ and compacted/.
func (e *Engine) listTenants(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, area := range []string{loglake.AreaRaw, loglake.AreaCompacted} {
		for obj, err := range e.lake.List(ctx, area+"/", "/") {
			if err != nil {
				return nil, fmt.Errorf("query: list tenants: %w", err)
			}
			if !obj.IsDir {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, area+"/"), "/")
			t, ok := strings.CutPrefix(name, TenantColumn+"=")
			if !ok || loglake.ValidateTenant(t) != nil || seen[t] {
				continue
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}
