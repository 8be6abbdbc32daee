package loglaketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// storageTests check the object-store semantics loglake's stages rely on,
// through the Lake.
var storageTests = []test{
	{"Storage/RoundTrip", testRoundTrip},
	{"Storage/Overwrite", testOverwrite},
	{"Storage/RangeRead", testRangeRead},
	{"Storage/CanceledWriteLeavesNothing", testCanceledWrite},
	{"Storage/FailedWriteLeavesNothing", testFailedWrite},
	{"Storage/NotFound", testNotFound},
	{"Storage/DeleteIsIdempotent", testDeleteIdempotent},
	{"Storage/ListInsidePrefix", testListInsidePrefix},
	{"Storage/ListPages", testListPages},
}

// pattern returns n bytes that differ at every offset modulo 251 (a prime),
// so a read from the wrong offset or a torn write shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range min(n, 251) {
		b[i] = byte(i) ^ seed
	}
	// Double the filled part: the period 251 divides every copy's offset.
	for filled := 251; filled < n; filled *= 2 {
		copy(b[filled:], b[:filled])
	}
	return b
}

// testRoundTrip writes objects of the sizes loglake writes — empty, small,
// around a page, and past S3's multipart threshold — under keys of the
// shapes loglake uses, and reads them back exactly, with their size.
func testRoundTrip(t *testing.T, f *fixture) {
	l := f.lake(t)
	ctx := f.ctx
	cases := []struct {
		key  string
		size int
	}{
		{"raw/tenant_id=acme/dt=2026-03-01/w-7f3a-000001.ndjson.zst", 0},
		{"raw/tenant_id=a.b-c_d/dt=2026-03-01/w-7f3a-000002.ndjson.gz", 1},
		{"errors/invalid_json/dt=2026-03-01/w-7f3a-000003.ndjson.zst", 4095},
		{"spill/w-7f3a/tenant_id=acme/dt=2026-03-01/000004.ndjson.zst", 4096},
		{"compacted/tenant_id=acme/dt=2026-03-01/part-00000001.parquet", 1<<20 + 7},
		// Past the SDK's multipart threshold (8 MiB): a Parquet file of a
		// busy partition.
		{"compacted/tenant_id=acme/dt=2026-03-02/part-00000002.parquet", 9<<20 + 3},
	}
	for i, c := range cases {
		data := pattern(c.size, byte(i))
		if err := l.WriteAll(ctx, c.key, data, nil); err != nil {
			t.Fatalf("WriteAll(%s, %d bytes): %v", c.key, c.size, err)
		}
		got, err := l.ReadAll(ctx, c.key)
		if err != nil {
			t.Fatalf("ReadAll(%s): %v", c.key, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("ReadAll(%s) = %d bytes, not the %d written", c.key, len(got), len(data))
		}
		a, err := l.Attributes(ctx, c.key)
		if err != nil {
			t.Fatalf("Attributes(%s): %v", c.key, err)
		}
		if a.Size != int64(c.size) {
			t.Errorf("Attributes(%s).Size = %d, want %d", c.key, a.Size, c.size)
		}
		if a.ModTime.IsZero() {
			t.Errorf("Attributes(%s).ModTime is zero", c.key)
		}
	}
	// Listing gives back the keys exactly as written (no escaping leaks).
	var want []string
	for _, c := range cases {
		want = append(want, c.key)
	}
	want = append(want, loglake.SettingsKey)
	slices.Sort(want)
	if diff := cmp.Diff(want, keys(t, ctx, l, "", "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

// testOverwrite: a retried batch has a deterministic object name, and its
// write replaces the first one instead of duplicating it.
func testOverwrite(t *testing.T, f *fixture) {
	l := f.lake(t)
	key := "raw/tenant_id=acme/dt=2026-03-01/batch-shard1-0001.ndjson.zst"
	for _, body := range []string{"first attempt, longer body\n", "retry\n"} {
		if err := l.WriteAll(f.ctx, key, []byte(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	readBack(t, f.ctx, l, key, "retry\n")
	if got := keys(t, f.ctx, l, "raw/", ""); len(got) != 1 {
		t.Errorf("after an overwrite, raw/ holds %q, want one object", got)
	}
}

// testRangeRead reads the parts of an object a Parquet reader reads: the
// footer from the end, pages from the middle.
func testRangeRead(t *testing.T, f *fixture) {
	l := f.lake(t)
	key := "compacted/tenant_id=acme/dt=2026-03-01/part-1.parquet"
	data := pattern(200_000, 7)
	if err := l.WriteAll(f.ctx, key, data, nil); err != nil {
		t.Fatal(err)
	}
	n := int64(len(data))
	for _, r := range []struct{ off, length int64 }{
		{0, 4}, {n - 8, 8}, {n - 8, -1}, {12_345, 65_536}, {0, -1}, {n - 1, 1}, {n - 10, 100},
	} {
		rd, err := l.NewRangeReader(f.ctx, key, r.off, r.length)
		if err != nil {
			t.Fatalf("NewRangeReader(%d, %d): %v", r.off, r.length, err)
		}
		got, err := io.ReadAll(rd)
		cerr := rd.Close()
		if err != nil || cerr != nil {
			t.Fatalf("range (%d, %d): read %v, close %v", r.off, r.length, err, cerr)
		}
		end := n
		if r.length >= 0 && r.off+r.length < n {
			end = r.off + r.length
		}
		if !bytes.Equal(got, data[r.off:end]) {
			t.Errorf("range (%d, %d): got %d bytes, want bytes %d to %d", r.off, r.length, len(got), r.off, end)
		}
	}
}

// testCanceledWrite: a writer whose ctx ends before Close writes nothing,
// and leaves an earlier object at the key as it was. Ingest relies on it
// when a flush is abandoned.
func testCanceledWrite(t *testing.T, f *fixture) {
	l := f.lake(t)
	newKey := "raw/tenant_id=acme/dt=2026-03-01/new.ndjson"
	oldKey := "raw/tenant_id=acme/dt=2026-03-01/old.ndjson"
	if err := l.WriteAll(f.ctx, oldKey, []byte("old\n"), nil); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{newKey, oldKey} {
		ctx, cancel := context.WithCancel(f.ctx)
		w, err := l.NewWriter(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pattern(64<<10, 1)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		cancel()
		if err := w.Close(); err == nil {
			t.Errorf("Close after cancel of %s = nil, want an error", key)
		}
	}
	if exists(t, f.ctx, l, newKey) {
		t.Error("a canceled write created an object")
	}
	readBack(t, f.ctx, l, oldKey, "old\n")
}

// testFailedWrite fails writes at the driver — at commit and after part of
// the body — and checks that nothing becomes visible and an earlier
// object at the key survives. The fault driver aborts the backend's write
// the way a dropped connection does, so this checks the backend's abort.
func testFailedWrite(t *testing.T, f *fixture) {
	for _, tc := range []struct {
		name        string
		partialSize int // bytes accepted before the failure; 0: fail at commit
	}{
		{"commit", 0},
		{"partial", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := f.faultyLake(t)
			oldKey := "raw/tenant_id=acme/dt=2026-03-01/old.ndjson"
			newKey := "raw/tenant_id=acme/dt=2026-03-01/new.ndjson"
			if err := fl.clean.WriteAll(f.ctx, oldKey, []byte("old\n"), nil); err != nil {
				t.Fatal(err)
			}
			fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, PartialBytes: tc.partialSize})
			for _, key := range []string{newKey, oldKey} {
				err := fl.lake.WriteAll(f.ctx, key, pattern(32<<10, 3), nil)
				if !errors.Is(err, faultblob.ErrInjected) {
					t.Fatalf("WriteAll(%s) under a fault = %v, want the injected failure", key, err)
				}
			}
			if exists(t, f.ctx, fl.clean, newKey) {
				t.Error("a failed write created an object")
			}
			readBack(t, f.ctx, fl.clean, oldKey, "old\n")
		})
	}
}

func testNotFound(t *testing.T, f *fixture) {
	l := f.lake(t)
	const key = "raw/tenant_id=acme/dt=2026-03-01/missing.ndjson.zst"
	for name, err := range map[string]error{
		"ReadAll":    second(l.ReadAll(f.ctx, key)),
		"NewReader":  second(l.NewReader(f.ctx, key)),
		"Attributes": second(l.Attributes(f.ctx, key)),
	} {
		if !loglake.IsNotFound(err) {
			t.Errorf("%s(missing) = %v, want a not-found error", name, err)
			continue
		}
		if !strings.Contains(err.Error(), key) {
			t.Errorf("%s(missing) error %q does not name the key", name, err)
		}
	}
}

// testDeleteIsIdempotent: cleanup after a crash deletes again what may be
// gone already.
func testDeleteIdempotent(t *testing.T, f *fixture) {
	l := f.lake(t)
	const key = "raw/tenant_id=acme/dt=2026-03-01/x.ndjson.zst"
	if err := l.Delete(f.ctx, key); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
	if err := l.WriteAll(f.ctx, key, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := l.Delete(f.ctx, key); err != nil {
			t.Fatalf("Delete #%d = %v, want nil", i+1, err)
		}
	}
	if _, err := l.ReadAll(f.ctx, key); !loglake.IsNotFound(err) {
		t.Fatalf("ReadAll after Delete = %v, want not found", err)
	}
	if got := keys(t, f.ctx, l, "raw/", ""); len(got) != 0 {
		t.Fatalf("List after Delete = %q, want nothing", got)
	}
}

// testListInsidePrefix lists the way loglake does — inside one partition,
// or one tenant's days with a delimiter — next to sibling tenants whose
// ids share a prefix ("a", "a.b", "ab"). A listing must hold exactly its
// prefix's objects, in key order, and a just-written object.
func testListInsidePrefix(t *testing.T, f *fixture) {
	l := f.lake(t)
	ctx := f.ctx
	all := []string{
		"raw/tenant_id=a/dt=2026-03-01/w1-000001.ndjson.zst",
		"raw/tenant_id=a/dt=2026-03-01/w1-000002.ndjson.zst",
		"raw/tenant_id=a/dt=2026-03-01/w2-000001.ndjson.zst",
		"raw/tenant_id=a/dt=2026-03-02/w1-000003.ndjson.zst",
		"raw/tenant_id=a.b/dt=2026-03-01/w1-000001.ndjson.zst",
		"raw/tenant_id=ab/dt=2026-03-01/w1-000001.ndjson.zst",
		"compacted/tenant_id=a/dt=2026-03-01/_manifest/00000001.json",
		"compacted/tenant_id=a/dt=2026-03-01/part-1.parquet",
	}
	for _, k := range all {
		if err := l.WriteAll(ctx, k, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		prefix, delim string
		want          []string
	}{
		{"raw/tenant_id=a/dt=2026-03-01/", "", all[0:3]},
		{"raw/tenant_id=a/", "", all[0:4]},
		{"raw/tenant_id=a/", "/", []string{"raw/tenant_id=a/dt=2026-03-01/", "raw/tenant_id=a/dt=2026-03-02/"}},
		{"raw/tenant_id=ab/", "", all[5:6]},
		{"raw/tenant_id=zz/", "", nil},
		{"compacted/tenant_id=a/dt=2026-03-01/_manifest/", "", all[6:7]},
		{"compacted/tenant_id=a/dt=2026-03-01/", "/", []string{"compacted/tenant_id=a/dt=2026-03-01/_manifest/", "compacted/tenant_id=a/dt=2026-03-01/part-1.parquet"}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, keys(t, ctx, l, c.prefix, c.delim)); diff != "" {
			t.Errorf("List(%q, %q) (-want +got):\n%s", c.prefix, c.delim, diff)
		}
	}
	// Directories are marked as such.
	for obj, err := range l.List(ctx, "raw/tenant_id=a/", "/") {
		if err != nil {
			t.Fatal(err)
		}
		if !obj.IsDir {
			t.Errorf("List with delimiter: %s is not marked IsDir", obj.Key)
		}
	}
	// Read-after-write: a listing after a write returns sees it.
	k := "raw/tenant_id=a/dt=2026-03-01/w3-000001.ndjson.zst"
	if err := l.WriteAll(ctx, k, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, ctx, l, "raw/tenant_id=a/dt=2026-03-01/", ""); !slices.Contains(got, k) {
		t.Errorf("List right after a write misses it: %q", got)
	}
}

// testListPages lists a prefix of more objects than one page holds (1,000
// on S3): all come back, once each, in key order.
func testListPages(t *testing.T, f *fixture) {
	l := f.lake(t)
	ctx := f.ctx
	const n = 1010
	prefix := "raw/tenant_id=acme/dt=2026-03-01/"
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("%sw%d-%06d.ndjson.zst", prefix, i%3, i)
	}
	// Write from a few goroutines: the count, not the speed, is the point,
	// but one request at a time to a remote store is needlessly slow.
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for k := range work {
				if err := l.WriteAll(ctx, k, nil, nil); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, k := range want {
		work <- k
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, keys(t, ctx, l, prefix, "")); diff != "" {
		t.Errorf("List of %d objects (-want +got):\n%s", n, diff)
	}
}
