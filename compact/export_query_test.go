package compact

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
)

// keepLines are lines for LineBatch.KeepColumns: escapes in keys and
// values, duplicate keys, nesting, numbers, invalid UTF-8, whitespace and
// malformed JSON of many kinds.
var keepLines = []string{
	`{"timestamp":"2026-11-20T10:00:00Z","pid":12,"op":"copy","path":"C:\\Users\\社外秘.docx"}`,
	`{"pid":-3.5e2,"op":"mo\u0076e","x":{"a":[1,"}",{"b":null}]},"ok":true}`,
	`{"p\u0069d":7,"op":"copy"}`,
	`{"pid":1,"pid":2,"op":null}`,
	`{"op":"a\"b\\c\/d\b\f\n\r\t\ud83d\ude00\ud800x","pid":99999999999999999999}`,
	` { "pid" : 5 , "op" : "x" } `,
	`{"pid":5,"op":"x"}junk`,
	`{"pid":5,"op":"bad \q escape"}`,
	`{"pid":5,"op":"bad \u12 escape"}`,
	`{"pid":5,"op":"unterminated}`,
	`{"pid":05}`,
	`{"pid":1.}`,
	`{"pid":tru}`,
	`{"pid":1,}`,
	`{"pid" 1}`,
	`{"x":[1,2}`,
	`{"x":{"a" 1}}`,
	"{\"op\":\"\xff\xfe\",\"pid\":1}",
	"{\"\xffpid\":1,\"op\":\"y\"}",
	"{\"op\":\"tab\there\",\"pid\":2}",
	`{}`,
	`[]`,
	`"op"`,
	``,
	`{"tenant_id":"other","pid":1}`,
	`{"":1,"_unfit":{"a":1},"pid":3}`,
	`{"timestamp":"not a time","pid":4}`,
	`{"timestamp":1700000000,"op":12}`,
	`{"op":true}`,
	`{"op":{"nested":"yes"}}`,
}

// batchColumns returns the values of a LineBatch's columns, row by row.
func batchColumns(t *testing.T, b *LineBatch) (int, map[string][]any) {
	t.Helper()
	rec, schema := b.Finish()
	defer rec.Release()
	return int(rec.NumRows()), recordColumns(rec, schema)
}

// recordColumns returns the values of a batch's columns, row by row.
func recordColumns(rec arrow.RecordBatch, schema Schema) map[string][]any {
	cols := map[string][]any{}
	for i, f := range schema {
		arr := rec.Column(i)
		vals := make([]any, arr.Len())
		for r := range vals {
			if !arr.IsNull(r) {
				m := valueAt(arr, f.Type, r)
				vals[r] = fmt.Sprintf("%v %v %q %d %v %v", f.Type, m.kind, m.str, m.i, m.f, m.b)
			}
		}
		cols[f.Name] = vals
	}
	return cols
}

// checkKept compares a batch of lines restricted to names with the whole
// batch: the kept columns must hold the same values.
func checkKept(t *testing.T, lines []string, names []string) {
	t.Helper()
	lake := memLake(t)
	p := loglake.Partition{Tenant: "t", Day: loglake.NewDay(2026, 11, 20)}
	seed := Schema{{Name: "op", Type: TypeString}}
	full := NewLineBatch(lake, p, seed)
	kept := NewLineBatch(lake, p, seed)
	kept.KeepColumns(names)
	for _, l := range lines {
		full.Add([]byte(l))
		kept.Add([]byte(l))
	}
	nf, fc := batchColumns(t, full)
	nk, kc := batchColumns(t, kept)
	if nf != nk {
		t.Fatalf("%d rows kept, want %d", nk, nf)
	}
	if slices.Contains(names, UnfitColumn) { // every column is kept
		if d := cmp.Diff(fc, kc); d != "" {
			t.Errorf("kept %q of %q (-full +kept):\n%s", names, lines, d)
		}
		return
	}
	want := map[string][]any{}
	for _, n := range names {
		if v, ok := fc[n]; ok {
			want[n] = v
		}
	}
	got := map[string][]any{}
	for n, v := range kc {
		if n == UnfitColumn && !slices.Contains(names, UnfitColumn) {
			continue // malformed lines still land there
		}
		if n == "timestamp" && !strings.Contains(strings.Join(names, "\x00"), "timestamp") {
			for _, x := range v {
				if x != nil {
					t.Fatalf("timestamp not kept but set: %v", x)
				}
			}
			continue
		}
		got[n] = v
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("kept %q of %q (-full +kept):\n%s", names, lines, d)
	}
}

