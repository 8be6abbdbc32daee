package compact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

// leaseBackends opens, for each backend, a function that returns a new Lake
// on one shared store: separate Lakes, as separate processes have.
func leaseBackends(t *testing.T) map[string]func() *loglake.Lake {
	mem := memLake(t)
	dir := t.TempDir()
	return map[string]func() *loglake.Lake{
		"mem": func() *loglake.Lake { return mem },
		"file": func() *loglake.Lake {
			l, err := loglake.Open(context.Background(), "file://"+dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		},
	}
}

func newLeaser(t testing.TB, lake *loglake.Lake, id string, o Options) *Compactor {
	t.Helper()
	o.CommitterID = id
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 2 * time.Second
	}
	c, err := New(lake, &o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var leaseP = loglake.Partition{Tenant: "acme", Day: loglake.Day{Year: 2026, Month: 3, Day: 1}}

func leaseGens(t testing.TB, lake *loglake.Lake, p loglake.Partition) []string {
	t.Helper()
	var out []string
	for _, k := range keysUnder(t, lake, p.Prefix(loglake.AreaCompacted)+leaseDir) {
		out = append(out, strings.TrimPrefix(k, p.Prefix(loglake.AreaCompacted)+leaseDir))
	}
	return out
}

// TestLeaseExclusive: a held lease refuses others with a *LeasedError that
// is ErrConflict; a released one is taken at once; old generations are
// cleaned up.
func TestLeaseExclusive(t *testing.T) {
	for name, open := range leaseBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := newLeaser(t, open(), "a", Options{}), newLeaser(t, open(), "b", Options{})
			la, err := a.TryLease(ctx, leaseP)
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.TryLease(ctx, leaseP)
			var le *LeasedError
			if !errors.As(err, &le) || !errors.Is(err, loglake.ErrConflict) || le.Owner != "a" || le.Partition != leaseP {
				t.Fatalf("second TryLease: %v (%#v)", err, le)
			}
			if !strings.Contains(err.Error(), "leased by a until") {
				t.Errorf("message: %v", err)
			}
			if err := la.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if err := la.Release(ctx); !errors.Is(err, loglake.ErrClosed) {
				t.Errorf("second Release: %v", err)
			}
			lb, err := b.TryLease(ctx, leaseP)
			if err != nil {
				t.Fatalf("TryLease after Release: %v", err)
			}
			if diff := cmp.Diff([]string{"00000000000000000003.json"}, leaseGens(t, open(), leaseP)); diff != "" {
				t.Errorf("lease objects (-want +got):\n%s", diff)
			}
			if err := lb.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"00000000000000000004.json"}, leaseGens(t, open(), leaseP)); diff != "" {
				t.Errorf("lease objects after release (-want +got):\n%s", diff)
			}
			select {
			case <-lb.Lost():
				t.Error("a released lease reads as lost")
			default:
			}
		})
	}
}

