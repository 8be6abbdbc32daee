package compact

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

// TestRaceCommitters races many compactors — each with its own Lake, as
// separate processes would have — on one partition, while readers read it
// over and over. Exactly one commits; every read, during and after, sees
// each record exactly once.
func TestRaceCommitters(t *testing.T) {
	for _, backend := range []string{"mem", "file"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			var open func() *loglake.Lake
			switch backend {
			case "mem":
				l := memLake(t) // one bucket: mem:// buckets live per Open
				open = func() *loglake.Lake { return l }
			case "file":
				dir := t.TempDir()
				open = func() *loglake.Lake {
					l, err := loglake.Open(ctx, "file://"+dir)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Close() })
					return l
				}
			}
			lake := open()
			parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 3}, 2000)
			p := biggest(parts)
			seqs := seqsOf(t, parts[p])
			putRawSplit(t, lake, p, "w", parts[p], 200)

			const committers = 8
			var start sync.WaitGroup
			start.Add(1)
			var done atomic.Bool
			var wg sync.WaitGroup
			results := make([]Result, committers)
			errs := make([]error, committers)
			for i := range committers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := New(open(), &Options{CommitterID: fmt.Sprintf("c%d", i), BufferBytes: 64 << 10})
					if err != nil {
						errs[i] = err
						return
					}
					start.Wait()
					results[i], errs[i] = c.CompactPartition(ctx, p)
				}()
			}
			var readers sync.WaitGroup
			var reads atomic.Int64
			for range 2 {
				readers.Add(1)
				go func() {
					defer readers.Done()
					l := open()
					start.Wait()
					for !done.Load() {
						checkExactlyOnce(t, l, p, seqs)
						reads.Add(1)
					}
				}()
			}
			start.Done()
			wg.Wait()
			done.Store(true)
			readers.Wait()
			winners := 0
			for i := range committers {
				if errs[i] != nil {
					t.Fatalf("committer %d: %v", i, errs[i])
				}
				switch results[i].Outcome {
				case OutcomeCompacted:
					winners++
				case OutcomeConflict, OutcomeUnchanged:
				default:
					t.Fatalf("committer %d: outcome %s", i, results[i].Outcome)
				}
			}
			if winners != 1 {
				t.Fatalf("%d winners, want exactly 1", winners)
			}
			checkExactlyOnce(t, lake, p, seqs)
			// Losers removed their files: only the winner's remain.
			v, err := Snapshot(ctx, lake, p)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, k := range keysUnder(t, lake, p.Prefix(loglake.AreaCompacted)) {
				if len(k) > 8 && k[len(k)-8:] == ".parquet" {
					n++
				}
			}
			if n != len(v.Parquet) || v.Generation != 1 {
				t.Fatalf("%d Parquet files in the partition, manifest generation %d lists %d", n, v.Generation, len(v.Parquet))
			}
			t.Logf("%d reads during the race", reads.Load())
		})
	}
}
