package faultblob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/loglake/loglake/internal/faultblob"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"
)

func setup(t *testing.T) (*faultblob.Bucket, *blob.Bucket, *blob.Bucket) {
	t.Helper()
	inner := memblob.OpenBucket(nil)
	fb := faultblob.New(inner)
	b := fb.Bucket()
	t.Cleanup(func() { b.Close(); inner.Close() })
	return fb, inner, b
}

func exists(t *testing.T, b *blob.Bucket, key string) bool {
	t.Helper()
	ok, err := b.Exists(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestFailNthWrite(t *testing.T) {
	ctx := context.Background()
	fb, inner, b := setup(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/", Skip: 1, Times: 2})
	results := []bool{}
	for _, key := range []string{"raw/1", "raw/2", "raw/3", "raw/4", "other/5"} {
		err := b.WriteAll(ctx, key, []byte("data"), nil)
		results = append(results, err == nil)
		if err != nil && !errors.Is(err, faultblob.ErrInjected) {
			t.Errorf("write %s: %v, want ErrInjected", key, err)
		}
		if got := exists(t, inner, key); got != (err == nil) {
			t.Errorf("write %s: err=%v but exists=%v", key, err, got)
		}
	}
	want := []bool{true, false, false, true, true}
	for i := range want {
		if results[i] != want[i] {
			t.Fatalf("write outcomes = %v, want %v", results, want)
		}
	}
	if n := fb.Count(faultblob.OpWrite); n != 5 {
		t.Errorf("Count(OpWrite) = %d, want 5", n)
	}
}

func TestPartialWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	fb, inner, b := setup(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, PartialBytes: 10})
	w, err := b.NewWriter(ctx, "raw/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Write(bytes.Repeat([]byte("a"), 100))
	if err == nil {
		err = w.Close()
	} else {
		w.Close()
	}
	if !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("partial write: n=%d err=%v, want ErrInjected", n, err)
	}
	if exists(t, inner, "raw/x") {
		t.Fatal("a failed write left an object")
	}
}

func TestDelayHonoursContext(t *testing.T) {
	fb, _, b := setup(t)
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpRead}, Delay: time.Hour, DelayOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := b.NewReader(ctx, "x", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed read = %v, want DeadlineExceeded", err)
	}
}

func TestHookAndCodes(t *testing.T) {
	ctx := context.Background()
	fb, _, b := setup(t)
	if err := b.WriteAll(ctx, "k", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("crash")
	fb.SetHook(func(ctx context.Context, op faultblob.Op) error {
		if op.Kind == faultblob.OpDelete {
			return crash
		}
		return nil
	})
	if err := b.Delete(ctx, "k"); !errors.Is(err, crash) {
		t.Fatalf("Delete = %v, want the hook's error", err)
	}
	fb.SetHook(nil)
	r, err := b.NewReader(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "v" {
		t.Fatalf("read %q", got)
	}
	if _, err := b.ReadAll(ctx, "missing"); gcerrors.Code(err) != gcerrors.NotFound {
		t.Fatalf("missing key: code %v, want NotFound", gcerrors.Code(err))
	}
	// IfNotExist passes through.
	err = b.WriteAll(ctx, "k", []byte("w"), &blob.WriterOptions{IfNotExist: true})
	if gcerrors.Code(err) != gcerrors.FailedPrecondition {
		t.Fatalf("IfNotExist on an existing key: %v (code %v)", err, gcerrors.Code(err))
	}
	// Listing works through the wrapper.
	it := b.List(nil)
	var keys []string
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("List = %v", keys)
	}
}
