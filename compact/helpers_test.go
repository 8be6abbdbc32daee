package compact

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawtest"
)

func memLake(t testing.TB) *loglake.Lake {
	t.Helper()
	l, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func fileLake(t testing.TB) *loglake.Lake {
	t.Helper()
	l, err := loglake.Open(context.Background(), "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// genLines returns formatted records ("tenant_id" added, one per line) by
// partition, from the shared generator. Each record gets a unique "seq".
func genLines(t testing.TB, cfg gen.Config, records int) map[loglake.Partition][][]byte {
	t.Helper()
	g := gen.New(cfg)
	data, _ := g.AppendNDJSON(nil, records)
	out := map[loglake.Partition][][]byte{}
	seq := 0
	for _, env := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var e struct {
			TenantID string            `json:"tenant_id"`
			Log      []json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		for _, rec := range e.Log {
			var ts struct {
				Timestamp time.Time `json:"timestamp"`
			}
			if err := json.Unmarshal(rec, &ts); err != nil {
				t.Fatal(err)
			}
			p := loglake.Partition{Tenant: e.TenantID, Day: loglake.DayOf(ts.Timestamp, time.UTC)}
			line := fmt.Appendf(nil, `{"tenant_id":%q,"seq":%d,`, e.TenantID, seq)
			line = append(line, rec[1:]...)
			seq++
			out[p] = append(out[p], line)
		}
	}
	return out
}

// putRaw writes lines as one raw object of p.
func putRaw(t testing.TB, lake *loglake.Lake, p loglake.Partition, name string, lines [][]byte, c loglake.Compression) ObjectRef {
	t.Helper()
	key, size := rawtest.PutRaw(t, lake, p, name, lines, c)
	return ObjectRef{Key: key, Size: size}
}

// putRawSplit writes lines as objects of at most per lines each.
func putRawSplit(t testing.TB, lake *loglake.Lake, p loglake.Partition, prefix string, lines [][]byte, per int) int {
	n := 0
	for i := 0; i < len(lines); i += per {
		putRaw(t, lake, p, fmt.Sprintf("%s-%06d", prefix, n), lines[i:min(i+per, len(lines))], loglake.CompressionZstd)
		n++
	}
	return n
}

// seqCounts reads partition p and counts each "seq".
func seqCounts(t testing.TB, lake *loglake.Lake, p loglake.Partition) map[int64]int {
	t.Helper()
	recs, _, err := ReadAll(context.Background(), lake, p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, r := range recs {
		switch s := r["seq"].(type) {
		case int64:
			out[s]++
		case float64:
			out[int64(s)]++
		default:
			t.Fatalf("record without seq: %v", r)
		}
	}
	return out
}

// checkExactlyOnce asserts that partition p holds seqs want, each once.
func checkExactlyOnce(t testing.TB, lake *loglake.Lake, p loglake.Partition, want []int64) {
	t.Helper()
	got := seqCounts(t, lake, p)
	var dup, missing []int64
	for _, s := range want {
		switch got[s] {
		case 1:
		case 0:
			missing = append(missing, s)
		default:
			dup = append(dup, s)
		}
		delete(got, s)
	}
	if len(dup) > 0 || len(missing) > 0 || len(got) > 0 {
		t.Fatalf("%s: %d duplicated (%v…), %d missing (%v…), %d unexpected", p, len(dup), head(dup), len(missing), head(missing), len(got))
	}
}

func head(s []int64) []int64 {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func seqsOf(t testing.TB, lines [][]byte) []int64 {
	var out []int64
	for _, l := range lines {
		var r struct{ Seq int64 }
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Seq)
	}
	return out
}

// biggest returns the partition with the most lines.
func biggest(m map[loglake.Partition][][]byte) loglake.Partition {
	var ps []loglake.Partition
	for p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if len(m[ps[i]]) != len(m[ps[j]]) {
			return len(m[ps[i]]) > len(m[ps[j]])
		}
		return ps[i].Key() < ps[j].Key()
	})
	return ps[0]
}

// listKeys returns every key in the lake with its content, for before/after
// comparisons.
func lakeState(t testing.TB, lake *loglake.Lake) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj, err := range lake.List(context.Background(), "", "") {
		if err != nil {
			t.Fatal(err)
		}
		data, err := lake.ReadAll(context.Background(), obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Key] = string(data)
	}
	return out
}

func keysUnder(t testing.TB, lake *loglake.Lake, prefix string) []string {
	t.Helper()
	var out []string
	for obj, err := range lake.List(context.Background(), prefix, "") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, obj.Key)
	}
	slices.Sort(out)
	return out
}

// TestMain runs the tests with the bigmem pool checked: arena memory
// starts out as garbage, and a use after release crashes. Benchmarks run
// with the pool as users have it.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		bigmem.SetChecked(true)
	}
	os.Exit(m.Run())
}
