package query

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is the result of a query: a stream of Arrow record batches. Call
// Next until it returns false, then check Err; Close always (it may be
// called early, to stop the query). Rows is not safe for concurrent use,
// except Stats and Close.
//
//	rows, err := eng.Query(ctx, q)
//	if err != nil { … }
//	defer rows.Close()
//	for rows.Next() {
//		b := rows.RecordBatch() // valid until the next call to Next
//		…
//	}
//	if err := rows.Err(); err != nil { … }
//	fmt.Println(rows.Stats())
//
// Columns: for a select list, its items' names ([SelectItem.Name]), in
// order, in every batch. For SELECT *, tenant_id, dt and timestamp, then
// the other columns in name order; since records are schemaless, each
// batch holds the columns its own rows have, so schemas may differ from
// batch to batch. Types: strings (JSON values as their text) are
// arrow.String, integers Int64, floats Float64, booleans Boolean, times
// Timestamp(µs, UTC). A column whose values in a batch are of several
// kinds is widened as compaction widens it (integers and floats to
// Float64, anything else to String); a column of NULLs only is String.
type Rows struct {
	ch     chan arrow.RecordBatch
	done   chan struct{}
	cur    arrow.RecordBatch
	err    error
	ctr    *counters
	cancel context.CancelFunc
	cols   []string // fixed result columns; nil for SELECT *
	closed bool
	ended  bool // the stream ended (Next saw the channel closed)
}

// Next advances to the next batch. It returns false at the end of the
// result or on an error (see Err).
func (r *Rows) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.closed {
		return false
	}
	b, ok := <-r.ch
	if !ok {
		r.ended = true
		<-r.done
		return false
	}
	r.cur = b
	return true
}

// RecordBatch returns the current batch. It is valid until the next call
// to Next or Close; Retain it to keep it longer.
func (r *Rows) RecordBatch() arrow.RecordBatch { return r.cur }

// Columns returns the result's column names when they are fixed (a select
// list), and nil for SELECT *, whose batches carry their own.
func (r *Rows) Columns() []string { return slices.Clone(r.cols) }

// Err returns the error that ended the stream, if any. It is only final
// once Next returned false.
func (r *Rows) Err() error {
	if !r.ended && !r.closed {
		return nil
	}
	<-r.done
	return r.err
}

// Close stops the query if it still runs, waits for its goroutines and
// releases the current batch. It returns the query's error (nil when it
// was stopped by Close itself).
func (r *Rows) Close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if !r.closed {
		stopped := !r.ended
		r.closed = true
		r.cancel()
		for b := range r.ch {
			b.Release()
		}
		<-r.done
		if stopped && errors.Is(r.err, context.Canceled) {
			r.err = nil // stopped by Close, not by the caller's ctx
		}
	}
	return r.err
}

// Stats returns the query's stats so far; after Next returned false (or
// after Close) they are final.
func (r *Rows) Stats() Stats { return r.ctr.snapshot() }

// resultColumns returns the fixed column names of the result, or nil for
// SELECT *.
func (p *plan) resultColumns() []string {
	if len(p.q.Items) == 0 {
		return nil
	}
	out := make([]string, len(p.q.Items))
	for i, it := range p.q.Items {
		out[i] = it.Name()
	}
	return out
}

