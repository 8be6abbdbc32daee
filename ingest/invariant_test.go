package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// workload is a set of Add inputs whose records are numbered ("seq"), with
// where each record came from.
type workload struct {
	inputs [][]byte
	origin map[int]InputRef // seq → input
}

// newWorkload builds n inputs of several NDJSON lines over tenants×days
// partitions, with a few bad lines and records (each bad unit holds one seq).
func newWorkload(n, tenants, days int) workload {
	w := workload{origin: map[int]InputRef{}}
	seq := 0
	for k := 0; k < n; k++ {
		var b strings.Builder
		line := 0
		add := func(s string, seqs ...int) {
			b.WriteString(s)
			b.WriteByte('\n')
			for _, q := range seqs {
				w.origin[q] = InputRef{Index: k + 1, Line: line}
			}
			line++
		}
		for e := 0; e < 6; e++ {
			tenant := fmt.Sprintf("t%03d", (k*7+e)%tenants)
			day := fmt.Sprintf("2026-11-%02d", 1+(k+e)%days)
			var seqs []int
			for r := 0; r < 5; r++ {
				seqs = append(seqs, seq+r)
			}
			add(string(envelopeLine(tenant, day, seq, 5)[:len(envelopeLine(tenant, day, seq, 5))-1]), seqs...)
			seq += 5
		}
		switch k % 4 {
		case 0:
			add(fmt.Sprintf(`{"tenant_id":"t000","log":[{"seq":%d}`, seq), seq) // malformed
		case 1:
			add(fmt.Sprintf(`{"tenant_id":"../x","log":[{"seq":%d}]}`, seq), seq) // invalid tenant
		case 2:
			add(fmt.Sprintf("{\"tenant_id\":\"t001\",\"log\":[{\"seq\":%d,\"bad\":\"\xff\"},{\"timestamp\":\"2026-11-01T00:00:00Z\",\"seq\":%d}]}", seq, seq+1), seq, seq+1)
			seq++
		case 3:
			add(fmt.Sprintf(`{"tenant_id":"t002","timestamp":1761955200,"seq":%d}`, seq), seq) // bare record
		}
		seq++
		w.inputs = append(w.inputs, []byte(b.String()))
	}
	return w
}

// checkLanded proves invariant 1 by counting: every record is in raw/,
// spill/ or errors/ exactly once, or its input is named in a FlushError
// with the number of its records that are missing.
func checkLanded(t *testing.T, lake *loglake.Lake, w workload, errs []error) {
	t.Helper()
	found := map[int]int{}
	for _, area := range []string{"raw/", "spill/", "errors/"} {
		for _, o := range readArea(t, lake.Bucket(), area) {
			for _, line := range o.Lines {
				for _, q := range seqsOf(t, line) {
					found[q]++
				}
			}
		}
	}
	for q, c := range found {
		if c > 1 {
			t.Errorf("record %d stored %d times", q, c)
		}
		if _, ok := w.origin[q]; !ok {
			t.Errorf("record %d stored but never handed in", q)
		}
	}
	missing := map[InputRef]int{}
	for q, ref := range w.origin {
		if found[q] == 0 {
			missing[ref]++
		}
	}
	named := map[InputRef]int{}
	for _, err := range errs {
		var fe *FlushError
		if !errors.As(err, &fe) {
			t.Fatalf("error is not a *FlushError: %v", err)
		}
		for _, f := range fe.Failed {
			named[f.Input] += f.Records
			if f.Err == nil {
				t.Errorf("failed input %v without a cause", f.Input)
			}
		}
	}
	if diff := cmp.Diff(missing, named); diff != "" {
		t.Errorf("records missing from the lake (-) vs named in FlushErrors (+):\n%s", diff)
	}
}

