package compact

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/gen"
)

// crashWorld is a lake in memory seen two ways: through a fault-injecting
// bucket (what the compactor uses) and directly (what checks use).
type crashWorld struct {
	inner *blob.Bucket
	fb    *faultblob.Bucket
	lake  *loglake.Lake // through faults
	plain *loglake.Lake // no faults
	p     loglake.Partition
	seqs  []int64
}

var crashOpts = Options{MaxFiles: 1, KeepManifests: 2, BufferBytes: 64 << 10, RowGroupRows: 100, RetryBackoff: 1}

// newCrashWorld builds a partition with two committed generations (so the
// next compaction prunes a manifest) and new raw data (so it writes files,
// commits, deletes raw objects, supersedes files — MaxFiles 1 forces a
// rewrite — and prunes).
func newCrashWorld(t testing.TB) *crashWorld {
	t.Helper()
	ctx := context.Background()
	w := &crashWorld{inner: memblob.OpenBucket(nil)}
	t.Cleanup(func() { w.inner.Close() })
	w.fb = faultblob.New(w.inner)
	var err error
	if w.lake, err = loglake.New(ctx, w.fb.Bucket()); err != nil {
		t.Fatal(err)
	}
	if w.plain, err = loglake.New(ctx, w.inner); err != nil {
		t.Fatal(err)
	}
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 7}, 600)
	w.p = biggest(parts)
	lines := parts[w.p]
	w.seqs = seqsOf(t, lines)
	c, err := New(w.plain, &crashOpts)
	if err != nil {
		t.Fatal(err)
	}
	third := len(lines) / 3
	putRawSplit(t, w.plain, w.p, "a", lines[:third], 60)
	mustCompact(t, c, w.p)
	putRawSplit(t, w.plain, w.p, "b", lines[third:2*third], 60)
	mustCompact(t, c, w.p)
	putRawSplit(t, w.plain, w.p, "c", lines[2*third:], 60)
	return w
}

