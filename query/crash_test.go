package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/faultblob"
)

// Exactly once under compaction: whatever step a compaction crashed at, and
// while compactions commit and delete under a running query, a query
// returns every record once.

var crashCompact = compact.Options{MaxFiles: 1, KeepManifests: 2, BufferBytes: 64 << 10, RowGroupRows: 100}

type crashWorld struct {
	fb    *faultblob.Bucket
	lake  *loglake.Lake // through faults
	plain *loglake.Lake
	p     loglake.Partition
	n     int // records written
}

var errDead = errors.New("process died")

// newCrashWorld writes a partition with two committed generations and new
// raw data, so that the next compaction writes, commits, deletes raw
// objects, supersedes a file and prunes a manifest.
func newCrashWorld(t testing.TB) *crashWorld {
	t.Helper()
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	t.Cleanup(func() { inner.Close() })
	w := &crashWorld{fb: faultblob.New(inner), p: loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}}
	var err error
	if w.lake, err = loglake.New(ctx, w.fb.Bucket()); err != nil {
		t.Fatal(err)
	}
	if w.plain, err = loglake.New(ctx, inner); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for obj := range 3 {
			var lines [][]byte
			for range 80 {
				lines = append(lines, fmt.Appendf(nil, `{"seq":%d,"timestamp":"2026-11-20T%02d:%02d:00Z","file_path":"C:\\社外秘\\%d.txt"}`,
					w.n, w.n%24, w.n%60, w.n))
				w.n++
			}
			putRaw(t, w.plain, w.p, fmt.Sprintf("r%d-%d", round, obj), lines, loglake.CompressionZstd)
		}
		if round < 2 {
			c, err := compact.New(w.plain, &crashCompact)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CompactPartition(ctx, w.p); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// checkOnce queries the partition through lake and checks that every seq
// comes back once, by rows and by count(*).
func (w *crashWorld) checkOnce(t testing.TB, lake *loglake.Lake) Stats {
	t.Helper()
	e := newEngine(t, lake, &Options{Parallelism: 2, RetentionDays: 30})
	got, st, err := collect(t, e, mustParse(t, "SELECT seq FROM logs WHERE tenant_id = 'acme' AND dt = '2026-11-20' AND file_path LIKE '%社外秘%'"))
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, r := range got {
		seqs = append(seqs, r["seq"].(int64))
	}
	slices.Sort(seqs)
	if len(seqs) != w.n {
		t.Fatalf("%d rows, want %d (stats %v)", len(seqs), w.n, st)
	}
	for i, s := range seqs {
		if s != int64(i) {
			t.Fatalf("row %d has seq %d: a record lost or doubled", i, s)
		}
	}
	cnt, _, err := collect(t, e, mustParse(t, "SELECT count(*) AS n FROM logs WHERE tenant_id = 'acme'"))
	if err != nil {
		t.Fatal(err)
	}
	if c := cnt[0]["n"].(int64); c != int64(w.n) {
		t.Fatalf("count(*) = %d, want %d", c, w.n)
	}
	return st
}

func TestExactlyOnceAfterCrashAtEveryStep(t *testing.T) {
	// Count the steps of one clean compaction.
	w := newCrashWorld(t)
	steps := 0
	o := crashCompact
	o.Hooks.AfterStep = func(loglake.Partition, compact.Step, string) error { steps++; return nil }
	c, _ := compact.New(w.plain, &o)
	if _, err := c.CompactPartition(context.Background(), w.p); err != nil {
		t.Fatal(err)
	}
	if steps < 5 {
		t.Fatalf("only %d steps", steps)
	}
	for n := range steps {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := newCrashWorld(t)
			k := 0
			o := crashCompact
			o.Hooks.AfterStep = func(_ loglake.Partition, s compact.Step, _ string) error {
				k++
				if k-1 == n {
					return errDead
				}
				return nil
			}
			c, _ := compact.New(w.plain, &o)
			if _, err := c.CompactPartition(context.Background(), w.p); !errors.Is(err, errDead) {
				t.Fatalf("err = %v, want the crash", err)
			}
			w.checkOnce(t, w.plain)
			// The next run finishes the job; still once.
			c2, _ := compact.New(w.plain, &crashCompact)
			if _, err := c2.CompactPartition(context.Background(), w.p); err != nil {
				t.Fatal(err)
			}
			w.checkOnce(t, w.plain)
		})
	}
}

// TestExactlyOnceCompactionUnderQuery lets a compaction commit and delete
// the objects of a partition just as the query is about to read one of
// them: the read finds the object gone, the engine drops what it had of
// the partition and reads it again from a new snapshot.
func TestExactlyOnceCompactionUnderQuery(t *testing.T) {
	for _, kind := range []string{".ndjson.zst", ".parquet"} {
		t.Run(kind, func(t *testing.T) {
			w := newCrashWorld(t)
			var fired atomic.Bool
			var reads atomic.Int64
			w.fb.SetHook(func(ctx context.Context, op faultblob.Op) error {
				if op.Kind != faultblob.OpRead || len(op.Key) < len(kind) || op.Key[len(op.Key)-len(kind):] != kind {
					return nil
				}
				// Let one object be read first, so the partition has
				// rows buffered when the next one vanishes. The
				// partition's one Parquet file is small: it is read
				// whole with its footer, in its first read.
				at := int64(2)
				if kind == ".parquet" {
					at = 1
				}
				if reads.Add(1) == at && fired.CompareAndSwap(false, true) {
					c, _ := compact.New(w.plain, &crashCompact)
					if _, err := c.CompactPartition(context.Background(), w.p); err != nil {
						return err
					}
				}
				return nil
			})
			st := w.checkOnce(t, w.lake)
			if !fired.Load() {
				t.Fatal("the compaction never ran under the query")
			}
			if st.PartitionRetries == 0 {
				t.Fatalf("no partition retried: %v", st)
			}
		})
	}
}
