package query

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
)

// The differential test: random records, random predicates, the engine's
// answer compared with the reference evaluator's over the same records —
// on raw objects only, on Parquet only, and on half-compacted partitions.

// diffOps are the values of the low-cardinality column op.
var diffOps = []string{"copy", "move", "delete", "Copy"}

var diffAlphabet = []string{"a", "b", "A", "x", "社", "外", "秘", "é", "É", "%", "_", "!", "\\", "\"", "/", " ", "ß", "😀"}

func randText(r *rand.Rand, max int) string {
	var b strings.Builder
	for range r.IntN(max + 1) {
		b.WriteString(diffAlphabet[r.IntN(len(diffAlphabet))])
	}
	return b.String()
}

// appendJSONString writes s as a JSON string, escaping some characters in
// the ways other encoders do (\uXXXX for any character, \/ for '/'), so
// that the raw prefilter meets every spelling.
func appendJSONString(dst []byte, r *rand.Rand, s string) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', byte(c))
		case c == '/' && r.IntN(2) == 0:
			dst = append(dst, '\\', '/')
		case c < 0x20 || r.IntN(6) == 0:
			if c > 0xFFFF {
				r1, r2 := utf16Pair(c)
				dst = fmt.Appendf(dst, `\u%04x\u%04X`, r1, r2)
			} else {
				dst = fmt.Appendf(dst, `\u%04x`, c)
			}
		default:
			dst = utf8.AppendRune(dst, c)
		}
	}
	return append(dst, '"')
}

func utf16Pair(c rune) (rune, rune) {
	c -= 0x10000
	return 0xD800 + (c>>10)&0x3FF, 0xDC00 + c&0x3FF
}

type diffData struct {
	parts []loglake.Partition
	lines map[loglake.Partition][][]byte
	recs  []record
}

