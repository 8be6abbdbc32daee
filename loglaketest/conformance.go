package loglaketest

import (
	"context"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
	"gocloud.dev/blob"
)

// A test of the suite. Each gets a fixture that makes fresh buckets and
// lakes on the backend under test.
type test struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// suite returns the tests in the order they run: the lake first (if it
// cannot open, nothing else will), then the storage primitives loglake
// builds on, then the life cycle that builds on both.
func suite() []test {
	var s []test
	s = append(s, lakeTests...)
	s = append(s, createOnlyTests...)
	s = append(s, storageTests...)
	s = append(s, lifecycleTests...)
	return s
}

// RunConformanceTests runs the conformance suite against the backend that
// newHarness describes. It makes one Harness for the run, runs every test
// as a subtest, serially, each on buckets of its own, and closes the
// Harness at the end. If newHarness skips, the whole run is skipped.
func RunConformanceTests(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	ctx := context.Background()
	h, err := newHarness(ctx, t)
	if err != nil {
		t.Fatalf("make harness: %v", err)
	}
	t.Cleanup(h.Close)
	for _, tc := range suite() {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, &fixture{h: h, ctx: ctx})
		})
	}
}

// fixture gives a test fresh buckets and lakes, closed when the test ends.
type fixture struct {
	h   Harness
	ctx context.Context
}

// bucket returns a fresh, empty bucket and the options a lake on it needs.
func (f *fixture) bucket(t testing.TB) (*blob.Bucket, []loglake.Option) {
	t.Helper()
	b, opts, err := f.h.MakeBucket(f.ctx)
	if err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, opts
}

// lake returns a new lake on a fresh bucket.
func (f *fixture) lake(t testing.TB, opts ...loglake.Option) *loglake.Lake {
	t.Helper()
	b, bopts := f.bucket(t)
	return f.lakeOn(t, b, bopts, opts...)
}

// lakeOn opens a lake on b; bopts are the bucket's options from the
// Harness.
func (f *fixture) lakeOn(t testing.TB, b *blob.Bucket, bopts []loglake.Option, opts ...loglake.Option) *loglake.Lake {
	t.Helper()
	l, err := loglake.New(f.ctx, b, append(bopts[:len(bopts):len(bopts)], opts...)...)
	if err != nil {
		t.Fatalf("loglake.New: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// faulty is a lake whose bucket goes through a fault injector, beside a
// view of the same objects without faults.
type faulty struct {
	faults *faultblob.Bucket
	lake   *loglake.Lake // through the fault injector
	clean  *loglake.Lake // the same objects, no faults
}

// faultyLake returns a lake on a fresh bucket wrapped in a fault injector.
func (f *fixture) faultyLake(t testing.TB, opts ...loglake.Option) *faulty {
	t.Helper()
	inner, bopts := f.bucket(t)
	clean := f.lakeOn(t, inner, bopts, opts...)
	fb := faultblob.New(inner)
	outer := fb.Bucket()
	t.Cleanup(func() { _ = outer.Close() })
	return &faulty{faults: fb, lake: f.lakeOn(t, outer, bopts, opts...), clean: clean}
}

// exists reports whether key is in the lake.
func exists(t testing.TB, ctx context.Context, l *loglake.Lake, key string) bool {
	t.Helper()
	_, err := l.Attributes(ctx, key)
	switch {
	case err == nil:
		return true
	case loglake.IsNotFound(err):
		return false
	}
	t.Fatalf("Attributes(%s): %v", key, err)
	return false
}

// keys lists the keys under prefix, in the order List yields them.
func keys(t testing.TB, ctx context.Context, l *loglake.Lake, prefix, delimiter string) []string {
	t.Helper()
	var out []string
	for obj, err := range l.List(ctx, prefix, delimiter) {
		if err != nil {
			t.Fatalf("List(%q, %q): %v", prefix, delimiter, err)
		}
		out = append(out, obj.Key)
	}
	return out
}
