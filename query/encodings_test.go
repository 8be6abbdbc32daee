package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// rawLines returns n NDJSON lines of varied length, every seventh naming
// 社外秘, one of them longer than a zstd block, and the number that do.
func rawLines(n int) ([]byte, int) {
	var buf []byte
	hits := 0
	for i := range n {
		name := fmt.Sprintf("file_%d_%s.docx", i, strings.Repeat("x", i%300))
		if i%7 == 0 {
			name = "社外秘_" + name
			hits++
		}
		if i == n/2 {
			name = strings.Repeat("long", 50_000) + name // 200 KB
		}
		buf = fmt.Appendf(buf, `{"timestamp":"2026-11-20T%02d:%02d:%02dZ","file_path":"C:\\Users\\%s"}`+"\n", i/3600%24, i/60%60, i%60, name)
	}
	return buf, hits
}

// TestRawObjectEncodings checks that raw objects are searched alike
// whatever wrote them: loglake's zstd frames (256 KiB window), zstd frames
// whose window is the whole object, several frames, gzip and plain, the
// last line without its newline, lines cut by the scan's blocks and one
// longer than a zstd block; and that a corrupt object fails the query with
// ErrCorrupt naming the object.
func TestRawObjectEncodings(t *testing.T) {
	ctx := context.Background()
	plain, hits := rawLines(20_000)
	bigWindow := func(b []byte) []byte {
		e, err := zstd.NewWriter(nil, zstd.WithWindowSize(8<<20), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		return e.EncodeAll(b, nil)
	}
	enc := func(b []byte, c loglake.Compression) []byte {
		out, err := rawcodec.AppendEncoded(nil, b, c)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	zs := enc(plain, loglake.CompressionZstd)
	half := bytes.LastIndexByte(plain[:len(plain)/2], '\n') + 1
	flipped := bytes.Clone(zs)
	flipped[len(flipped)-2] ^= 0x40 // the content checksum
	for _, tc := range []struct {
		name    string
		data    []byte
		c       loglake.Compression
		corrupt bool
	}{
		{"zstd", zs, loglake.CompressionZstd, false},
		{"zstd big window", bigWindow(plain), loglake.CompressionZstd, false},
		{"zstd two frames", append(enc(plain[:half], loglake.CompressionZstd), bigWindow(plain[half:])...), loglake.CompressionZstd, false},
		{"zstd no final newline", enc(plain[:len(plain)-1], loglake.CompressionZstd), loglake.CompressionZstd, false},
		{"gzip", enc(plain, loglake.CompressionGzip), loglake.CompressionGzip, false},
		{"plain", plain, loglake.CompressionNone, false},
		{"zstd bad checksum", flipped, loglake.CompressionZstd, true},
		{"zstd truncated", zs[:len(zs)-100], loglake.CompressionZstd, true},
		{"zstd big window truncated", bigWindow(plain)[:len(zs)/2], loglake.CompressionZstd, true},
		{"gzip truncated", enc(plain, loglake.CompressionGzip)[:len(zs)/2], loglake.CompressionGzip, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := memLake(t)
			p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}
			key := p.Prefix(loglake.AreaRaw) + "obj" + tc.c.Ext()
			if err := lake.WriteAll(ctx, key, tc.data, nil); err != nil {
				t.Fatal(err)
			}
			e := newEngine(t, lake, &Options{RetentionDays: 30})
			for _, where := range []string{"", " AND file_path LIKE '%社外秘%'"} {
				got, st, err := collect(t, e, mustParse(t, "SELECT count(*) AS n FROM logs WHERE tenant_id = 'acme'"+where))
				if tc.corrupt {
					if !errors.Is(err, loglake.ErrCorrupt) || !strings.Contains(err.Error(), key) {
						t.Fatalf("err = %v, want ErrCorrupt naming %s", err, key)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				want := int64(20_000)
				if where != "" {
					want = int64(hits)
				}
				if got[0]["n"] != want || st.RowsScanned != 20_000 {
					t.Fatalf("%q: n = %v, rows scanned %d; want %d of 20000", where, got[0]["n"], st.RowsScanned, want)
				}
			}
		})
	}
}