// run ingests w, flushing now and then, and returns the errors of Flush
// and Close.
func runWorkload(t *testing.T, lake *loglake.Lake, opts Options, w workload) (*Ingestor, []error) {
	t.Helper()
	ctx := context.Background()
	in, err := New(lake, fastRetries(opts))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for k, data := range w.inputs {
		if err := in.Add(ctx, data); err != nil {
			t.Fatalf("Add: %v", err)
		}
		if k%10 == 9 {
			if err := in.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := in.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	return in, errs
}

func TestNothingLostUnderFaults(t *testing.T) {
	w := newWorkload(24, 5, 4)
	opts := Options{BufferBytes: 4 << 10, MaxBufferedBytes: 32 << 10, MaxActivePartitions: 8, CarryFields: []string{"device_id"}}
	tests := []struct {
		name      string
		rules     []*faultblob.Rule
		wantSpill bool
		wantFail  bool
		retries   int
	}{
		{name: "no faults"},
		{name: "writes fail N times", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Times: 7}}, retries: 8},
		{name: "raw writes always fail", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/"}}, wantSpill: true, retries: 1},
		{name: "every write fails", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}}}, wantFail: true, retries: 1},
		{name: "every third write fails", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Match: everyNth(3)}}, retries: 30},
		{name: "slow writes", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Delay: 2 * time.Millisecond, DelayOnly: true}}},
		{name: "writes cut after partial bytes", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, PartialBytes: 40, Times: 10}}, retries: 11},
		{name: "raw writes always cut", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/", PartialBytes: 40}}, wantSpill: true, retries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lake, fb := newTestLake(t)
			for _, r := range tc.rules {
				fb.Add(r)
			}
			in, errs := runWorkload(t, lake, Options{MaxRetries: tc.retries}.merge(opts), w)
			fb.Reset()
			checkLanded(t, lake, w, errs)
			st := in.Stats()
			if got := len(errs) > 0; got != tc.wantFail {
				t.Errorf("flush errors: %v, want failure %v", errs, tc.wantFail)
			}
			if got := st.Spilled > 0; got != tc.wantSpill {
				t.Errorf("spilled %d records, want spill %v", st.Spilled, tc.wantSpill)
			}
			if st.Records == 0 || st.Written+st.Spilled+st.DeadWritten+st.Failed != st.Records+st.DeadLettered {
				t.Errorf("stats do not add up: %+v", st)
			}
			if tc.wantFail {
				var fe *FlushError
				if !errors.As(errors.Join(errs...), &fe) || !errors.Is(fe, faultblob.ErrInjected) {
					t.Errorf("FlushError does not wrap the cause: %v", errs)
				}
			}
			if tc.wantSpill {
				// Recover moves spill into raw, and is idempotent.
				rec, err := New(lake, &Options{})
				if err != nil {
					t.Fatal(err)
				}
				res, err := rec.Recover(context.Background())
				if err != nil || res.Records != int(st.Spilled) {
					t.Fatalf("Recover: %+v, %v; want %d records", res, err, st.Spilled)
				}
				if res, err := rec.Recover(context.Background()); err != nil || res.Objects != 0 {
					t.Fatalf("second Recover: %+v, %v", res, err)
				}
				rec.Close(context.Background())
				if n := len(readArea(t, lake.Bucket(), "spill/")); n != 0 {
					t.Errorf("%d objects left in spill/", n)
				}
				checkLanded(t, lake, w, nil)
			}
		})
	}
}

// merge fills o's zero fields from d (tests only).
func (o Options) merge(d Options) Options {
	d.MaxRetries = o.MaxRetries
	return d
}

func everyNth(n int64) func(faultblob.Op) bool {
	var c atomic.Int64
	return func(faultblob.Op) bool { return c.Add(1)%n == 0 }
}

func TestRecoverResumes(t *testing.T) {
	ctx := context.Background()
	lake, fb := newTestLake(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/"})
	w := newWorkload(8, 3, 2)
	_, errs := runWorkload(t, lake, Options{MaxRetries: -1}, w)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	// Recover crashes after moving some objects: raw writes fail after 2.
	fb.Reset()
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpDelete}, KeyPrefix: "spill/", Skip: 2})
	rec, err := New(lake, fastRetries(Options{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(ctx)
	if _, err := rec.Recover(ctx); err == nil {
		t.Fatal("Recover with failing deletes returned nil")
	}
	fb.Reset()
	if _, err := rec.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(readArea(t, lake.Bucket(), "spill/")); n != 0 {
		t.Errorf("%d objects left in spill/", n)
	}
	checkLanded(t, lake, w, nil)
}