func genDiffData(seed uint64, n int) *diffData {
	r := rand.New(rand.NewPCG(seed, 7))
	d := &diffData{lines: map[loglake.Partition][][]byte{}}
	for i := range 3 {
		d.parts = append(d.parts, loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 18+i)})
	}
	for seq := range n {
		p := d.parts[r.IntN(len(d.parts))]
		rec := record{TenantColumn: "acme", DayColumn: p.Day.String(), "seq": int64(seq)}
		line := fmt.Appendf(nil, `{"seq":%d`, seq)
		if r.IntN(10) > 0 {
			ts := p.Day.Start(time.UTC).Add(time.Duration(r.Int64N(int64(24*time.Hour))) / time.Millisecond * time.Millisecond)
			rec[TimeColumn] = ts
			line = fmt.Appendf(line, `,"timestamp":%q`, ts.Format("2006-01-02T15:04:05.000Z"))
		}
		if r.IntN(4) == 0 {
			line = append(line, `,"tenant_id":"acme"`...)
		}
		for _, f := range []string{"msg", "path"} {
			switch r.IntN(8) {
			case 0: // missing
			case 1:
				line = fmt.Appendf(line, `,%q:null`, f)
			default:
				s := randText(r, 10)
				if f == "path" {
					s = `C:\Users\` + s
				}
				rec[f] = s
				line = fmt.Appendf(line, `,%q:`, f)
				line = appendJSONString(line, r, s)
			}
		}
		if r.IntN(5) > 0 {
			v := int64(r.IntN(21) - 10)
			rec["n"] = v
			line = fmt.Appendf(line, `,"n":%d`, v)
		}
		if r.IntN(5) > 0 {
			v := float64(r.IntN(41)-20) / 4
			if v == float64(int64(v)) {
				v += 0.125
			}
			rec["f"] = v
			line = fmt.Appendf(line, `,"f":%s`, strconv.FormatFloat(v, 'f', -1, 64))
		}
		if r.IntN(4) > 0 {
			// Few distinct values: a dictionary-encoded column.
			v := diffOps[r.IntN(len(diffOps))]
			rec["op"] = v
			line = fmt.Appendf(line, `,"op":%q`, v)
		}
		if r.IntN(3) > 0 {
			v := r.IntN(2) == 0
			rec["ok"] = v
			line = fmt.Appendf(line, `,"ok":%t`, v)
		}
		line = append(line, '}')
		d.lines[p] = append(d.lines[p], line)
		d.recs = append(d.recs, rec)
	}
	return d
}

// randPattern returns a LIKE pattern and its escape character (0 for none).
func randPattern(r *rand.Rand) (string, rune) {
	esc := rune(0)
	if r.IntN(3) == 0 {
		esc = '!'
	}
	var b strings.Builder
	for range 1 + r.IntN(4) {
		switch k := r.IntN(10); {
		case k < 3:
			b.WriteByte('%')
		case k < 4:
			b.WriteByte('_')
		case k < 5 && esc != 0:
			b.WriteString([]string{"!%", "!_", "!!"}[r.IntN(3)])
		default:
			s := diffAlphabet[r.IntN(len(diffAlphabet))]
			if s == "%" || s == "_" || (esc != 0 && s == "!") {
				s = "a"
			}
			b.WriteString(s)
		}
	}
	return b.String(), esc
}

func randPred(r *rand.Rand, depth int) Expr {
	if depth > 0 && r.IntN(3) == 0 {
		switch r.IntN(3) {
		case 0:
			return And(randPred(r, depth-1), randPred(r, depth-1))
		case 1:
			return Or(randPred(r, depth-1), randPred(r, depth-1))
		default:
			return Not(randPred(r, depth-1))
		}
	}
	switch r.IntN(10) {
	case 0, 1, 2:
		col := []string{"msg", "path"}[r.IntN(2)]
		pat, esc := randPattern(r)
		if col == "path" && r.IntN(2) == 0 {
			pat = `C:\Users\` + pat
		}
		l := Like(col, pat).WithEscape(esc)
		l.IgnoreCase = r.IntN(4) == 0
		l.Not = r.IntN(4) == 0
		return l
	case 3:
		return &CompareExpr{Op: CmpOp(r.IntN(6)), L: &Column{Name: "n"}, R: Lit(int64(r.IntN(21) - 10))}
	case 4:
		return &CompareExpr{Op: CmpOp(r.IntN(6)), L: &Column{Name: "f"}, R: Lit(float64(r.IntN(41)-20) / 4)}
	case 5:
		return &CompareExpr{Op: CmpOp(r.IntN(6)), L: &Column{Name: "msg"}, R: Lit(randText(r, 2))}
	case 6:
		ts := time.Date(2026, 11, 18+r.IntN(3), r.IntN(24), 0, 0, 0, time.UTC)
		if r.IntN(2) == 0 {
			return Between(TimeColumn, ts, ts.Add(time.Duration(r.IntN(48))*time.Hour))
		}
		return &CompareExpr{Op: CmpOp(r.IntN(6)), L: &Column{Name: TimeColumn}, R: Lit(ts)}
	case 7:
		return &CompareExpr{Op: CmpOp(r.IntN(6)), L: &Column{Name: DayColumn}, R: Lit(loglake.NewDay(2026, 11, 18+r.IntN(3)).String())}
	case 8:
		// Column-level fast paths: dictionary strings, booleans, integer
		// ranges and lists, literals on the left.
		switch r.IntN(7) {
		case 0:
			return Eq("op", diffOps[r.IntN(len(diffOps))])
		case 1:
			return In[any]("op", diffOps[r.IntN(len(diffOps))], diffOps[r.IntN(len(diffOps))])
		case 2:
			return Eq("ok", r.IntN(2) == 0)
		case 3:
			return &BetweenExpr{X: &Column{Name: "n"}, Lo: Lit(int64(r.IntN(11) - 10)), Hi: Lit(int64(r.IntN(11))), Not: r.IntN(3) == 0}
		case 4:
			return &InExpr{X: &Column{Name: "n"}, List: []Operand{Lit(int64(r.IntN(21) - 10)), Lit(int64(r.IntN(21) - 10))}, Not: r.IntN(3) == 0}
		case 5:
			return &CompareExpr{Op: CmpOp(r.IntN(6)), L: Lit(int64(r.IntN(21) - 10)), R: &Column{Name: "n"}}
		default:
			l := Like("op", []string{"%o%", "c_py", "%E%", "mo%"}[r.IntN(4)])
			l.IgnoreCase = r.IntN(2) == 0
			l.Not = r.IntN(3) == 0
			return l
		}
	default:
		col := []string{"msg", "path", "n", "f", "ok", "op", TimeColumn}[r.IntN(7)]
		if r.IntN(2) == 0 {
			return In[any](col, int64(r.IntN(5)), true, "a")
		}
		return &IsNullExpr{X: &Column{Name: col}, Not: r.IntN(2) == 0}
	}
}

// canon renders rows as sorted strings, for comparing results as multisets.
func canon(cols []string, rows [][]any) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		var parts []string
		for j, v := range row {
			if v != nil {
				parts = append(parts, fmt.Sprintf("%s=%#v", cols[j], v))
			}
		}
		slices.Sort(parts)
		out[i] = strings.Join(parts, " ")
	}
	slices.Sort(out)
	return out
}

func recordRows(recs []record) ([]string, [][]any) {
	var cols []string
	seen := map[string]bool{}
	for _, r := range recs {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		row := make([]any, len(cols))
		for j, c := range cols {
			if v, ok := r[c]; ok {
				row[j] = normValue(v)
			}
		}
		rows[i] = row
	}
	return cols, rows
}

func TestDifferential(t *testing.T) { testDifferential(t) }

// TestDifferentialSplit reads every Parquet row group in parts (one per
// reader), each seeking to its rows: pages come sliced.
func TestDifferentialSplit(t *testing.T) {
	old, oldBytes, oldFiles := splitRows, splitBytes, splitFiles
	splitRows, splitBytes, splitFiles = 40, 0, 1<<20
	t.Cleanup(func() { splitRows, splitBytes, splitFiles = old, oldBytes, oldFiles })
	testDifferential(t)
}

func testDifferential(t *testing.T) {
	const nrec = 3000
	d := genDiffData(1, nrec)
	build := func(mode string) *Engine {
		lake := memLake(t)
		for _, p := range d.parts {
			lines := d.lines[p]
			half := len(lines) / 2
			switch mode {
			case "raw":
				for i, part := range [][][]byte{lines[:half/2], lines[half/2 : half], lines[half:]} {
					putRaw(t, lake, p, fmt.Sprintf("w-%d", i), part, []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip, loglake.CompressionNone}[i])
				}
			case "parquet":
				putRaw(t, lake, p, "w-0", lines[:half], loglake.CompressionZstd)
				putRaw(t, lake, p, "w-1", lines[half:], loglake.CompressionZstd)
				compactAll(t, lake, p)
			case "half":
				putRaw(t, lake, p, "w-0", lines[:half], loglake.CompressionZstd)
				compactAll(t, lake, p)
				putRaw(t, lake, p, "w-1", lines[half:], loglake.CompressionZstd)
			}
		}
		return newEngine(t, lake, &Options{Parallelism: 3, BatchRows: 500, RetentionDays: 10})
	}
	engines := map[string]*Engine{"raw": build("raw"), "parquet": build("parquet"), "half": build("half")}
	modes := []string{"raw", "parquet", "half"}
	r := rand.New(rand.NewPCG(2, 3))
	scoped := Eq(TenantColumn, "acme")
	check := func(t *testing.T, q Query, ordered bool) {
		t.Helper()
		want, err := refEval(q, d.recs)
		if err != nil {
			t.Fatalf("reference: %v\n%s", err, q)
		}
		for _, m := range modes {
			got, _, err := collect(t, engines[m], q)
			if err != nil {
				t.Fatalf("%s: %v\n%s", m, err, q)
			}
			gotCols, gotRows := recordRows(got)
			wantCols, wantRows := want.Columns, want.Rows
			if len(q.Items) == 0 {
				var keep []record
				for _, row := range want.Rows {
					rec := record{}
					for j, c := range want.Columns {
						if row[j] != nil {
							rec[c] = row[j]
						}
					}
					keep = append(keep, rec)
				}
				wantCols, wantRows = recordRows(keep)
			}
			if ordered {
				g, w := canonOrdered(gotCols, gotRows), canonOrdered(wantCols, wantRows)
				if diff := cmp.Diff(w, g); diff != "" {
					t.Fatalf("%s: %s\n(-want +got):\n%s", m, q, diff)
				}
				continue
			}
			if diff := cmp.Diff(canon(wantCols, wantRows), canon(gotCols, gotRows)); diff != "" {
				t.Fatalf("%s: %s\n(-want +got):\n%s", m, q, diff)
			}
		}
	}
	t.Run("where", func(t *testing.T) {
		for range 100 {
			var conj []Expr
			for range 1 + r.IntN(3) {
				conj = append(conj, randPred(r, 2))
			}
			q := Select().Where(And(append([]Expr{scoped}, conj...)...))
			if err := q.Validate(); err != nil {
				continue // e.g. an escape before another character
			}
			check(t, q, false)
		}
	})
	t.Run("aggregates", func(t *testing.T) {
		for range 20 {
			q := SelectTerms(Col("ok"), CountAll(), Count("msg"), Min("n"), Max("f"), Sum("n"), Min(TimeColumn)).
				Where(And(scoped, randPred(r, 2))).GroupBy(Col("ok"))
			check(t, q, false)
		}
		check(t, mustParse(t, "SELECT dt, date_trunc('hour', timestamp) AS h, count(*) FROM logs WHERE tenant_id = 'acme' GROUP BY 1, 2"), false)
		check(t, mustParse(t, "SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND msg LIKE '%社%'"), false)
		for range 40 {
			var conj []Expr
			for range 1 + r.IntN(3) {
				conj = append(conj, randPred(r, 1))
			}
			q := SelectTerms(CountAll()).Where(And(append([]Expr{scoped}, conj...)...))
			if q.Validate() != nil {
				continue
			}
			check(t, q, false)
		}
	})
	t.Run("order", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT seq, timestamp, msg FROM logs WHERE tenant_id = 'acme' ORDER BY timestamp DESC, seq LIMIT 7",
			"SELECT seq, timestamp FROM logs WHERE tenant_id = 'acme' AND msg LIKE '%a%' ORDER BY timestamp, seq LIMIT 25",
			"SELECT seq, n FROM logs WHERE tenant_id = 'acme' AND n > 3 ORDER BY n DESC, seq",
			"SELECT ok, count(*) AS c FROM logs WHERE tenant_id = 'acme' GROUP BY ok ORDER BY c DESC, ok",
		} {
			check(t, mustParse(t, sql), true)
		}
	})
	t.Run("limit", func(t *testing.T) {
		for _, m := range modes {
			got, _, err := collect(t, engines[m], mustParse(t, "SELECT seq FROM logs WHERE tenant_id = 'acme' LIMIT 42"))
			if err != nil || len(got) != 42 {
				t.Fatalf("%s: %d rows, %v", m, len(got), err)
			}
		}
	})
}

func canonOrdered(cols []string, rows [][]any) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		var parts []string
		for j, v := range row {
			if v != nil {
				parts = append(parts, fmt.Sprintf("%s=%#v", cols[j], v))
			}
		}
		slices.Sort(parts)
		out[i] = strings.Join(parts, " ")
	}
	return out
}