func TestLineBatchKeepColumns(t *testing.T) {
	for _, names := range [][]string{
		{"pid"}, {"op"}, {"pid", "op"}, {"timestamp", "op"}, {"x", "ok"}, {}, {"missing"},
		{"pid", UnfitColumn}, {"\uFFFDpid"},
	} {
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			checkKept(t, keepLines, names)
			for _, l := range keepLines { // each line alone, so that no other widens its columns
				checkKept(t, []string{l}, names)
			}
		})
	}
}

func TestKeptLine(t *testing.T) {
	keep := map[string]struct{}{"pid": {}, "op": {}}
	tests := []struct {
		line string
		want string // "" for not certain
	}{
		{`{"pid":1,"x":"y","op":"copy"}`, `{"pid":1,"op":"copy"}`},
		{` { "x" : [1,{"a":"]"}] , "op" : "c\"d" } `, `{"op" : "c\"d"}`},
		{`{"x":1}`, `{}`},
		{`{}`, `{}`},
		{`{"p\u0069d":1}`, ""},
		{`{"pid":1}x`, ""},
		{`{"x":"\z"}`, ""},
		{`{"x":01}`, ""},
		{`{"x":1,}`, ""},
		{`[1]`, ""},
	}
	for _, tt := range tests {
		got, ok := keptLine(nil, []byte(tt.line), keep, nil)
		if got2, ok2 := keptLine(nil, []byte(tt.line), nil, []string{"op", "pid"}); ok2 != ok || string(got2) != string(got) {
			t.Errorf("keptLine(%s) by names = %s, %v; by set %s, %v", tt.line, got2, ok2, got, ok)
		}
		if !ok {
			got = nil
		}
		if string(got) != tt.want {
			t.Errorf("keptLine(%s) = %s, %v; want %s", tt.line, got, ok, tt.want)
		}
	}
}

// FuzzKeepColumns checks that a batch restricted to some columns reads
// them as the whole batch does.
func FuzzKeepColumns(f *testing.F) {
	for _, l := range keepLines {
		f.Add(l, "pid")
		f.Add(l, "op")
	}
	f.Fuzz(func(t *testing.T, line, name string) {
		if strings.ContainsRune(line, '\n') {
			return
		}
		checkKept(t, []string{line}, []string{name, "op"})
	})
}

