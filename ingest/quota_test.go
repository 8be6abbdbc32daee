package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// partitionsWorkload has 10× more partitions than slots: 25 tenants × 4
// days against a quota of 10.
func partitionsWorkload() workload { return newWorkload(30, 25, 4) }

func TestQuotaFlushOldest(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	w := partitionsWorkload()
	const budget = 1 << 20 // room for the quota's 10 buffers of 64 KiB
	in, err := New(lake, &Options{MaxActivePartitions: 10, MaxBufferedBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	maxActive, maxMem := 0, int64(0)
	for _, data := range w.inputs {
		if err := in.Add(ctx, data); err != nil {
			t.Fatalf("Add under FlushOldest: %v", err)
		}
		st := in.Stats()
		maxActive = max(maxActive, st.ActivePartitions)
		maxMem = max(maxMem, st.BufferedBytes)
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkLanded(t, lake, w, nil)
	st := in.Stats()
	if maxActive > 10 {
		t.Errorf("%d active partitions, quota 10", maxActive)
	}
	// Buffers grow by at most one size class past the budget.
	if maxMem > budget+128<<10 {
		t.Errorf("%d bytes buffered, budget %d", maxMem, budget)
	}
	if st.Evictions == 0 {
		t.Error("no evictions with 10× more partitions than slots")
	}
	if st.Refused != 0 || st.Failed != 0 {
		t.Errorf("refused %d, failed %d", st.Refused, st.Failed)
	}
}

func TestQuotaPerTenant(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{MaxActivePartitions: 20, MaxActivePartitionsPerTenant: 2, Policy: Reject})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	// One tenant backfilling five days gets two slots; another still gets one.
	var refused []InputRef
	for d := 1; d <= 5; d++ {
		err := in.Add(ctx, envelopeLine("noisy", fmt.Sprintf("2026-11-%02d", d), d*10, 1))
		var fe *FlushError
		if errors.As(err, &fe) {
			refused = append(refused, fe.Inputs()...)
		}
	}
	if len(refused) != 3 {
		t.Errorf("noisy tenant: %d inputs refused, want 3", len(refused))
	}
	if err := in.Add(ctx, envelopeLine("quiet", "2026-11-01", 100, 1)); err != nil {
		t.Errorf("quiet tenant refused: %v", err)
	}
}

func TestQuotaReject(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	w := partitionsWorkload()
	in, err := New(lake, &Options{MaxActivePartitions: 10, Policy: Reject})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, data := range w.inputs {
		if err := in.Add(ctx, data); err != nil {
			if !errors.Is(err, loglake.ErrTooManyActivePartitions) {
				t.Fatalf("Add: %v, want ErrTooManyActivePartitions", err)
			}
			errs = append(errs, err)
		}
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 {
		t.Fatal("Reject never refused with 10× more partitions than slots")
	}
	checkLanded(t, lake, w, errs)
	if st := in.Stats(); st.Refused == 0 || st.Rejections == 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestQuotaBlock(t *testing.T) {
	ctx := context.Background()
	t.Run("slots free by age", func(t *testing.T) {
		lake, _ := newTestLake(t)
		w := newWorkload(6, 25, 4)
		var stalls atomic.Int64
		in, err := New(lake, &Options{MaxActivePartitions: 10, Policy: Block, BufferInterval: 20 * time.Millisecond,
			Hooks: Hooks{OnStall: func(s StallInfo) {
				if s.Wait == 0 {
					stalls.Add(1)
				}
			}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, data := range w.inputs {
			if err := in.Add(ctx, data); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.Close(ctx); err != nil {
			t.Fatal(err)
		}
		checkLanded(t, lake, w, nil)
		if stalls.Load() == 0 {
			t.Error("Block never stalled")
		}
	})
	t.Run("ctx ends", func(t *testing.T) {
		lake, _ := newTestLake(t)
		w := newWorkload(3, 25, 4)
		in, err := New(lake, &Options{MaxActivePartitions: 10, Policy: Block})
		if err != nil {
			t.Fatal(err)
		}
		var errs []error
		for _, data := range w.inputs {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			err := in.Add(ctx, data)
			cancel()
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Add: %v, want DeadlineExceeded", err)
				}
				errs = append(errs, err)
			}
		}
		if len(errs) == 0 {
			t.Fatal("Block never gave up")
		}
		if err := in.Close(ctx); err != nil {
			t.Fatal(err)
		}
		checkLanded(t, lake, w, errs)
	})
}

func TestMemoryStall(t *testing.T) {
	ctx := context.Background()
	lake, fb := newTestLake(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Delay: 3 * time.Millisecond, DelayOnly: true})
	var began, ended atomic.Int64
	var in *Ingestor
	in, err := New(lake, &Options{BufferBytes: 4 << 10, MaxBufferedBytes: 16 << 10, MaxConcurrentUploads: 1,
		Hooks: Hooks{OnStall: func(s StallInfo) {
			_ = in.Stats() // hooks may call the Ingestor
			if s.Wait == 0 {
				began.Add(1)
			} else {
				ended.Add(1)
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorkload(10, 3, 2)
	for _, data := range w.inputs {
		if err := in.Add(ctx, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkLanded(t, lake, w, nil)
	if began.Load() == 0 || began.Load() != ended.Load() {
		t.Errorf("stalls: %d began, %d ended", began.Load(), ended.Load())
	}
}

func TestAgeFlush(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	flushed := make(chan FlushInfo, 10)
	in, err := New(lake, &Options{BufferInterval: 20 * time.Millisecond, Hooks: Hooks{OnFlush: func(f FlushInfo) { flushed <- f }}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	if err := in.Add(ctx, envelopeLine("acme", "2026-11-20", 0, 3)); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-flushed:
		if f.Records != 3 || f.Partition.Tenant != "acme" {
			t.Errorf("flushed %+v", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no age-based flush")
	}
}

func TestConcurrentUse(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{BufferBytes: 8 << 10, MaxBufferedBytes: 64 << 10, MaxActivePartitions: 12, BufferInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorkload(64, 8, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var next atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(w.inputs) {
					return
				}
				if err := in.Add(ctx, w.inputs[k]); err != nil {
					t.Error(err)
				}
				if k%9 == 0 {
					if err := in.Flush(ctx); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
				_ = in.Stats()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := in.AddBatch(ctx, "shard-1:1-9", [][]byte{envelopeLine("t000", "2026-11-01", 1_000_000, 4)}); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	if err := in.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// Add indexes depend on the goroutines' order: match records by seq.
	found := map[int]int{}
	for _, area := range []string{"raw/", "errors/"} {
		for _, o := range readArea(t, lake.Bucket(), area) {
			for _, line := range o.Lines {
				for _, q := range seqsOf(t, line) {
					found[q]++
				}
			}
		}
	}
	var missing, dup []int
	for q := range w.origin {
		if found[q] != 1 {
			missing = append(missing, q)
		}
	}
	for q := 1_000_000; q < 1_000_004; q++ {
		if found[q] != 1 {
			dup = append(dup, q)
		}
	}
	sort.Ints(missing)
	if diff := cmp.Diff([]int(nil), missing); diff != "" {
		t.Errorf("records not stored exactly once: %v", missing)
	}
	if len(dup) > 0 {
		t.Errorf("batch records not stored exactly once: %v", dup)
	}
	waitGoroutines(t, before)
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	lake, fb := newTestLake(t)
	in, err := New(lake, &Options{BufferInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Add(ctx, envelopeLine("acme", "2026-11-20", 0, 2)); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(readArea(t, lake.Bucket(), "raw/")); n != 1 {
		t.Errorf("Close wrote %d objects, want 1", n)
	}
	for name, err := range map[string]error{
		"Close":    in.Close(ctx),
		"Add":      in.Add(ctx, []byte(`{}`)),
		"Flush":    in.Flush(ctx),
		"AddBatch": func() error { _, err := in.AddBatch(ctx, "b", nil); return err }(),
		"Recover":  func() error { _, err := in.Recover(ctx); return err }(),
	} {
		if !errors.Is(err, loglake.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	waitGoroutines(t, before)

	t.Run("ctx ends while uploads hang", func(t *testing.T) {
		before := runtime.NumGoroutine()
		fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Delay: time.Hour})
		in, err := New(lake, &Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Add(ctx, envelopeLine("acme", "2026-11-20", 0, 2)); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err = in.Close(cctx)
		var fe *FlushError
		if !errors.As(err, &fe) || !errors.Is(err, context.DeadlineExceeded) || len(fe.Failed) != 1 || fe.Failed[0].Records != 2 {
			t.Errorf("Close: %v; want a FlushError naming the input, wrapping DeadlineExceeded", err)
		}
		fb.Reset()
		waitGoroutines(t, before)
	})
}
