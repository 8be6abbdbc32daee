package query

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loglake/loglake"
)

// explainMaxParts is how many partitions Explain lists before it elides
// the middle of the list.
const explainMaxParts = 10

// Explain plans q as [Engine.Query] would — it checks q, its tenant scope
// and pattern lengths, and enumerates the partitions it would read — and
// describes the plan as text, without reading or listing any object
// (except the tenant prefixes, for a cross-tenant query, as Query does).
// It does not wait for a concurrency slot. Errors are those Query's
// planning returns: [ErrUnscopedQuery], [ErrInvalidQuery],
// [ErrPatternTooLong], too many partitions.
//
// The text is for people and tests, not for parsing; it names the scope,
// the time and day constraints, how rows are produced, what prunes
// objects (the driving LIKE, the raw prefilter, the page index), and the
// partitions:
//
//	scope: tenant_id IN (acme)
//	days: dt 2026-11-14..2026-11-20
//	mode: order by timestamp desc, limit 20: partitions newest first, stop once no older row can enter
//	drive: file_path LIKE (dictionary first), literal "社外秘"
//	prefilter: raw lines holding "社外秘"
//	partitions: 7
//	  tenant_id=acme/dt=2026-11-20
//	  …
func (e *Engine) Explain(ctx context.Context, q Query) (string, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return "", loglake.ErrClosed
	}
	p, err := e.newPlan(ctx, q)
	if err != nil {
		return "", err
	}
	return p.explain(e), nil
}

// explain renders the plan (see Explain).
func (p *plan) explain(e *Engine) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if p.scope.All {
		line("scope: all tenants (cross-tenant)")
	} else {
		line("scope: %s IN (%s)", TenantColumn, strings.Join(p.scope.Tenants, ", "))
	}
	tr := p.q.TimeRange()
	if !tr.From.IsZero() || !tr.To.IsZero() {
		s := "time: timestamp " + explainTime(tr.From) + ".." + explainTime(tr.To)
		switch {
		case e.settings.TimestampField != TimeColumn:
			s += " (the event time is " + e.settings.TimestampField + ": not used to prune)"
		case e.src != nil && !e.src.lay.EventTime && e.src.lay.MaxDelay == 0:
			s += " (arrival-time partitions: prunes files, not partitions)"
		case e.src != nil && !e.src.lay.EventTime:
			s += " (partitions of " + explainTime(p.partTR.From) + ".." + explainTime(p.partTR.To) + ", MaxDelay " + e.src.lay.MaxDelay.String() + ")"
		}
		line("%s", s)
	}
	dr := p.q.DayRange()
	if dr.First.IsValid() || dr.Last.IsValid() || dr.Days != nil {
		s := "days: dt"
		if dr.First.IsValid() || dr.Last.IsValid() {
			s += " " + explainDay(dr.First) + ".." + explainDay(dr.Last)
		}
		if dr.Days != nil {
			days := make([]string, len(dr.Days))
			for i, d := range dr.Days {
				days[i] = d.String()
			}
			s += " IN (" + strings.Join(days, ", ") + ")"
		}
		line("%s", s)
	} else if p.partTR.From.IsZero() && p.partTR.To.IsZero() && !p.empty {
		line("days: the whole retention window (%d days): no constraint selects days", e.opts.RetentionDays+1)
	}
	switch p.mode {
	case modeStream:
		if p.limit > 0 {
			line("mode: stream, limit %d: stop once met", p.limit)
		} else {
			line("mode: stream")
		}
	case modeOrder:
		s := "mode: order"
		if p.limit > 0 {
			s += ", limit " + strconv.FormatInt(p.limit, 10)
		}
		switch {
		case p.tsOrder < 0:
			s += ": partitions newest first, stop once no older row can enter"
		case p.tsOrder > 0:
			s += ": partitions oldest first, stop once no newer row can enter"
		}
		line("%s", s)
	case modeAgg:
		line("mode: aggregate")
	}
	if d := p.drive; d != nil {
		s := "drive: " + d.col
		if d.not {
			s += " NOT"
		}
		s += " LIKE (dictionary first)"
		if len(d.lit) > 0 {
			s += ", literal " + strconv.Quote(string(d.lit))
		}
		line("%s", s)
	}
	if lits := prefilterLiterals(p.q.Filter); len(lits) > 0 {
		q := make([]string, len(lits))
		for i, l := range lits {
			q[i] = strconv.Quote(l.Text)
			if l.IgnoreCase {
				q[i] += " (any case)"
			}
		}
		what := "raw lines"
		if e.src != nil {
			what = "envelopes and records"
		}
		line("prefilter: %s holding %s", what, strings.Join(q, " and "))
	}
	if p.pageIndex && e.src == nil && !p.empty {
		line("pages: skipped by the timestamp column's page index (range under %v)", pageIndexMaxRange)
	}
	if p.empty {
		line("partitions: none (the constraints exclude every partition)")
		return b.String()
	}
	line("partitions: %d", len(p.parts))
	name := func(i int) string {
		if p.locs != nil {
			return p.locs[i] + " (" + p.parts[i].String() + ")"
		}
		return p.parts[i].String()
	}
	for i := range p.parts {
		if len(p.parts) > explainMaxParts && i == explainMaxParts/2 {
			line("  … %d more …", len(p.parts)-explainMaxParts)
		}
		if len(p.parts) > explainMaxParts && i >= explainMaxParts/2 && i < len(p.parts)-explainMaxParts/2 {
			continue
		}
		line("  %s", name(i))
	}
	return b.String()
}

func explainTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func explainDay(d loglake.Day) string {
	if !d.IsValid() {
		return ""
	}
	return d.String()
}