func TestNextQuoteOrBackslash(t *testing.T) {
	for _, s := range []string{"", "a", `"`, `\`, "abcdefgh", `abcdefg"`, `abcdefgh\`, `abcdefghijklmnop"\`,
		"\x80\xff\x22", "\xa2\xdc\x5c", `社外秘"`, `0123456789\abc"`, "\x21\x23\x5b\x5d\x22",
		strings.Repeat("x", 40), strings.Repeat("x", 40) + `"`, strings.Repeat("社", 20) + `\"`, strings.Repeat("y", 33) + `\`} {
		want := strings.IndexAny(s, `"\`)
		if want < 0 {
			want = len(s)
		}
		for _, pre := range []string{"", "xyz"} { // also from an offset
			if got := quoteOrBackslash([]byte(pre+s), len(pre)); got != len(pre)+want {
				t.Errorf("quoteOrBackslash(%q, %d) = %d, want %d", pre+s, len(pre), got, len(pre)+want)
			}
		}
	}
}

// gateLines are lines for LineBatch.Gate on column "op" with a filter
// that keeps strings holding "co": the text elsewhere, escapes, invalid
// UTF-8, duplicate keys, other kinds of value.
var gateLines = []string{
	`{"op":"copy","pid":1}`,
	`{"op":"move","path":"copy"}`,
	`{"pid":2,"op":"xcox"}`,
	`{"op":"mo\u0076e"}`,
	`{"op":"c\u006f"}`,
	`{"op":1}`,
	`{"op":null,"x":"co"}`,
	`{"op":["co"]}`,
	`{"op":"move","op":"copy"}`,
	`{"op":"copy","op":"move"}`,
	"{\"op\":\"\xffco\"}",
	"{\"op\":\"\xffmove\"}",
	`{"x":"co"}`,
	`{"op" : "move" , "pid" : 3}`,
	`{"op":"move"`,
	`{"op":"移動"}`,
	`{"op":"コピー co"}`,
}

// checkGate adds lines to a batch restricted to names with a Gate on
// column gate, and to one without: the gated batch must hold the rows of
// the other in order, except rows whose gate column is NULL or a string
// keep rejects. It returns how many lines the gate dropped.
func checkGate(t *testing.T, lines []string, names []string, gate string, keep func([]byte) bool) (dropped int) {
	t.Helper()
	lake := memLake(t)
	p := loglake.Partition{Tenant: "t", Day: loglake.NewDay(2026, 11, 20)}
	full := NewLineBatch(lake, p, nil)
	full.KeepColumns(names)
	gated := NewLineBatch(lake, p, nil)
	gated.KeepColumns(names)
	gated.Gate(gate, keep)
	var added []bool
	for _, l := range lines {
		if !full.Add([]byte(l)) {
			t.Fatalf("a batch without a gate dropped %q", l)
		}
		added = append(added, gated.Add([]byte(l)))
	}
	frec, fschema := full.Finish()
	defer frec.Release()
	fc := recordColumns(frec, fschema)
	gn, gc := batchColumns(t, gated)
	// The rows the gated batch should hold, and the dropped rows' gate
	// values.
	want := map[string][]any{}
	for name, vals := range fc {
		for r, v := range vals {
			if added[r] {
				want[name] = append(want[name], v)
			}
		}
	}
	gi := slices.IndexFunc(fschema, func(f Field) bool { return f.Name == gate })
	for r, ok := range added {
		if ok {
			continue
		}
		dropped++
		if gi < 0 || frec.Column(gi).IsNull(r) {
			continue // NULL: the filter fails
		}
		s, isStr := frec.Column(gi).(*array.String)
		if !isStr || fschema[gi].Type != TypeString {
			t.Fatalf("dropped %q, whose %s is a %s", lines[r], gate, fschema[gi].Type)
		}
		if keep([]byte(s.Value(r))) {
			t.Fatalf("dropped %q, whose %s %q passes", lines[r], gate, s.Value(r))
		}
	}
	if gn != len(lines)-dropped {
		t.Fatalf("%d rows in the gated batch, %d lines added", gn, len(lines)-dropped)
	}
	for name, vals := range gc {
		if len(want[name]) == 0 && allNil(vals) {
			delete(gc, name)
		}
	}
	for name, vals := range want {
		if allNil(vals) && gc[name] == nil {
			delete(want, name)
		}
	}
	if d := cmp.Diff(want, gc); d != "" {
		t.Errorf("gated rows differ from the rows kept (-want +gated):\n%s", d)
	}
	return dropped
}

func allNil(vals []any) bool {
	for _, v := range vals {
		if v != nil {
			return false
		}
	}
	return true
}

func TestLineBatchGate(t *testing.T) {
	keep := func(v []byte) bool { return strings.Contains(string(v), "co") }
	lines := append(slices.Clone(gateLines), keepLines...)
	if n := checkGate(t, lines, []string{"op", "pid"}, "op", keep); n != 7 {
		// move (copy elsewhere), the duplicate whose first is move,
		// x without op, 移動, the unterminated line, and two of
		// keepLines' (mo\u0076e is escaped: kept).
		t.Errorf("%d lines dropped, want 7", n)
	}
	// Never on the timestamp field, whose strings are parsed.
	if n := checkGate(t, lines, []string{"timestamp", "op"}, "timestamp", func([]byte) bool { return false }); n != 0 {
		t.Errorf("a gate on the timestamp field dropped %d lines", n)
	}
}

// FuzzLineBatchGate checks the gate on arbitrary lines: it drops only
// lines whose row fails the filter, and leaves the others as they are.
func FuzzLineBatchGate(f *testing.F) {
	for _, l := range append(slices.Clone(gateLines), keepLines...) {
		f.Add(l, "co")
	}
	f.Fuzz(func(t *testing.T, line, sub string) {
		if strings.ContainsRune(line, '\n') {
			return
		}
		keep := func(v []byte) bool { return strings.Contains(string(v), sub) }
		checkGate(t, []string{line, `{"op":"x","pid":1}`, `{"op":12,"pid":"p"}`, line}, []string{"op", "pid"}, "op", keep)
	})
}
