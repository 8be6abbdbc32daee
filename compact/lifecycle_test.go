package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/gen"
)

func TestIdempotent(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 2, Days: 2}, 3000)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 250)
	}
	c, _ := New(lake, nil)
	plan := Plan{All: true}
	rep, err := c.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Count(OutcomeCompacted); got != len(parts) {
		t.Fatalf("first run compacted %d of %d partitions", got, len(parts))
	}
	before := lakeState(t, lake)
	rep, err = c.Run(ctx, plan)
	if err != nil || len(rep.Partitions) != 0 {
		t.Fatalf("second run: %v, %d partitions (no raw data left, none expected)", err, len(rep.Partitions))
	}
	for p := range parts {
		res, err := c.CompactPartition(ctx, p)
		if err != nil || res.Outcome != OutcomeUnchanged || res.Deleted != 0 {
			t.Fatalf("%s again: %+v %v", p, res, err)
		}
	}
	if diff := cmp.Diff(before, lakeState(t, lake)); diff != "" {
		t.Fatalf("second run changed the lake:\n%s", diff)
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

func TestLateDataAndFileBound(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 5}, 6000)
	p := biggest(parts)
	lines := parts[p]
	c, _ := New(lake, &Options{MaxFiles: 3})
	var seqs []int64
	batches := 8
	per := len(lines) / batches
	maxFiles := 0
	rewrites := 0
	for b := range batches {
		batch := lines[b*per : (b+1)*per]
		putRawSplit(t, lake, p, fmt.Sprintf("late%d", b), batch, 100)
		seqs = append(seqs, seqsOf(t, batch)...)
		checkExactlyOnce(t, lake, p, seqs) // raw data reads before compaction too
		res := mustCompact(t, c, p)
		if res.Rewrite {
			rewrites++
		}
		checkExactlyOnce(t, lake, p, seqs)
		v, _ := Snapshot(ctx, lake, p)
		maxFiles = max(maxFiles, len(v.Parquet))
		if v.Generation != int64(b+1) {
			t.Fatalf("generation %d after %d compactions", v.Generation, b+1)
		}
	}
	if maxFiles > 3 || rewrites == 0 {
		t.Fatalf("max %d files (bound 3), %d rewrites", maxFiles, rewrites)
	}
	// Old manifests are pruned to KeepManifests.
	if n := len(keysUnder(t, lake, p.Prefix(loglake.AreaCompacted)+manifestDir)); n != 4 {
		t.Fatalf("%d manifests kept, want 4", n)
	}
}

func TestRedeliveredObjectIsNotCountedTwice(t *testing.T) {
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1}, 500)
	p := biggest(parts)
	putRaw(t, lake, p, "batch-1", parts[p], loglake.CompressionZstd)
	c, _ := New(lake, nil)
	mustCompact(t, c, p)
	// The same batch arrives again (a retried delivery): same key, same
	// bytes.
	putRaw(t, lake, p, "batch-1", parts[p], loglake.CompressionZstd)
	checkExactlyOnce(t, lake, p, seqsOf(t, parts[p]))
	res := mustCompact(t, c, p)
	if res.Outcome != OutcomeUnchanged || res.Deleted != 1 {
		t.Fatalf("%+v", res)
	}
	checkExactlyOnce(t, lake, p, seqsOf(t, parts[p]))
}

