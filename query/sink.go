package query

import (
	"time"

	"github.com/loglake/loglake"
)

// A sink receives the matched rows of one part of a query — a file, then
// a partition, then the whole query — and merges with the sinks of other
// parts. Sinks of the three levels have the same type, so the semantics
// of ORDER BY, LIMIT and aggregation (shared with the reference evaluator)
// live in one place. A sink is used by one goroutine at a time.
type sink interface {
	// add takes the current row of r.
	add(r *rowCtx) error
	// merge moves o's rows or groups into the sink.
	merge(o sink) error
	// full reports that the sink needs no more rows (LIMIT reached
	// without ORDER BY).
	full() bool
}

func (p *plan) newSink(maxRows int64) sink {
	if p.mode == modeAgg {
		return &aggSink{a: newAggregator(p.q), max: maxRows}
	}
	return &rowSink{p: p, max: maxRows}
}

// rowSink holds matched rows as records: all of them, the first LIMIT
// (modeStream), or the top LIMIT by ORDER BY (modeOrder).
type rowSink struct {
	p    *plan
	recs []record
	max  int64 // MaxResultRows; negative: none
}

func (s *rowSink) add(r *rowCtx) error {
	s.recs = append(s.recs, r.materialize(s.p))
	return s.trim()
}

func (s *rowSink) merge(o sink) error {
	s.recs = append(s.recs, o.(*rowSink).recs...)
	return s.trim()
}

func (s *rowSink) full() bool {
	return s.p.mode == modeStream && s.p.limit > 0 && int64(len(s.recs)) >= s.p.limit
}

// trim keeps a modeOrder sink at its LIMIT (amortised: it sorts when the
// sink holds twice as many) and enforces MaxResultRows.
func (s *rowSink) trim() error {
	n := int64(len(s.recs))
	lim := s.p.limit
	switch {
	case s.p.mode == modeOrder && lim > 0 && n >= 2*lim+64:
		sortRecords(s.p.q.Order, s.recs)
		clear(s.recs[lim:])
		s.recs = s.recs[:lim]
	case s.p.mode == modeStream && lim > 0 && n > lim:
		clear(s.recs[lim:])
		s.recs = s.recs[:lim]
	case s.max >= 0 && n > s.max && (lim == 0 || lim > s.max):
		return &LimitError{Limit: s.max, What: "result rows", Err: ErrTooManyRows}
	}
	return nil
}

// finish sorts and cuts a modeOrder sink to its final rows.
func (s *rowSink) finish() {
	if s.p.mode != modeOrder {
		return
	}
	sortRecords(s.p.q.Order, s.recs)
	if lim := s.p.limit; lim > 0 && int64(len(s.recs)) > lim {
		clear(s.recs[lim:])
		s.recs = s.recs[:lim]
	}
}

// threshold returns, for a timestamp-ordered top-LIMIT sink holding LIMIT
// rows, the timestamp of its last row: no row beyond it can enter the
// result. ok is false otherwise.
func (s *rowSink) threshold() (time.Time, bool) {
	if s.p.tsOrder == 0 || int64(len(s.recs)) < s.p.limit {
		return time.Time{}, false
	}
	s.finish()
	t, ok := s.recs[len(s.recs)-1][TimeColumn].(time.Time)
	return t, ok
}

// aggSink holds partial aggregates.
type aggSink struct {
	a   *aggregator
	max int64
}

func (s *aggSink) add(r *rowCtx) error {
	if err := s.a.add(r.get); err != nil {
		return err
	}
	return s.check()
}

func (s *aggSink) merge(o sink) error {
	if err := s.a.merge(o.(*aggSink).a); err != nil {
		return err
	}
	return s.check()
}

func (s *aggSink) check() error {
	if s.max >= 0 && int64(len(s.a.groups)) > s.max {
		return &LimitError{Limit: s.max, What: "groups", Err: ErrTooManyRows}
	}
	return nil
}

func (s *aggSink) full() bool { return false }

// countOnly reports whether every aggregate is count(*) and there is no
// GROUP BY: rows need not be looked at, only counted (addCount).
func (s *aggSink) countOnly() bool {
	if len(s.a.q.Groups) > 0 {
		return false
	}
	for _, t := range s.a.aggs {
		if t.Agg != AggCount || t.Column != "" {
			return false
		}
	}
	return true
}

// addCount adds n rows to a countOnly sink.
func (s *aggSink) addCount(n int64) error {
	g := s.a.groups[0]
	for _, t := range s.a.aggs {
		g.aggs[t].count += n
	}
	return nil
}

// partitionDone reports whether, in a timestamp-ordered query with LIMIT,
// no row of partition p (or of any partition after it in the plan's order)
// can enter a result whose current threshold is thr.
func (p *plan) partitionDone(part loglake.Partition, thr time.Time, loc *time.Location) bool {
	switch {
	case p.tsOrder < 0: // newest first: p holds times before the next day
		return !thr.Before(part.Day.AddDays(1).Start(loc))
	case p.tsOrder > 0:
		return thr.Before(part.Day.Start(loc))
	}
	return false
}