func mustCompact(t testing.TB, c *Compactor, p loglake.Partition) Result {
	t.Helper()
	res, err := c.CompactPartition(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ops records the write and delete operations of one clean compaction.
func (w *crashWorld) ops(t testing.TB) []faultblob.Op {
	var ops []faultblob.Op
	w.fb.SetHook(func(_ context.Context, op faultblob.Op) error {
		if op.Kind == faultblob.OpWrite || op.Kind == faultblob.OpDelete {
			ops = append(ops, op)
		}
		return nil
	})
	defer w.fb.SetHook(nil)
	c, _ := New(w.lake, &crashOpts)
	mustCompact(t, c, w.p)
	return ops
}

type crashMode int

const (
	failOne   crashMode = iota // the operation fails; later ones work
	dieAfter                   // the operation succeeds; every later one fails (a dead process)
	cancelled                  // the operation succeeds; the context is canceled before the next
)

func (m crashMode) String() string { return [...]string{"fail", "die", "cancel"}[m] }

var errDead = errors.New("process died")

// crashAt runs one compaction that crashes at write/delete operation n,
// then checks that the partition reads exactly once, that the next
// compaction completes, and that it reads exactly once after that.
func (w *crashWorld) crashAt(t testing.TB, n int, mode crashMode) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var i atomic.Int64
	w.fb.SetHook(func(_ context.Context, op faultblob.Op) error {
		if op.Kind != faultblob.OpWrite && op.Kind != faultblob.OpDelete {
			if mode == dieAfter && i.Load() > int64(n) {
				return errDead
			}
			return nil
		}
		k := i.Add(1) - 1
		switch {
		case k == int64(n) && mode == failOne:
			return faultblob.ErrInjected
		case k > int64(n) && mode == dieAfter:
			return errDead
		case k == int64(n)+1 && mode == cancelled:
			cancel()
			return context.Canceled
		}
		return nil
	})
	c, _ := New(w.lake, &crashOpts)
	_, err := c.CompactPartition(ctx, w.p)
	w.fb.SetHook(nil)
	if err == nil && mode == failOne {
		// Failing a delete of the clean-up is reported; failing nothing
		// (n past the end) is not.
		t.Logf("op %d: no error", n)
	}
	checkExactlyOnce(t, w.plain, w.p, w.seqs)
	// The next run completes the job.
	c2, _ := New(w.plain, &crashOpts)
	if _, err := c2.CompactPartition(context.Background(), w.p); err != nil {
		t.Fatalf("next run: %v", err)
	}
	checkExactlyOnce(t, w.plain, w.p, w.seqs)
	if raw := keysUnder(t, w.plain, w.p.Prefix(loglake.AreaRaw)); len(raw) != 0 {
		t.Fatalf("raw objects left after the next run: %v", raw)
	}
	// Garbage from the crash is collectable, and collecting it changes no
	// read.
	if _, err := c2.CollectGarbage(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, w.plain, w.p, w.seqs)
	v, err := Snapshot(context.Background(), w.plain, w.p)
	if err != nil {
		t.Fatal(err)
	}
	var parquetKeys []string
	for _, k := range keysUnder(t, w.plain, w.p.Prefix(loglake.AreaCompacted)) {
		if strings.HasSuffix(k, ".parquet") {
			parquetKeys = append(parquetKeys, k)
		}
	}
	if len(parquetKeys) != len(v.Parquet) {
		t.Fatalf("after GC: %d Parquet files, manifest lists %d", len(parquetKeys), len(v.Parquet))
	}
}

func TestCrashAtEveryStep(t *testing.T) {
	w := newCrashWorld(t)
	ops := w.ops(t)
	if len(ops) < 5 {
		t.Fatalf("only %d operations: %v", len(ops), ops)
	}
	t.Logf("%d write/delete operations in one compaction", len(ops))
	for _, mode := range []crashMode{failOne, dieAfter, cancelled} {
		for n, op := range ops {
			name := op.Key[strings.LastIndex(op.Key, "/")+1:]
			t.Run(fmt.Sprintf("%s/%02d-%s-%s", mode, n, op.Kind, name), func(t *testing.T) {
				newCrashWorld(t).crashAt(t, n, mode)
			})
		}
	}
}

// TestCrashAtEveryHookStep stops the compaction in Hooks.AfterStep, at
// each step of the protocol, exactly as a process that dies there.
func TestCrashAtEveryHookStep(t *testing.T) {
	w := newCrashWorld(t)
	var steps []Step
	o := crashOpts
	o.Hooks.AfterStep = func(_ loglake.Partition, s Step, _ string) error { steps = append(steps, s); return nil }
	c, _ := New(w.lake, &o)
	mustCompact(t, c, w.p)
	seen := map[Step]bool{}
	for _, s := range steps {
		seen[s] = true
	}
	for _, s := range []Step{StepReadManifest, StepWroteFile, StepCommitted, StepDeletedRaw, StepDeletedFile, StepPruned} {
		if !seen[s] {
			t.Errorf("step %s never happened: %v", s, steps)
		}
	}
	for n := range steps {
		t.Run(fmt.Sprintf("%02d-%s", n, steps[n]), func(t *testing.T) {
			w := newCrashWorld(t)
			k := 0
			o := crashOpts
			o.Hooks.AfterStep = func(_ loglake.Partition, s Step, _ string) error {
				k++
				if k-1 == n {
					return errDead
				}
				return nil
			}
			c, _ := New(w.lake, &o)
			if _, err := c.CompactPartition(context.Background(), w.p); !errors.Is(err, errDead) {
				t.Fatalf("err = %v, want the crash", err)
			}
			w.crashAt(t, 1<<30, failOne) // checks, next run, GC
		})
	}
}

// TestCrashRandomized crashes at random points and modes, repeatedly, each
// time on top of the previous crash's leftovers, before one clean run.
func TestCrashRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		w := newCrashWorld(t)
		n := len(w.ops(t)) // a compaction of the same shape
		w = newCrashWorld(t)
		for it := range 1 + rng.IntN(3) {
			mode := crashMode(rng.IntN(3))
			at := rng.IntN(n + 2)
			t.Logf("round %d: %s at %d", round, mode, at)
			w.crashAt(t, at, mode)
			// crashAt finished the job; add more late data for the next crash.
			extra := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: uint64(100 + 10*round + it)}, 200)
			lines := extra[biggest(extra)]
			for i := range lines {
				lines[i] = []byte(strings.Replace(string(lines[i]), `"seq":`, fmt.Sprintf(`"seq":9%03d`, 10*round+it+1), 1))
			}
			putRawSplit(t, w.plain, w.p, fmt.Sprintf("r%d-%d", round, it), lines, 50)
			w.seqs = append(w.seqs, seqsOf(t, lines)...)
		}
	}
}