func TestSchemaInferenceEvolutionAndPins(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	p := loglake.Partition{Tenant: "t1", Day: loglake.NewDay(2026, 1, 2)}
	put := func(name string, lines ...string) {
		var b [][]byte
		for _, l := range lines {
			b = append(b, []byte(l))
		}
		putRaw(t, lake, p, name, b, loglake.CompressionNone)
	}
	put("a",
		`{"tenant_id":"t1","timestamp":"2026-01-02T00:00:01Z","i":1,"w":1,"c":1,"pin":"7","obj":{"x":1}}`,
		`{"tenant_id":"t1","timestamp":"2026-01-02T00:00:02Z","i":2,"w":2.5,"c":"two","pin":"eight","obj":[1]}`,
		`{"tenant_id":"OTHER","timestamp":"not a time","i":3,"i":4,"_unfit":1}`,
		`not json at all`,
	)
	c, err := New(lake, &Options{Pin: Schema{{Name: "pin", Type: TypeInt64}}})
	if err != nil {
		t.Fatal(err)
	}
	mustCompact(t, c, p)
	v, _ := Snapshot(ctx, lake, p)
	want := Schema{
		{Name: "_unfit", Type: TypeJSON}, {Name: "c", Type: TypeString}, {Name: "i", Type: TypeInt64},
		{Name: "obj", Type: TypeJSON}, {Name: "pin", Type: TypeInt64}, {Name: "timestamp", Type: TypeTimestamp},
		{Name: "w", Type: TypeFloat64},
	}
	if diff := cmp.Diff(want, v.Schema); diff != "" {
		t.Fatalf("schema (-want +got):\n%s", diff)
	}
	recs, _, err := ReadAll(ctx, lake, p)
	if err != nil {
		t.Fatal(err)
	}
	unfit := map[string]bool{}
	for _, r := range recs {
		if u, ok := r[UnfitColumn]; ok {
			var m map[string]any
			if err := json.Unmarshal(u.(json.RawMessage), &m); err != nil {
				t.Fatalf("unfit %s: %v", u, err)
			}
			for k := range m {
				unfit[k] = true
			}
		}
		if r["pin"] == int64(7) && r["c"] != "1" {
			t.Fatalf("int widened to string: c = %#v", r["c"])
		}
	}
	for _, k := range []string{"pin", "tenant_id", "timestamp", "i", "_unfit", "_line"} {
		if !unfit[k] {
			t.Errorf("%q not kept in %s: %v", k, UnfitColumn, unfit)
		}
	}
	// Evolution: a later batch adds a column and widens one; older files
	// read the new column as absent (NULL).
	put("b", `{"tenant_id":"t1","timestamp":"2026-01-02T00:00:03Z","i":1.5,"added":"new"}`)
	mustCompact(t, c, p)
	v, _ = Snapshot(ctx, lake, p)
	if ty, _ := v.Schema.Lookup("i"); ty != TypeFloat64 {
		t.Fatalf("i is %s after widening", ty)
	}
	if ty, _ := v.Schema.Lookup("added"); ty != TypeString {
		t.Fatalf("added is %q", ty)
	}
	recs, _, _ = ReadAll(ctx, lake, p)
	added := 0
	for _, r := range recs {
		if _, ok := r["added"]; ok {
			added++
		}
		if i, ok := r["i"]; ok {
			if _, isFloat := i.(float64); !isFloat {
				t.Fatalf("i read as %T, want float64", i)
			}
		}
	}
	if len(recs) != 5 || added != 1 {
		t.Fatalf("%d records, %d with added", len(recs), added)
	}
}

// TestSmallBufferBoundsMemory compacts a partition many times larger than
// BufferBytes: it becomes several files, each sorted by time, and the heap
// stays bounded by the buffer, not by the partition.
func TestSmallBufferBoundsMemory(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 9}, 30000)
	p := biggest(parts)
	lines := parts[p]
	total := 0
	for _, l := range lines {
		total += len(l) + 1
	}
	putRawSplit(t, lake, p, "w", lines, 2000)
	seqs := seqsOf(t, lines)
	parts, lines = nil, nil
	// Measure live memory, not the garbage a lazy collector lets pile up.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const buf = 1 << 20
	c, _ := New(lake, &Options{BufferBytes: buf, RowGroupRows: 1000})
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	res := mustCompact(t, c, p)
	close(stop)
	<-sampled
	if len(res.Files) < total/buf {
		t.Fatalf("%d files for %d bytes with a %d-byte buffer", len(res.Files), total, buf)
	}
	for _, f := range res.Files {
		recs, err := ReadParquet(ctx, lake, f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i]["timestamp"].(time.Time).Before(recs[i-1]["timestamp"].(time.Time)) {
				t.Fatalf("%s not sorted at row %d", f.Key, i)
			}
		}
	}
	checkExactlyOnce(t, lake, p, seqs)
	// The raw data lives in the same heap (mem://), so measure growth.
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("%d bytes of NDJSON, %d files, heap grew by at most %d KiB", total, len(res.Files), grew>>10)
	if grew > 16*buf {
		t.Fatalf("heap grew by %d bytes compacting with a %d-byte buffer", grew, buf)
	}
}

