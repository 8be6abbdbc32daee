package query

import (
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/loglake/loglake/compact"
)

// A block is a run of rows of one object in columnar form: a raw object's
// candidate lines decoded with compaction's column logic, or a Parquet row
// group's needed columns. Values are read back in the expression domain
// (nil, string, int64, float64, bool, time.Time); strings may alias the
// block's buffers and are valid until the block is reused.
type block struct {
	n     int
	cols  map[string]colReader
	names []string // sorted
}

type colReader interface {
	value(i int) any
}

func (b *block) reset() {
	b.n = 0
	clear(b.cols)
	b.names = b.names[:0]
}

func (b *block) add(name string, c colReader) {
	if b.cols == nil {
		b.cols = map[string]colReader{}
	}
	if _, dup := b.cols[name]; !dup {
		b.names = append(b.names, name)
	}
	b.cols[name] = c
}

// arrowCol reads an Arrow column of a compact.LineBatch.
type arrowCol struct {
	arr arrow.Array
	typ compact.Type
}

func (c *arrowCol) value(i int) any {
	if c.arr.IsNull(i) {
		return nil
	}
	switch a := c.arr.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC()
	}
	return nil
}

// blockFromRecord views a LineBatch's record as a block, converting
// columns to the partition's types where the View's schema is wider
// (conform, as compact.ReadAll does).
func blockFromRecord(b *block, rec arrow.RecordBatch, schema compact.Schema, view compact.Schema) {
	b.reset()
	b.n = int(rec.NumRows())
	for i, f := range schema {
		var c colReader = &arrowCol{arr: rec.Column(i), typ: f.Type}
		if vt, ok := view.Lookup(f.Name); ok && vt != f.Type {
			c = &conformCol{c: c, to: vt}
		}
		b.add(f.Name, c)
	}
	slices.Sort(b.names)
}

// conformCol widens values of a narrower column to its partition type:
// int64 to float64, anything to its text for string columns.
type conformCol struct {
	c  colReader
	to compact.Type
}

func (c *conformCol) value(i int) any {
	v := c.c.value(i)
	if v == nil {
		return nil
	}
	switch c.to {
	case compact.TypeFloat64:
		if x, ok := v.(int64); ok {
			return float64(x)
		}
	case compact.TypeString:
		return valueText(v)
	}
	return v
}

// rowCtx is the current row of a block in a partition: what predicates and
// sinks read. tenant_id and dt always come from the partition, never from
// the record's own fields.
type rowCtx struct {
	blk    *block
	i      int
	tenant string
	day    string
	// tenantV and dayV are tenant and day as values, boxed once rather
	// than at every get.
	tenantV, dayV any
}

func (r *rowCtx) get(col string) any {
	switch col {
	case TenantColumn:
		if r.tenantV == nil {
			r.tenantV = r.tenant
		}
		return r.tenantV
	case DayColumn:
		if r.dayV == nil {
			r.dayV = r.day
		}
		return r.dayV
	}
	c := r.blk.cols[col]
	if c == nil {
		return nil
	}
	return c.value(r.i)
}

// materialize copies the current row's values of the columns the plan
// needs into a record (strings cloned). SELECT * takes every column.
func (r *rowCtx) materialize(p *plan) record {
	var rec record
	if p.all {
		rec = make(record, len(r.blk.names)+2)
		for _, n := range r.blk.names {
			if v := r.blk.cols[n].value(r.i); v != nil {
				rec[n] = cloneValue(v)
			}
		}
	} else {
		rec = make(record, len(p.cols)+2)
		for _, n := range p.cols {
			if c := r.blk.cols[n]; c != nil {
				if v := c.value(r.i); v != nil {
					rec[n] = cloneValue(v)
				}
			}
		}
	}
	rec[TenantColumn] = r.tenant
	rec[DayColumn] = r.day
	return rec
}

func cloneValue(v any) any {
	if s, ok := v.(string); ok {
		return strings.Clone(s)
	}
	return v
}
