package compact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
)

var testPart = loglake.Partition{Tenant: "t", Day: loglake.NewDay(2026, 1, 2)}

// TestMalformedManifests decodes every file of testdata/malformed as
// generation 1 of tenant_id=t/dt=2026-01-02: each must fail with
// ErrCorrupt, without panicking.
func TestMalformedManifests(t *testing.T) {
	files, err := filepath.Glob("testdata/malformed/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeManifest(data, testPart, 1); !errors.Is(err, loglake.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func validManifest() *manifest {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &manifest{
		Version: ManifestVersion, Generation: 1, Partition: testPart.Key(), Created: now, Committer: "c1",
		Schema: Schema{{Name: "msg", Type: TypeString}, {Name: "timestamp", Type: TypeTimestamp}},
		Files: []FileRef{{Key: testPart.Prefix(loglake.AreaCompacted) + "part-1.parquet", Size: 10, Rows: 2,
			MinTime: now, MaxTime: now, Schema: Schema{{Name: "timestamp", Type: TypeTimestamp}}}},
		Covered:    []coveredRef{{ObjectRef: ObjectRef{Key: testPart.Prefix(loglake.AreaRaw) + "a.ndjson.zst", Size: 5, MD5: "00ff"}, Since: now}},
		Superseded: []string{testPart.Prefix(loglake.AreaCompacted) + "part-0.parquet"},
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := validManifest()
	data, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeManifest(data, testPart, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Fatal(diff)
	}
	if k := manifestKey(testPart, 3); k != "compacted/tenant_id=t/dt=2026-01-02/_manifest/00000000000000000003.json" {
		t.Fatal(k)
	}
}

// FuzzManifestDecode checks that decoding never panics, that failures are
// ErrCorrupt, and that whatever decodes re-encodes to an equal manifest.
func FuzzManifestDecode(f *testing.F) {
	data, _ := encodeManifest(validManifest())
	f.Add(data)
	files, _ := filepath.Glob("testdata/malformed/*.json")
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data, testPart, 1)
		if err != nil {
			if !errors.Is(err, loglake.ErrCorrupt) {
				t.Fatalf("err %v is not ErrCorrupt", err)
			}
			return
		}
		again, err := encodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeManifest(again, testPart, 1)
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v", err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatal(diff)
		}
	})
}

// FuzzScanLine checks that the scanner never panics, and that what it
// accepts the standard library accepts too (for objects without invalid
// UTF-8 or duplicate concerns).
func FuzzScanLine(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x","c":[1,{"d":null}],"e":true,"f":-1.5e3}`,
		`{"timestamp":"2026-01-02T03:04:05.123+09:00","s":"\u00e9\ud83d\ude00\n"}`,
		`{}`, `{"a":}`, `[1]`, `{"a":1}x`, `{"n":99999999999999999999}`,
	} {
		f.Add([]byte(s))
	}
	cfg := &chunkConfig{tsField: "timestamp", tenantField: "tenant_id", tenant: "t", rules: timeRules{true, true, true}, maxColumns: 100}
	f.Fuzz(func(t *testing.T, line []byte) {
		var s scanner
		err := s.scan(line)
		// Control characters inside strings are accepted on purpose (see
		// scanner); everything else must be JSON.
		if err == nil && !jsonValid(line) && !bytes.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != ' ' && r != '\t' && r != '\n' && r != '\r' }) {
			t.Fatalf("scanner accepted invalid JSON %q", line)
		}
		ch := newChunk(cfg)
		ch.addLine(line)
		sl := ch.seal(true)
		if sl.rows != 1 {
			t.Fatalf("%d rows", sl.rows)
		}
		_ = sl.records()
		sl.release()
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// FuzzManifestFast checks the reflection-free decoder against
// encoding/json: whatever it decodes, encoding/json decodes the same way.
func FuzzManifestFast(f *testing.F) {
	data, _ := encodeManifest(validManifest())
	f.Add(data)
	compactData, _ := json.Marshal(validManifest())
	f.Add(compactData)
	f.Add([]byte(`{"version":1,"generation":2,"partition":"p","created":null,"committer":"c","schema":[],"files":null,"covered":[{"key":"k","size":-0,"since":"2026-01-02T03:04:05.123456789+09:00"}],"superseded":["a","b"]}`))
	f.Add([]byte(`{"Version":1}`))
	f.Add([]byte(`{"version":1.0}`))
	f.Add([]byte(`{"files":[{"key":"a\/b"}]} `))
	files, _ := filepath.Glob("testdata/malformed/*.json")
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeManifestFast(data)
		if !ok {
			return
		}
		ref, err := decodeManifestJSON(data)
		if err != nil {
			t.Fatalf("the fast decoder took what encoding/json refuses (%v): %q", err, data)
		}
		if diff := cmp.Diff(ref, fast); diff != "" {
			t.Fatalf("decoders disagree on %q (-json +fast):\n%s", data, diff)
		}
	})
}

func BenchmarkDecodeManifest(b *testing.B) {
	m := validManifest()
	for i := range 3 {
		m.Files = append(m.Files, m.Files[0])
		m.Files[len(m.Files)-1].Key = fmt.Sprintf("%s%d", m.Files[0].Key[:len(m.Files[0].Key)-len(".parquet")], i) + ".parquet"
	}
	data, err := encodeManifest(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		decode func([]byte) (*manifest, error)
	}{
		{"fast", func(d []byte) (*manifest, error) { return decodeManifest(d, testPart, 1) }},
		{"json", decodeManifestJSON},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tt.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
