package loglake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/loglake/loglake"
)

// A file-backed lake lists directories itself; what it lists must be what
// fileblob lists.
func TestLocalListMatchesFileblob(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		"raw/tenant_id=a/dt=2026-01-01/x.ndjson.zst":                              "1",
		"raw/tenant_id=a/dt=2026-01-01/y.ndjson.zst":                              "22",
		"raw/tenant_id=a/dt=2026-01-02/deep/z.ndjson":                             "333",
		"raw/tenant_id=a.b/dt=2026-01-01/x.ndjson.zst":                            "4444",
		"raw/tenant_id=a-b":                                                       "a file beside directories",
		"raw/tenant_id=a":                                                         "",
		"compacted/tenant_id=a/dt=2026-01-01/_manifest/00000000000000000001.json": "{}",
		"top.txt": "t",
	}
	for k, v := range files {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if k == "raw/tenant_id=a" { // a directory already: skip the file
			continue
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An empty directory: fileblob shows none.
	if err := os.MkdirAll(filepath.Join(dir, "raw", "tenant_id=empty", "dt=2026-01-01"), 0o755); err != nil {
		t.Fatal(err)
	}
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	fb, err := fileblob.OpenBucket(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	type entry struct {
		Key   string
		Size  int64
		IsDir bool
	}
	tests := []string{
		"", "raw/", "raw/tenant_id=a/", "raw/tenant_id=a/dt=2026-01-01/", "raw/tenant_id=a/dt=2026-01-02/",
		"raw/tenant_id=empty/", "raw/tenant_id=missing/", "compacted/tenant_id=a/dt=2026-01-01/_manifest/",
	}
	for _, prefix := range tests {
		t.Run(prefix, func(t *testing.T) {
			var want, got []entry
			it := fb.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
			for {
				o, err := it.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, entry{o.Key, o.Size, o.IsDir})
			}
			for o, err := range lake.List(ctx, prefix, "/") {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, entry{o.Key, o.Size, o.IsDir})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List(%q) (-fileblob +lake):\n%s", prefix, diff)
			}
		})
	}
}

// A file-backed lake reads files itself; its reads must be fileblob's.
func TestLocalReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	data := bytes.Repeat([]byte("0123456789"), 1000)
	const key = "raw/tenant_id=a/dt=2026-01-01/x.ndjson"
	if err := lake.WriteAll(ctx, key, data, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "outside"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := lake.OpenObject(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(data)) {
		t.Errorf("Size = %d, want %d", r.Size(), len(data))
	}
	all, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(all, data) {
		t.Errorf("OpenObject read %d bytes, %v; want %d", len(all), err, len(data))
	}

	reads := []struct {
		name    string
		off, n  int
		want    []byte
		wantErr error
	}{
		{"start", 0, 10, data[:10], nil},
		{"middle", 4995, 20, data[4995:5015], nil},
		{"to the end", 9990, 10, data[9990:], nil},
		{"past the end", 9995, 10, data[9995:], io.EOF},
		{"beyond", 20000, 10, nil, io.EOF},
		{"empty", 5, 0, nil, nil},
	}
	for _, tt := range reads {
		t.Run(tt.name, func(t *testing.T) {
			p := make([]byte, tt.n)
			n, err := lake.ReadAt(ctx, key, p, int64(tt.off))
			if !errors.Is(err, tt.wantErr) && err != tt.wantErr {
				t.Errorf("ReadAt err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(p[:n], tt.want) {
				t.Errorf("ReadAt = %q, want %q", p[:n], tt.want)
			}
		})
	}

	missing := []string{
		"raw/tenant_id=a/dt=2026-01-01/nope.ndjson",
		"raw/tenant_id=a/dt=2026-01-01", // a directory is no object
	}
	for _, k := range missing {
		if _, err := lake.OpenObject(ctx, k); !loglake.IsNotFound(err) {
			t.Errorf("OpenObject(%q) = %v, want a not-found error", k, err)
		}
		if _, err := lake.ReadAt(ctx, k, make([]byte, 4), 0); !loglake.IsNotFound(err) {
			t.Errorf("ReadAt(%q) = %v, want a not-found error", k, err)
		}
	}
	// Keys that would leave the lake's directory are fileblob's to refuse.
	for _, k := range []string{"../outside", "raw/../../outside", "raw/.."} {
		p := make([]byte, 6)
		if n, err := lake.ReadAt(ctx, k, p, 0); err == nil || bytes.Equal(p[:n], []byte("secret")) {
			t.Errorf("ReadAt(%q) = %q, %v; want an error", k, p[:n], err)
		}
		if r, err := lake.OpenObject(ctx, k); err == nil {
			r.Close()
			t.Errorf("OpenObject(%q) succeeded", k)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := lake.ReadAt(cctx, key, make([]byte, 4), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt with a canceled ctx = %v", err)
	}
	lake.Close()
	if _, err := lake.OpenObject(ctx, key); !errors.Is(err, loglake.ErrClosed) {
		t.Errorf("OpenObject after Close = %v, want ErrClosed", err)
	}
}

// ReadAll of a file-backed lake reads the file itself, with fileblob's
// errors for what is missing.
func TestLocalReadAll(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	for _, n := range []int{0, 1, 4095, 4096, 100000} {
		key := "compacted/tenant_id=a/dt=2026-01-01/_manifest/" + string(rune('a'+n%26)) + ".json"
		data := bytes.Repeat([]byte{'x'}, n)
		if err := lake.WriteAll(ctx, key, data, nil); err != nil {
			t.Fatal(err)
		}
		got, err := lake.ReadAll(ctx, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("ReadAll of %d bytes = %d bytes, %v", n, len(got), err)
		}
	}
	for _, k := range []string{"nope.json", "compacted/tenant_id=a", "../outside"} {
		if _, err := lake.ReadAll(ctx, k); err == nil || (k != "../outside" && !loglake.IsNotFound(err)) {
			t.Errorf("ReadAll(%q) = %v, want a not-found error", k, err)
		}
	}
}
