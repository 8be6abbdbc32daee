package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
)

func TestEqualityNeedle(t *testing.T) {
	tests := []struct {
		where string
		want  []string // prefilterLiterals' needles
	}{
		{"operation = 'copy'", []string{"copy"}},
		{"'copy' = operation", []string{"copy"}},
		{"operation = 'copy' AND removable = true AND file_path LIKE '%顧客%'", []string{"copy", "true", "顧客"}},
		{"ok = false", []string{"false"}},
		{"true = ok", []string{"true"}},
		{`msg = 'say "hi" \ there'`, []string{`say "hi" \ there`}},
		{"msg = '社外秘'", []string{"社外秘"}},
		{"msg = ' 12'", []string{" 12"}},
		// Texts that a number, boolean, timestamp or nested value may equal.
		{"code = '12'", nil},
		{"code = '-1.5e3'", nil},
		{"code = '1e999'", nil},
		{"code = 'NaN'", nil},
		{"code = 'Inf'", nil},
		{"flag = 'true'", nil},
		{"flag = 'false'", nil},
		{"flag = 'null'", nil},
		{"timestamp = '2026-11-20T10:00:00Z'", nil},
		{"at = '2026-11-20 10:00'", nil},
		{`obj = '{"a":1}'`, nil},
		{"arr = '[1,2]'", nil},
		{"msg = ''", nil},
		// Not an equality with a string, or not a column of the line.
		{"operation <> 'copy'", nil},
		{"operation = 'copy' OR operation = 'move'", nil},
		{"NOT operation = 'copy'", nil},
		{"operation IN ('copy')", nil},
		{"n = 5", nil},
		{"operation = other", nil},
		{"'a' = 'a'", nil},
		{"tenant_id = 'acme' AND dt = '2026-11-20'", nil},
		{"_unfit = 'x'", nil},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
		if err != nil {
			t.Fatalf("%s: %v", tt.where, err)
		}
		var got []string
		for _, n := range prefilterLiterals(q.Filter) {
			if n.IgnoreCase {
				t.Errorf("%s: needle %q ignores case", tt.where, n.Text)
			}
			got = append(got, n.Text)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.where, diff)
		}
	}
}

// TestRawSmallObjectsGrouped checks the scan of a partition of many small
// raw objects, which are read in groups sharing their batches, next to
// large ones read alone: every line once, in every query shape.
func TestRawSmallObjectsGrouped(t *testing.T) {
	lake := memLake(t)
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}
	start := p.Day.Start(time.UTC)
	n, secret := 0, 0
	r := rand.New(rand.NewPCG(3, 3))
	obj := func(name string, lines int) {
		var ls [][]byte
		for range lines {
			path := fmt.Sprintf(`C:\\share\\%d.docx`, n)
			if n%7 == 0 {
				path = fmt.Sprintf(`C:\\社外秘\\%d.docx`, n)
				secret++
			}
			ls = append(ls, fmt.Appendf(nil, `{"timestamp":%q,"file_path":"%s","n":%d,"h":"%016x%016x"}`, start.Add(time.Duration(n)*time.Second).Format(time.RFC3339), path, n, r.Uint64(), r.Uint64()))
			n++
		}
		putRaw(t, lake, p, name, ls, loglake.CompressionZstd)
	}
	for i := range 40 {
		obj(fmt.Sprintf("w-%02d", i), 10+i) // a few hundred bytes each
	}
	obj("w-big", 30000) // more than rawGroupBytes compressed
	for i := range 5 {
		obj(fmt.Sprintf("x-%02d", i), 3)
	}
	big := false
	for o, err := range lake.List(context.Background(), p.Prefix(loglake.AreaRaw), "") {
		if err != nil {
			t.Fatal(err)
		}
		big = big || o.Size > rawGroupBytes
	}
	if !big {
		t.Fatal("no raw object is larger than rawGroupBytes")
	}
	e := newEngine(t, lake, &Options{Parallelism: 3})
	for _, tc := range []struct {
		sql  string
		want int64
	}{
		{"SELECT count(*) FROM logs WHERE tenant_id = 'acme'", int64(n)},
		{"SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%'", int64(secret)},
		{"SELECT sum(n) FROM logs WHERE tenant_id = 'acme'", int64(n * (n - 1) / 2)},
	} {
		got, st, err := collect(t, e, mustParse(t, tc.sql))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		for _, v = range got[0] {
		}
		if len(got) != 1 || len(got[0]) != 1 || v != tc.want {
			t.Errorf("%s: %v, want %d", tc.sql, got, tc.want)
		}
		if st.ObjectsOpened != 46 {
			t.Errorf("%s: %d objects opened, want 46", tc.sql, st.ObjectsOpened)
		}
	}
	got, _, err := collect(t, e, mustParse(t, "SELECT n FROM logs WHERE tenant_id = 'acme' ORDER BY timestamp DESC LIMIT 3"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0]["n"] != int64(n-1) || got[2]["n"] != int64(n-3) {
		t.Errorf("newest 3: %v", got)
	}
}
