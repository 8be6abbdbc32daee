package compact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

// expectRecord turns a raw NDJSON line into the Record compaction must
// read back, using encoding/json (not the compactor's scanner) as the
// reference: nulls dropped, the tenant field dropped, the timestamp as a
// time, integers as int64, other numbers as float64, nested values as JSON.
func expectRecord(t testing.TB, line []byte, schema Schema) Record {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	r := Record{}
	for k, raw := range m {
		if k == "tenant_id" || string(raw) == "null" {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		switch x := v.(type) {
		case string:
			if k == "timestamp" {
				ts, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					t.Fatal(err)
				}
				r[k] = ts.UTC()
			} else {
				r[k] = x
			}
		case json.Number:
			if i, err := x.Int64(); err == nil && k == "timestamp" {
				if i >= 1e11 {
					r[k] = time.UnixMilli(i).UTC()
				} else {
					r[k] = time.Unix(i, 0).UTC()
				}
			} else if err == nil {
				r[k] = i
			} else {
				f, _ := x.Float64()
				r[k] = f
			}
		case bool:
			r[k] = x
		default:
			r[k] = json.RawMessage(raw)
		}
	}
	conform(r, schema)
	return r
}

// cmpRecords compares JSON values by meaning, not spelling.
var cmpRecords = cmp.Options{
	cmp.Comparer(func(a, b json.RawMessage) bool {
		var x, y any
		if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
			return bytes.Equal(a, b)
		}
		return cmp.Equal(x, y)
	}),
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}
	long := `C:\\Users\\tanaka\\` + strings.Repeat(`社外秘フォルダ\\`, 30) + `議事録.docx`
	lines := []string{
		`{"tenant_id":"acme","timestamp":"2026-11-20T09:00:00.123456Z","msg":"こんにちは 社外秘","n":9223372036854775807,"f":1.5,"ok":true,"nested":{"a":[1,2,{"b":"日本"}]},"gone":null}`,
		`{"tenant_id":"acme","timestamp":"2026-11-20T18:00:00+09:00","msg":"","n":-9223372036854775808,"f":-0.0001,"ok":false,"nested":[],"arr":["x","y"]}`,
		`{"tenant_id":"acme","timestamp":1795165200,"msg":"epoch seconds","n":0,"f":1e300}`,
		`{"tenant_id":"acme","timestamp":1795165200123,"msg":"epoch millis","f":2}`,
		`{"tenant_id":"acme","timestamp":"2026-11-20T00:00:00Z","file_path":"` + long + `","msg":"quote \" backslash \\ tab \t uni \u00e9 \ud83d\ude00"}`,
		`{"tenant_id":"acme","timestamp":"2026-11-20T23:59:59.999999Z","msg":null,"n":null,"ok":null}`,
	}
	var raw [][]byte
	for _, l := range lines {
		raw = append(raw, []byte(l))
	}
	// Plus realistic records from the shared generator.
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 11}, 3000)
	gp := biggest(parts)
	for _, l := range parts[gp] {
		raw = append(raw, bytes.Replace(l, []byte(`"`+gp.Tenant+`"`), []byte(`"acme"`), 1))
	}
	putRawSplit(t, lake, p, "w", raw, 500)
	c, err := New(lake, &Options{RowGroupRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompactPartition(ctx, p); err != nil {
		t.Fatal(err)
	}
	v, err := Snapshot(ctx, lake, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Raw) != 0 || len(v.Parquet) != 1 {
		t.Fatalf("view: %d raw, %d parquet", len(v.Raw), len(v.Parquet))
	}
	got, err := ReadParquet(ctx, lake, v.Parquet[0])
	if err != nil {
		t.Fatal(err)
	}
	// Parquet rows are sorted by time; index expectations by seq, or by
	// msg for the hand-written ones.
	want := map[string]Record{}
	keyOf := func(r Record) string { return fmt.Sprint(r["seq"], "|", r["msg"], "|", r["timestamp"]) }
	for _, l := range raw {
		r := expectRecord(t, l, v.Schema)
		want[keyOf(r)] = r
	}
	if len(got) != len(raw) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(raw))
	}
	var prev time.Time
	for _, r := range got {
		conform(r, v.Schema)
		k := keyOf(r)
		if diff := cmp.Diff(want[k], r, cmpRecords); diff != "" {
			t.Fatalf("record %s (-want +got):\n%s", k, diff)
		}
		ts := r["timestamp"].(time.Time)
		if ts.Before(prev) {
			t.Fatalf("not sorted by time: %v after %v", ts, prev)
		}
		prev = ts
	}
	if f, _ := v.Schema.Lookup("f"); f != TypeFloat64 {
		t.Fatalf("f is %s, want float64", f)
	}
	if n, _ := v.Schema.Lookup("n"); n != TypeInt64 {
		t.Fatalf("n is %s, want int64", n)
	}
	_ = math.MaxInt64
}
