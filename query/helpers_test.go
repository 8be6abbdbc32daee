package query

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/loglake/loglake/internal/rawtest"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

// testNow is the clock of test engines: the dt projection ends here.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func memLake(t testing.TB) *loglake.Lake {
	t.Helper()
	l, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func newEngine(t testing.TB, lake *loglake.Lake, o *Options) *Engine {
	t.Helper()
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	e, err := New(lake, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// putRaw writes lines as one raw object of p.
func putRaw(t testing.TB, lake *loglake.Lake, p loglake.Partition, name string, lines [][]byte, c loglake.Compression) {
	t.Helper()
	rawtest.PutRaw(t, lake, p, name, lines, c)
}

// compactAll compacts partitions with default options.
func compactAll(t testing.TB, lake *loglake.Lake, parts ...loglake.Partition) {
	t.Helper()
	c, err := compact.New(lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := c.CompactPartition(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}

// collect runs q and returns its rows as records (column → value, NULLs
// left out), and the stats.
func collect(t testing.TB, e *Engine, q Query) ([]record, Stats, error) {
	t.Helper()
	rows, err := e.Query(context.Background(), q)
	if err != nil {
		return nil, Stats{}, err
	}
	defer rows.Close()
	var out []record
	for rows.Next() {
		out = append(out, batchRecords(rows.RecordBatch())...)
	}
	if err := rows.Err(); err != nil {
		return out, rows.Stats(), err
	}
	return out, rows.Stats(), rows.Close()
}

func mustParse(t testing.TB, sql string) Query {
	t.Helper()
	q, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// batchRecords converts a batch back to records.
func batchRecords(b arrow.RecordBatch) []record {
	out := make([]record, b.NumRows())
	for i := range out {
		out[i] = record{}
	}
	for c := 0; c < int(b.NumCols()); c++ {
		name := b.Schema().Field(c).Name
		col := b.Column(c)
		for i := range out {
			if col.IsNull(i) {
				continue
			}
			var v any
			switch a := col.(type) {
			case *array.String:
				v = a.Value(i)
			case *array.Int64:
				v = a.Value(i)
			case *array.Float64:
				v = a.Value(i)
			case *array.Boolean:
				v = a.Value(i)
			case *array.Timestamp:
				v = time.UnixMicro(int64(a.Value(i))).UTC()
			default:
				panic(fmt.Sprintf("unexpected column type %T", col))
			}
			out[i][name] = v
		}
	}
	return out
}

// jsonLine marshals a record as an NDJSON line.
func jsonLine(t testing.TB, r map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
