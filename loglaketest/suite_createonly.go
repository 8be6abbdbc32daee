package loglaketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// createOnlyTests check [loglake.Lake.CreateOnly], the primitive under the
// compaction commit (a manifest generation is written create-only, so two
// compactors can never both commit one). On S3 it is a conditional PUT
// (If-None-Match: *); on file:// a hard link, because fileblob's
// IfNotExist checks and then renames, and two writers can both "win".
var createOnlyTests = []test{
	{"CreateOnly/Sequential", testCreateOnlySequential},
	{"CreateOnly/OverPlainWrite", testCreateOnlyOverPlainWrite},
	{"CreateOnly/EmptyObject", testCreateOnlyEmpty},
	{"CreateOnly/TwoWriters", func(t *testing.T, f *fixture) { raceCreateOnly(t, f, 2, 25) }},
	{"CreateOnly/ManyWriters", func(t *testing.T, f *fixture) { raceCreateOnly(t, f, 16, 8) }},
	{"CreateOnly/CanceledLeavesNothing", testCreateOnlyCanceled},
	{"CreateOnly/FailedLeavesNothing", testCreateOnlyFailed},
}

const manifestKey = "compacted/tenant_id=acme/dt=2026-03-01/_manifest/00000001.json"

func testCreateOnlySequential(t *testing.T, f *fixture) {
	l := f.lake(t)
	ctx := f.ctx
	if err := l.CreateOnly(ctx, manifestKey, []byte("first")); err != nil {
		t.Fatalf("first CreateOnly: %v", err)
	}
	err := l.CreateOnly(ctx, manifestKey, []byte("second"))
	if !errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("second CreateOnly = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), manifestKey) {
		t.Errorf("conflict error %q does not name the key", err)
	}
	readBack(t, ctx, l, manifestKey, "first")
	// A deleted key can be created again (a compactor's cleanup retried).
	if err := l.Delete(ctx, manifestKey); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateOnly(ctx, manifestKey, []byte("third")); err != nil {
		t.Fatalf("CreateOnly after Delete: %v", err)
	}
	readBack(t, ctx, l, manifestKey, "third")
}

func testCreateOnlyOverPlainWrite(t *testing.T, f *fixture) {
	l := f.lake(t)
	if err := l.WriteAll(f.ctx, manifestKey, []byte("plain"), nil); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateOnly(f.ctx, manifestKey, []byte("create")); !errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("CreateOnly over a plain write = %v, want ErrConflict", err)
	}
	readBack(t, f.ctx, l, manifestKey, "plain")
}

func testCreateOnlyEmpty(t *testing.T, f *fixture) {
	l := f.lake(t)
	if err := l.CreateOnly(f.ctx, manifestKey, nil); err != nil {
		t.Fatalf("CreateOnly(empty): %v", err)
	}
	readBack(t, f.ctx, l, manifestKey, "")
	if err := l.CreateOnly(f.ctx, manifestKey, nil); !errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("second CreateOnly(empty) = %v, want ErrConflict", err)
	}
}

// raceCreateOnly starts writers goroutines at once on one key, rounds
// times, each with a body of its own (of different sizes, so a torn or
// mixed object would show). Exactly one must win each round, every loser
// must get ErrConflict, a reader must see the winner's bytes, and nothing
// else may be left under the key's prefix (a loser's temporary file, say).
func raceCreateOnly(t *testing.T, f *fixture, writers, rounds int) {
	l := f.lake(t)
	ctx := f.ctx
	for round := range rounds {
		prefix := fmt.Sprintf("compacted/tenant_id=acme/dt=2026-03-01/_manifest/r%03d/", round)
		key := prefix + "00000001.json"
		bodies := make([][]byte, writers)
		for w := range bodies {
			bodies[w] = fmt.Appendf(nil, "{\"writer\":%d,\"pad\":%q}\n", w, strings.Repeat("x", w*997))
		}
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				errs[w] = l.CreateOnly(ctx, key, bodies[w])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won the create-only race", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, loglake.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want nil or ErrConflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: all %d writers lost", round, writers)
		}
		got, err := l.ReadAll(ctx, key)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !bytes.Equal(got, bodies[winner]) {
			t.Fatalf("round %d: stored object (%d bytes, %.40q…) is not writer %d's", round, len(got), got, winner)
		}
		if got := keys(t, ctx, l, prefix, ""); !cmp.Equal(got, []string{key}) {
			t.Fatalf("round %d: objects under %s = %q, want only the key", round, prefix, got)
		}
	}
}

func testCreateOnlyCanceled(t *testing.T, f *fixture) {
	l := f.lake(t)
	canceled, cancel := context.WithCancel(f.ctx)
	cancel()
	err := l.CreateOnly(canceled, manifestKey, []byte("never"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateOnly with a canceled ctx = %v, want context.Canceled", err)
	}
	if exists(t, f.ctx, l, manifestKey) {
		t.Fatal("a canceled CreateOnly left an object")
	}
	if err := l.CreateOnly(f.ctx, manifestKey, []byte("later")); err != nil {
		t.Fatalf("CreateOnly after a canceled one: %v", err)
	}
	readBack(t, f.ctx, l, manifestKey, "later")
}

// testCreateOnlyFailed fails the create-only write at the driver — at
// commit, and after part of the body — and checks that the failure is not
// taken for a lost race, that nothing is left, and that a retry wins.
func testCreateOnlyFailed(t *testing.T, f *fixture) {
	for _, rule := range []struct {
		name        string
		partialSize int
	}{
		{"commit", 0},
		{"partial", 100},
	} {
		t.Run(rule.name, func(t *testing.T) {
			fl := f.faultyLake(t)
			fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyContains: "_manifest/", Times: 1, PartialBytes: rule.partialSize})
			body := bytes.Repeat([]byte("m"), 4096)
			before := fl.faults.Count(faultblob.OpWrite) + fl.faults.Count(faultblob.OpData)
			err := fl.lake.CreateOnly(f.ctx, manifestKey, body)
			if fl.faults.Count(faultblob.OpWrite)+fl.faults.Count(faultblob.OpData) == before {
				t.Skip("CreateOnly does not go through the bucket on this backend (file:// links a local file)")
			}
			if err == nil || errors.Is(err, loglake.ErrConflict) {
				t.Fatalf("CreateOnly under a write fault = %v, want a failure other than ErrConflict", err)
			}
			if !errors.Is(err, faultblob.ErrInjected) {
				t.Errorf("CreateOnly error %v does not wrap the injected failure", err)
			}
			if exists(t, f.ctx, fl.clean, manifestKey) {
				t.Fatal("a failed CreateOnly left an object")
			}
			if err := fl.lake.CreateOnly(f.ctx, manifestKey, body); err != nil {
				t.Fatalf("retried CreateOnly: %v", err)
			}
			readBack(t, f.ctx, fl.clean, manifestKey, string(body))
		})
	}
}

func readBack(t testing.TB, ctx context.Context, l *loglake.Lake, key, want string) {
	t.Helper()
	got, err := l.ReadAll(ctx, key)
	if err != nil {
		t.Fatalf("ReadAll(%s): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("ReadAll(%s) = %.60q (%d bytes), want %.60q (%d bytes)", key, got, len(got), want, len(want))
	}
}
