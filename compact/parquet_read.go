package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loglake/loglake"
)

// readerAt reads an object of the lake by ranges. It keeps ctx: every
// ReadAt is a range read under it.
type readerAt struct {
	ctx  context.Context
	lake *loglake.Lake
	key  string
}

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	return r.lake.ReadAt(r.ctx, r.key, p, off)
}

// OpenParquet opens a Parquet file of the lake for reading, through range
// reads (the footer first, then the column chunks a reader asks for). The
// returned file keeps ctx for those reads. A file that does not decode
// gives an error marked [loglake.ErrCorrupt]; a missing one, an error for
// which [loglake.IsNotFound] is true.
func OpenParquet(ctx context.Context, lake *loglake.Lake, ref FileRef) (*parquet.File, error) {
	ra := &readerAt{ctx: ctx, lake: lake, key: ref.Key}
	size := ref.Size
	if size <= 0 {
		a, err := lake.Attributes(ctx, ref.Key)
		if err != nil {
			return nil, err
		}
		size = a.Size
	}
	f, err := parquet.OpenFile(ra, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
	if err != nil {
		if loglake.IsNotFound(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("compact: open %s: %w", ref.Key, err)
		}
		return nil, loglake.MarkCorrupt("compact: parquet "+ref.Key, err)
	}
	return f, nil
}

// leafType returns the loglake type of a Parquet leaf column written by
// loglake (or a compatible writer), and the factor from its time unit to
// microseconds for timestamps.
func leafType(n parquet.Node) (Type, int64, bool) {
	t := n.Type()
	if lt := t.LogicalType(); lt != nil {
		switch x := lt.Value.(type) {
		case *format.StringType, *format.EnumType:
			return TypeString, 0, true
		case *format.JsonType:
			return TypeJSON, 0, true
		case *format.TimestampType:
			switch x.Unit.Value.(type) {
			case *format.MilliSeconds:
				return TypeTimestamp, 1000, true
			case *format.NanoSeconds:
				return TypeTimestamp, -1000, true
			}
			return TypeTimestamp, 1, true
		}
	}
	switch t.Kind() {
	case parquet.Int64, parquet.Int32:
		return TypeInt64, 0, true
	case parquet.Double, parquet.Float:
		return TypeFloat64, 0, true
	case parquet.Boolean:
		return TypeBool, 0, true
	case parquet.ByteArray:
		return TypeString, 0, true
	}
	return "", 0, false
}

type leaf struct {
	name  string
	key   []byte
	typ   Type
	scale int64
}

func fileLeaves(f *parquet.File, key string) ([]leaf, error) {
	var out []leaf
	for _, fld := range f.Schema().Fields() {
		if !fld.Leaf() {
			return nil, loglake.MarkCorrupt("compact: parquet "+key, fmt.Errorf("column %q is nested", fld.Name()))
		}
		t, scale, ok := leafType(fld)
		if !ok {
			return nil, loglake.MarkCorrupt("compact: parquet "+key, fmt.Errorf("column %q has an unsupported type %v", fld.Name(), fld.Type()))
		}
		out = append(out, leaf{name: fld.Name(), key: []byte(fld.Name()), typ: t, scale: scale})
	}
	return out, nil
}

// scanParquet calls fn for each row of the file, with the row's non-null
// values as members (slices valid during the call).
func scanParquet(ctx context.Context, lake *loglake.Lake, ref FileRef, fn func(ms []member) error) error {
	f, err := OpenParquet(ctx, lake, ref)
	if err != nil {
		return err
	}
	leaves, err := fileLeaves(f, ref.Key)
	if err != nil {
		return err
	}
	buf := make([]parquet.Row, 256)
	var ms []member
	for _, rg := range f.RowGroups() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				ms = ms[:0]
				for _, v := range row {
					if v.IsNull() {
						continue
					}
					c := v.Column()
					if c < 0 || c >= len(leaves) {
						rows.Close()
						return loglake.MarkCorrupt("compact: parquet "+ref.Key, fmt.Errorf("value of column %d", c))
					}
					ms = append(ms, leafMember(&leaves[c], v))
				}
				if err := fn(ms); err != nil {
					rows.Close()
					return err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				if loglake.IsNotFound(err) || ctx.Err() != nil {
					return fmt.Errorf("compact: read %s: %w", ref.Key, err)
				}
				return loglake.MarkCorrupt("compact: parquet "+ref.Key, err)
			}
		}
		rows.Close()
	}
	return nil
}

func leafMember(l *leaf, v parquet.Value) member {
	m := member{key: l.key}
	switch l.typ {
	case TypeString:
		m.kind, m.str = vString, v.ByteArray()
	case TypeJSON:
		m.kind, m.str = vJSON, v.ByteArray()
	case TypeInt64:
		m.kind = vInt
		if v.Kind() == parquet.Int32 {
			m.i = int64(v.Int32())
		} else {
			m.i = v.Int64()
		}
	case TypeFloat64:
		m.kind = vFloat
		if v.Kind() == parquet.Float {
			m.f = float64(v.Float())
		} else {
			m.f = v.Double()
		}
	case TypeBool:
		m.kind, m.b = vBool, v.Boolean()
	case TypeTimestamp:
		m.kind, m.i = vTime, v.Int64()
		if l.scale > 0 {
			m.i *= l.scale
		} else if l.scale < 0 {
			m.i /= -l.scale
		}
	}
	return m
}

// ReadParquet reads every row of a Parquet file of the lake as Records,
// in file order, with each column in the file's own type.
func ReadParquet(ctx context.Context, lake *loglake.Lake, ref FileRef) ([]Record, error) {
	var out []Record
	err := scanParquet(ctx, lake, ref, func(ms []member) error {
		r := make(Record, len(ms))
		for i := range ms {
			r[string(ms[i].key)] = memberValue(&ms[i])
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// memberValue converts a member to a Record value, copying its bytes.
func memberValue(m *member) any {
	switch m.kind {
	case vString:
		return string(m.str)
	case vJSON:
		return json.RawMessage(string(m.str))
	case vInt:
		return m.i
	case vFloat:
		return m.f
	case vBool:
		return m.b
	case vTime:
		return time.UnixMicro(m.i).UTC()
	}
	return nil
}

// conform converts r's values in place to the types of schema (a value of
// a narrower type, from an older file, is widened as compaction would).
func conform(r Record, schema Schema) {
	for k, v := range r {
		t, ok := schema.Lookup(k)
		if !ok {
			continue
		}
		switch t {
		case TypeFloat64:
			if i, ok := v.(int64); ok {
				r[k] = float64(i)
			}
		case TypeString:
			switch x := v.(type) {
			case string:
			case int64:
				r[k] = strconv.FormatInt(x, 10)
			case float64:
				r[k] = string(appendFloat(nil, x))
			case bool:
				r[k] = strconv.FormatBool(x)
			case json.RawMessage:
				r[k] = string(x)
			case time.Time:
				r[k] = x.Format(time.RFC3339Nano)
			}
		}
	}
}