func TestRunIsolatesFailingTenant(t *testing.T) {
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	defer inner.Close()
	fb := faultblob.New(inner)
	lake, err := loglake.New(ctx, fb.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	parts := genLines(t, gen.Config{Tenants: 4, Days: 2}, 4000)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 500)
	}
	bad := gen.TenantName(1)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpRead}, KeyContains: "tenant_id=" + bad + "/", Match: func(op faultblob.Op) bool {
		return strings.HasPrefix(op.Key, "raw/")
	}})
	var starts atomic.Int64
	c, _ := New(lake, &Options{Concurrency: 2, MaxAttempts: 3, RetryBackoff: time.Millisecond,
		Hooks: Hooks{OnStart: func(loglake.Partition) { starts.Add(1) }}})
	rep, err := c.Run(ctx, Plan{All: true})
	if err == nil || !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("err = %v", err)
	}
	for _, pr := range rep.Partitions {
		switch {
		case pr.Partition.Tenant == bad:
			if pr.Outcome != OutcomeFailed || pr.Attempts != 3 || pr.Err == nil {
				t.Errorf("%s: %s after %d attempts: %v", pr.Partition, pr.Outcome, pr.Attempts, pr.Err)
			}
		case pr.Outcome != OutcomeCompacted || pr.Attempts != 1:
			t.Errorf("%s: %s after %d attempts: %v", pr.Partition, pr.Outcome, pr.Attempts, pr.Err)
		}
	}
	if len(rep.Partitions) != len(parts) {
		t.Fatalf("report has %d partitions, want %d", len(rep.Partitions), len(parts))
	}
	fb.Reset()
	rep, err = c.Run(ctx, Plan{Tenants: []string{bad}, All: true})
	if err != nil || rep.Count(OutcomeCompacted) == 0 {
		t.Fatalf("retry of the failed tenant alone: %v %+v", err, rep)
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

func TestRunDefaultPlanSkipsToday(t *testing.T) {
	lake := memLake(t)
	today := lake.Today()
	old := loglake.Partition{Tenant: "a", Day: today.AddDays(-400)}
	cur := loglake.Partition{Tenant: "a", Day: today}
	for _, p := range []loglake.Partition{old, cur} {
		putRaw(t, lake, p, "x", [][]byte{[]byte(`{"tenant_id":"a","timestamp":"` + p.Day.String() + `T01:00:00Z","seq":1}`)}, loglake.CompressionNone)
	}
	c, _ := New(lake, nil)
	rep, err := c.Run(context.Background(), Plan{})
	if err != nil || len(rep.Partitions) != 1 || rep.Partitions[0].Partition != old {
		t.Fatalf("%v %+v", err, rep.Partitions)
	}
}

func TestExpireAndCollectGarbage(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	now := time.Now().UTC()
	c, _ := New(lake, &Options{Clock: func() time.Time { return now }})
	var ps []loglake.Partition
	for _, age := range []int{0, 10, 1824, 1825, 3000} {
		p := loglake.Partition{Tenant: "t", Day: loglake.DayOf(now, time.UTC).AddDays(-age)}
		ps = append(ps, p)
		putRaw(t, lake, p, "x", [][]byte{[]byte(`{"tenant_id":"t","timestamp":"` + p.Day.String() + `T01:00:00Z","seq":1}`)}, loglake.CompressionZstd)
		mustCompact(t, c, p)
		putRaw(t, lake, p, "y", [][]byte{[]byte(`{"tenant_id":"t","timestamp":"` + p.Day.String() + `T02:00:00Z","seq":2}`)}, loglake.CompressionZstd)
	}
	rep, err := c.Expire(ctx, 0, true)
	if err != nil || len(rep.Partitions) != 2 {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	for _, p := range ps {
		if len(keysUnder(t, lake, p.Prefix(loglake.AreaCompacted))) == 0 {
			t.Fatalf("dry run deleted %s", p)
		}
	}
	rep, err = c.Expire(ctx, 0, false)
	if err != nil || len(rep.Partitions) != 2 || rep.Partitions[0].Partition != ps[4] || rep.Partitions[1].Partition != ps[3] {
		t.Fatalf("%v %+v", err, rep)
	}
	for i, p := range ps {
		n := len(keysUnder(t, lake, p.Prefix(loglake.AreaCompacted))) + len(keysUnder(t, lake, p.Prefix(loglake.AreaRaw)))
		if (n == 0) != (i >= 3) {
			t.Fatalf("%s: %d objects left", p, n)
		}
	}
	// An unreferenced file (a crashed compaction's) goes once past grace.
	stray := ps[0].Prefix(loglake.AreaCompacted) + "part-stray.parquet"
	if err := lake.WriteAll(ctx, stray, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	gc, err := c.CollectGarbage(ctx, time.Hour)
	if err != nil || len(gc.Deleted) != 0 {
		t.Fatalf("young garbage collected: %v %v", err, gc.Deleted)
	}
	now = now.Add(2 * time.Hour)
	gc, err = c.CollectGarbage(ctx, time.Hour)
	if err != nil || len(gc.Deleted) != 1 || gc.Deleted[0] != stray {
		t.Fatalf("%v %v", err, gc.Deleted)
	}
	for _, p := range ps[:3] {
		if recs, _, err := ReadAll(ctx, lake, p); err != nil || len(recs) != 2 {
			t.Fatalf("%s after GC: %d records, %v", p, len(recs), err)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	lake := memLake(t)
	_, err := New(lake, &Options{Concurrency: -1, BufferBytes: 2 << 30, ZstdLevel: 9, KeepManifests: 1, Pin: Schema{{Name: "x", Type: "decimal"}}})
	if !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"Concurrency", "BufferBytes", "ZstdLevel", "KeepManifests", "Pin"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	o := Options{}
	if _, err := New(lake, &o); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Options{}, o, cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil })); diff != "" {
		t.Fatalf("New modified the caller's options: %s", diff)
	}
	c, _ := New(lake, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompactPartition(context.Background(), loglake.Partition{Tenant: "a", Day: loglake.NewDay(2026, 1, 1)}); !errors.Is(err, loglake.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, loglake.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
