package ingest

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

func TestAddBatchIdempotent(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	items := [][]byte{
		envelopeLine("acme", "2026-11-20", 0, 30),
		append(envelopeLine("acme", "2026-11-21", 30, 30), envelopeLine("beta", "2026-11-20", 60, 30)...),
		[]byte(`{"tenant_id":"../x","log":[{"seq":90}]}`),
	}
	opts := Options{BufferBytes: 2 << 10, CarryFields: []string{"device_id"}}
	deliver := func() BatchResult {
		in, err := New(lake, &opts)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
		res, err := in.AddBatch(ctx, "shardId-000000000001:49590338271490256608559692538361571095921575989136588898-49590338271490256608559692538361571095921575989136588899", items)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := deliver()
	if first.Records != 90 || first.DeadLettered != 1 || len(first.Keys) < 3 {
		t.Fatalf("first delivery: %+v", first)
	}
	snapshot := func() map[string][]string {
		m := map[string][]string{}
		for _, area := range []string{"raw/", "errors/"} {
			for _, o := range readArea(t, lake.Bucket(), area) {
				m[o.Key] = o.Lines
			}
		}
		return m
	}
	before := snapshot()
	second := deliver() // a crash, then the same batch again
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("redelivery differs (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot()); diff != "" {
		t.Errorf("redelivery changed the lake (-before +after):\n%s", diff)
	}
	name := regexp.MustCompile(`^raw/tenant_id=[a-z]+/dt=\d{4}-\d\d-\d\d/b-[0-9a-f]{24}-\d{4}\.ndjson\.zst$`)
	for _, k := range first.Keys {
		if !name.MatchString(k) {
			t.Errorf("key %s does not have the batch layout", k)
		}
	}
	// Another batch id writes other keys.
	in, _ := New(lake, &opts)
	defer in.Close(ctx)
	other, err := in.AddBatch(ctx, "shard-2", items[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range other.Keys {
		if _, ok := before[k]; ok {
			t.Errorf("batch shard-2 reused key %s", k)
		}
	}
}

func TestAddBatchFailures(t *testing.T) {
	ctx := context.Background()
	lake, fb := newTestLake(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyContains: "tenant_id=beta"})
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyContains: ".beta."}) // its spill
	in, err := New(lake, fastRetries(Options{MaxRetries: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	items := [][]byte{envelopeLine("acme", "2026-11-20", 0, 3), envelopeLine("beta", "2026-11-20", 3, 3), envelopeLine("acme", "2026-11-21", 6, 3)}
	res, err := in.AddBatch(ctx, "b1", items)
	var fe *FlushError
	if !errors.As(err, &fe) || !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("AddBatch: %v, want a FlushError", err)
	}
	if diff := cmp.Diff([]InputRef{{BatchID: "b1", Index: 1}}, fe.Inputs()); diff != "" {
		t.Errorf("failed inputs (-want +got):\n%s", diff)
	}
	if res.Written != 6 || res.Records != 9 {
		t.Errorf("result %+v", res)
	}

	// With only raw/ failing, the batch spills; Recover puts it under the
	// key the batch would have written, so a redelivery cannot duplicate it.
	fb.Reset()
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/"})
	res, err = in.AddBatch(ctx, "b2", items[1:2])
	if err != nil || res.Spilled != 3 {
		t.Fatalf("AddBatch: %+v, %v; want 3 spilled", res, err)
	}
	fb.Reset()
	if _, err := in.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := in.AddBatch(ctx, "b2", items[1:2])
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range readArea(t, lake.Bucket(), "raw/tenant_id=beta/") {
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	if diff := cmp.Diff(again.Keys, keys); diff != "" {
		t.Errorf("recovered and redelivered keys differ:\n%s", diff)
	}
}

func TestAddBatchReject(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{MaxActivePartitions: 2, Policy: Reject})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	items := [][]byte{envelopeLine("a", "2026-11-20", 0, 1), envelopeLine("b", "2026-11-20", 1, 1), envelopeLine("c", "2026-11-20", 2, 1)}
	res, err := in.AddBatch(ctx, "b", items)
	if !errors.Is(err, loglake.ErrTooManyActivePartitions) {
		t.Fatalf("AddBatch: %v, want ErrTooManyActivePartitions", err)
	}
	var fe *FlushError
	errors.As(err, &fe)
	if diff := cmp.Diff([]InputRef{{BatchID: "b", Index: 2}}, fe.Inputs()); diff != "" {
		t.Error(diff)
	}
	if res.Written != 2 {
		t.Errorf("result %+v", res)
	}
	if _, err := in.AddBatch(ctx, "", items); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("empty batch id: %v", err)
	}
}

// A batch redelivered after midnight: records without a time and dead
// letters take the arrival day, so only a caller-given arrival time keeps
// the redelivery on the first delivery's keys.
func TestAddBatchAtRedeliveryAfterMidnight(t *testing.T) {
	ctx := context.Background()
	arrived := time.Date(2026, 11, 20, 23, 59, 30, 0, time.UTC)
	items := [][]byte{
		[]byte(`{"tenant_id":"acme","log":[{"seq":0},{"seq":1},{"seq":2,"timestamp":"2026-11-19T08:00:00Z"}]}`),
		[]byte(`{"tenant_id":"../x","log":[{"seq":3}]}`),
	}
	tests := []struct {
		name     string
		at       bool // AddBatchAt with the first delivery's arrival time
		wantSame bool
	}{
		{"AddBatchAt", true, true},
		{"AddBatch", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lake, _ := newTestLake(t)
			deliver := func(now time.Time) BatchResult {
				opts := Options{}
				opts.now = func() time.Time { return now }
				in, err := New(lake, &opts)
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close(ctx)
				var res BatchResult
				if tt.at {
					res, err = in.AddBatchAt(ctx, "shard-1:42", arrived, items)
				} else {
					res, err = in.AddBatch(ctx, "shard-1:42", items)
				}
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			first := deliver(arrived)
			second := deliver(arrived.Add(2 * time.Minute)) // the next day
			if first.Records != 3 || first.DeadLettered != 1 {
				t.Fatalf("first delivery: %+v", first)
			}
			records, dead := 0, 0
			days := map[string]bool{}
			for _, o := range readArea(t, lake.Bucket(), "raw/") {
				records += len(o.Lines)
				days[o.Key[:strings.LastIndexByte(o.Key, '/')]] = true
			}
			for _, o := range readArea(t, lake.Bucket(), "errors/") {
				dead += len(o.Lines)
			}
			if tt.wantSame {
				if diff := cmp.Diff(first.Keys, second.Keys); diff != "" {
					t.Errorf("redelivery wrote other keys (-first +second):\n%s", diff)
				}
				if records != 3 || dead != 1 {
					t.Errorf("after a redelivery the lake holds %d records and %d dead letters, want 3 and 1 (days %v)", records, dead, days)
				}
				if !days["raw/tenant_id=acme/dt=2026-11-20"] || len(days) != 2 {
					t.Errorf("partitions %v, want dt=2026-11-19 and dt=2026-11-20", days)
				}
				return
			}
			// Without the arrival time the records without a time move to
			// the next day: the duplicate AddBatchAt exists to prevent.
			if records != 5 || dead != 2 {
				t.Errorf("AddBatch redelivered across midnight: %d records, %d dead letters; want the documented duplicates 5 and 2", records, dead)
			}
		})
	}
}