// TestLeaseRace: of many compactors taking one partition at once, exactly
// one wins, round after round.
func TestLeaseRace(t *testing.T) {
	for name, open := range leaseBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const n = 8
			cs := make([]*Compactor, n)
			for i := range cs {
				cs[i] = newLeaser(t, open(), fmt.Sprintf("c%d", i), Options{})
			}
			for round := range 5 {
				var wg sync.WaitGroup
				var mu sync.Mutex
				var won []*Lease
				for _, c := range cs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l, err := c.TryLease(ctx, leaseP)
						if err != nil && !errors.Is(err, loglake.ErrConflict) {
							t.Error(err)
						}
						if l != nil {
							mu.Lock()
							won = append(won, l)
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if len(won) != 1 {
					t.Fatalf("round %d: %d compactors hold the lease", round, len(won))
				}
				if err := won[0].Release(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestLeaseRenewAndTakeover: a holder renews its lease (new generations,
// old ones deleted); when its renewals stop, the lease expires and another
// compactor takes it over; a holder whose lease was taken over learns it
// from Lost.
func TestLeaseRenewAndTakeover(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	var skew atomic.Int64 // b's clock runs ahead of a's by this much
	a := newLeaser(t, lake, "a", Options{LeaseTTL: time.Second})
	b := newLeaser(t, lake, "b", Options{LeaseTTL: time.Second, Clock: func() time.Time {
		return time.Now().Add(time.Duration(skew.Load()))
	}})
	actx, stopA := context.WithCancel(ctx)
	la, err := a.TryLease(actx, leaseP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a renewal", func() bool {
		la.mu.Lock()
		defer la.mu.Unlock()
		return la.gen >= 3
	})
	if _, err := b.TryLease(ctx, leaseP); !errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("b took a renewed lease: %v", err)
	}
	if g := leaseGens(t, lake, leaseP); len(g) > 2 {
		t.Errorf("renewals left %d generations: %v", len(g), g)
	}

	// b's clock jumps past a's expiry: b takes the lease; a's next renewal
	// finds its generation taken.
	skew.Store(int64(5 * time.Second))
	var lb *Lease
	waitFor(t, "takeover", func() bool {
		lb, err = b.TryLease(ctx, leaseP)
		return err == nil
	})
	select {
	case <-la.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("a never learned that its lease was taken")
	}
	if err := la.Release(ctx); err != nil {
		t.Errorf("Release of a lost lease: %v", err)
	}
	if _, err := a.TryLease(ctx, leaseP); !errors.Is(err, loglake.ErrConflict) {
		t.Errorf("a's release freed b's lease: %v", err)
	}
	stopA()

	// A holder whose context ends stops renewing: the lease lapses.
	skew.Store(0)
	bctx, stopB := context.WithCancel(ctx)
	lb.Release(ctx)
	lb, err = b.TryLease(bctx, leaseP)
	if err != nil {
		t.Fatal(err)
	}
	stopB()
	<-lb.done
	waitFor(t, "expiry", func() bool {
		l, err := a.TryLease(ctx, leaseP)
		if err == nil {
			l.Release(ctx)
		}
		return err == nil
	})
}

// TestLeaseCorrupt: a corrupt newest generation does not block a
// partition; decode failures are ErrCorrupt.
func TestLeaseCorrupt(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	if err := lake.WriteAll(ctx, leaseKey(leaseP, 5), []byte("{not json"), nil); err != nil {
		t.Fatal(err)
	}
	c := newLeaser(t, lake, "c", Options{})
	l, err := c.TryLease(ctx, leaseP)
	if err != nil {
		t.Fatal(err)
	}
	if l.gen != 6 {
		t.Errorf("generation %d, want 6", l.gen)
	}
	l.Release(ctx)
	for _, in := range []string{"", "{}", `{"version":1}`, `{"version":1,"partition":"tenant_id=acme/dt=2026-03-01","generation":2,"token":"x"}`} {
		if _, err := decodeLease([]byte(in), leaseP, 1); !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("decodeLease(%q): %v", in, err)
		}
	}
}

func FuzzDecodeLease(f *testing.F) {
	f.Add([]byte(`{"version":1,"partition":"tenant_id=acme/dt=2026-03-01","generation":1,"owner":"a","token":"t","expires":"2026-03-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"released":true}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeLease(data, leaseP, 1)
		if err != nil {
			if !errors.Is(err, loglake.ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if r.Generation != 1 || r.Partition != leaseP.Key() || r.Token == "" {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// TestRunSkipsLeasedPartitions: Run skips a partition another compactor
// holds (OnLeased), compacts the rest, and takes the held one once it is
// released; its report names the holder.
func TestRunSkipsLeasedPartitions(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 2, Days: 3, Seed: 5}, 600)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 50)
	}
	held := biggest(parts)
	holder := newLeaser(t, lake, "holder", Options{})
	hl, err := holder.TryLease(ctx, held)
	if err != nil {
		t.Fatal(err)
	}
	var skipped atomic.Int32
	c := newLeaser(t, lake, "runner", Options{Hooks: Hooks{OnLeased: func(e *LeasedError) {
		if e.Partition != held || e.Owner != "holder" {
			t.Errorf("OnLeased %v", e)
		}
		skipped.Add(1)
		hl.Release(context.Background()) // the holder finishes
	}}})
	rep, err := c.Run(ctx, Plan{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if skipped.Load() != 1 {
		t.Errorf("OnLeased called %d times", skipped.Load())
	}
	for _, pr := range rep.Partitions {
		wantBy := ""
		if pr.Partition == held {
			wantBy = "holder"
		}
		if pr.Outcome != OutcomeCompacted || pr.LeasedBy != wantBy {
			t.Errorf("%s: %s, leased by %q", pr.Partition, pr.Outcome, pr.LeasedBy)
		}
	}
	if len(rep.Partitions) != len(parts) {
		t.Errorf("%d partitions reported, want %d", len(rep.Partitions), len(parts))
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

// TestRunTakesOverDeadHolder: a holder that stops renewing (as if killed)
// keeps its partition only until the lease expires; Run then compacts it.
func TestRunTakesOverDeadHolder(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 2, Seed: 6}, 300)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 50)
	}
	dead := newLeaser(t, lake, "dead", Options{LeaseTTL: time.Second})
	dctx, die := context.WithCancel(ctx)
	dl, err := dead.TryLease(dctx, biggest(parts))
	if err != nil {
		t.Fatal(err)
	}
	die()
	<-dl.done
	c := newLeaser(t, lake, "runner", Options{LeaseTTL: time.Second})
	rep, err := c.Run(ctx, Plan{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Count(OutcomeCompacted); got != len(parts) {
		t.Errorf("compacted %d of %d", got, len(parts))
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

// TestRunConcurrentRunsSplitWork: several Runs, each with its own Lake on
// one directory, share the partitions: each is compacted once (no
// conflicts) and every record read once.
func TestRunConcurrentRunsSplitWork(t *testing.T) {
	ctx := context.Background()
	open := leaseBackends(t)["file"]
	lake := open()
	parts := genLines(t, gen.Config{Tenants: 4, Days: 3, Seed: 7}, 1200)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 40)
	}
	const runs = 3
	var wg sync.WaitGroup
	reps := make([]Report, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newLeaser(t, open(), fmt.Sprintf("r%d", i), Options{})
			var err error
			reps[i], err = c.Run(ctx, Plan{All: true})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	compacted := 0
	for _, r := range reps {
		compacted += r.Count(OutcomeCompacted)
		if n := r.Count(OutcomeConflict); n > 0 {
			t.Errorf("%d conflicts: leases should keep runs apart", n)
		}
	}
	if compacted != len(parts) {
		t.Errorf("%d compactions of %d partitions", compacted, len(parts))
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

// TestRunDisableLeases writes no lease object.
func TestRunDisableLeases(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 8}, 100)
	for p, lines := range parts {
		putRaw(t, lake, p, "w", lines, loglake.CompressionZstd)
	}
	c := newLeaser(t, lake, "c", Options{DisableLeases: true})
	if _, err := c.Run(ctx, Plan{All: true}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keysUnder(t, lake, "") {
		if strings.Contains(k, leaseDir) {
			t.Errorf("lease object %s with DisableLeases", k)
		}
	}
}

func TestLeaseOptions(t *testing.T) {
	for _, ttl := range []time.Duration{-time.Second, time.Millisecond} {
		if _, err := New(memLake(t), &Options{LeaseTTL: ttl}); !errors.Is(err, loglake.ErrInvalidOptions) || !strings.Contains(err.Error(), "LeaseTTL") {
			t.Errorf("LeaseTTL %v: %v", ttl, err)
		}
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// bound (a hang guard, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkLease measures a lease's overhead per partition: take it (list,
// read, create, list) and release it (create, delete).
func BenchmarkLease(b *testing.B) {
	for _, backend := range []string{"mem", "file"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			lake := memLake(b)
			if backend == "file" {
				lake = fileLake(b)
			}
			c := newLeaser(b, lake, "bench", Options{})
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				l, err := c.TryLease(ctx, leaseP)
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Release(ctx); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leases/s")
		})
	}
}