// emitRecords sends records as batches of the select list (or of all
// their columns, for SELECT *).
func (x *execution) emitRecords(ctx context.Context, recs []record) error {
	p := x.p
	if len(p.q.Items) == 0 {
		for len(recs) > 0 {
			n := min(len(recs), x.e.opts.BatchRows)
			if err := x.send(ctx, starBatch(recs[:n])); err != nil {
				return err
			}
			recs = recs[n:]
		}
		return nil
	}
	rows := make([][]any, 0, min(len(recs), x.e.opts.BatchRows))
	for len(recs) > 0 {
		n := min(len(recs), x.e.opts.BatchRows)
		rows = rows[:0]
		for _, rec := range recs[:n] {
			row := make([]any, len(p.q.Items))
			for i, it := range p.q.Items {
				row[i] = termValue(it.Term, rec.get)
			}
			rows = append(rows, row)
		}
		if err := x.send(ctx, buildBatch(p.resultColumns(), rows)); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// emitRows sends rows of the select list.
func (x *execution) emitRows(ctx context.Context, rows [][]any) error {
	cols := x.p.resultColumns()
	for len(rows) > 0 {
		n := min(len(rows), x.e.opts.BatchRows)
		if err := x.send(ctx, buildBatch(cols, rows[:n])); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func (x *execution) send(ctx context.Context, b arrow.RecordBatch) error {
	select {
	case x.out <- b:
		x.ctr.rowsReturned.Add(b.NumRows())
		return nil
	case <-ctx.Done():
		b.Release()
		return ctx.Err()
	}
}

// starBatch builds a SELECT * batch: tenant_id, dt, timestamp, then the
// other columns of the records in name order.
func starBatch(recs []record) arrow.RecordBatch {
	seen := map[string]bool{}
	var rest []string
	for _, r := range recs {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				if k != TenantColumn && k != DayColumn && k != TimeColumn {
					rest = append(rest, k)
				}
			}
		}
	}
	slices.Sort(rest)
	cols := []string{TenantColumn, DayColumn}
	if seen[TimeColumn] {
		cols = append(cols, TimeColumn)
	}
	cols = append(cols, rest...)
	rows := make([][]any, len(recs))
	for i, r := range recs {
		row := make([]any, len(cols))
		for j, c := range cols {
			row[j] = r[c]
		}
		rows[i] = row
	}
	return buildBatch(cols, rows)
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// buildBatch builds a record batch of rows (values of the expression
// domain) with the given column names.
func buildBatch(cols []string, rows [][]any) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	fields := make([]arrow.Field, len(cols))
	arrays := make([]arrow.Array, len(cols))
	for j, name := range cols {
		kind := columnKind(rows, j)
		var b array.Builder
		switch kind {
		case kInt:
			ib := array.NewInt64Builder(mem)
			for _, r := range rows {
				if v, ok := r[j].(int64); ok {
					ib.Append(v)
				} else {
					ib.AppendNull()
				}
			}
			b = ib
		case kFloat:
			fb := array.NewFloat64Builder(mem)
			for _, r := range rows {
				switch v := r[j].(type) {
				case float64:
					fb.Append(v)
				case int64:
					fb.Append(float64(v))
				default:
					fb.AppendNull()
				}
			}
			b = fb
		case kBool:
			bb := array.NewBooleanBuilder(mem)
			for _, r := range rows {
				if v, ok := r[j].(bool); ok {
					bb.Append(v)
				} else {
					bb.AppendNull()
				}
			}
			b = bb
		case kTime:
			tb := array.NewTimestampBuilder(mem, tsType)
			for _, r := range rows {
				if v, ok := r[j].(time.Time); ok {
					tb.Append(arrow.Timestamp(v.UnixMicro()))
				} else {
					tb.AppendNull()
				}
			}
			b = tb
		default:
			sb := array.NewStringBuilder(mem)
			for _, r := range rows {
				if r[j] == nil {
					sb.AppendNull()
				} else {
					sb.Append(valueText(r[j]))
				}
			}
			b = sb
		}
		arrays[j] = b.NewArray()
		fields[j] = arrow.Field{Name: name, Type: arrays[j].DataType(), Nullable: true}
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(len(rows)))
	for _, a := range arrays {
		a.Release()
	}
	return rec
}

type kind uint8

const (
	kNull kind = iota
	kInt
	kFloat
	kBool
	kTime
	kString
)

func kindOf(v any) kind {
	switch v.(type) {
	case nil:
		return kNull
	case int64:
		return kInt
	case float64:
		return kFloat
	case bool:
		return kBool
	case time.Time:
		return kTime
	}
	return kString
}

// columnKind returns the widened kind of column j of rows.
func columnKind(rows [][]any, j int) kind {
	k := kNull
	for _, r := range rows {
		vk := kindOf(r[j])
		switch {
		case vk == kNull || vk == k:
		case k == kNull:
			k = vk
		case (k == kInt && vk == kFloat) || (k == kFloat && vk == kInt):
			k = kFloat
		default:
			return kString
		}
	}
	if k == kNull {
		return kString
	}
	return k
}

// valueText renders a value as compaction renders it in a string column:
// strings as they are, numbers in their JSON spelling, times in RFC 3339.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		abs := math.Abs(x)
		f := byte('f')
		if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			f = 'e'
		}
		return strconv.FormatFloat(x, f, -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return ""
}
