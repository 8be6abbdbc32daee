package query

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/loglake/loglake/internal/faultblob"
)

// TestProbesRunAhead: a query without a time constraint probes every day
// of the retention window (1,826 partitions), more than 2×Parallelism at
// once, counts the empty ones, and lists nothing but partitions.
func TestProbesRunAhead(t *testing.T) {
	lake, fb := limitLake(t)
	const want = 8 // Lists that must be in flight together
	var (
		mu      sync.Mutex
		waiting int
		release = make(chan struct{})
		timeout bool
		lists   []string
	)
	fb.SetHook(func(ctx context.Context, op faultblob.Op) error {
		if op.Kind != faultblob.OpList {
			return nil
		}
		mu.Lock()
		lists = append(lists, op.Key)
		waiting++
		if waiting == want {
			close(release)
		}
		first := waiting <= want
		mu.Unlock()
		if first {
			// A barrier: the first Lists wait for each other, which
			// they can only if that many probes run at once. The
			// timeout keeps a broken engine from hanging the test.
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				mu.Lock()
				timeout = true
				mu.Unlock()
			}
		}
		return nil
	})
	e := newEngine(t, lake, &Options{Parallelism: 1, ProbeParallelism: 16})
	got, st, err := collect(t, e, mustParse(t, "SELECT count(*) FROM logs WHERE tenant_id = 'acme'"))
	if err != nil {
		t.Fatal(err)
	}
	if got[0]["count(*)"] != int64(600) {
		t.Errorf("count = %v, want 600", got)
	}
	if timeout {
		t.Errorf("fewer than %d Lists ran at once", want)
	}
	if st.PartitionsConsidered != 1826 || st.PartitionsRead != 3 || st.PartitionsEmpty != 1823 {
		t.Errorf("stats %v: want 1826 considered, 3 read, 1823 empty", st)
	}
	for _, k := range lists {
		if len(k) < len("raw/tenant_id=acme/dt=2026-11-20/") {
			t.Errorf("listed %q: not inside a partition", k)
		}
	}
}
