package compact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
)

// TestRawObjectShapes compacts raw objects of every shape the reader must
// take, read whole (the default buffer) and streamed (a buffer too small
// for whole reads), and counts the records: a missing last newline, a
// line longer than a block, two zstd frames (more than the first frame's
// stated size), a frame without a stated size, plain and gzip NDJSON.
func TestRawObjectShapes(t *testing.T) {
	ctx := context.Background()
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 5}, 3000)
	p := biggest(parts)
	lines := parts[p]
	ndjson := func(ls [][]byte) []byte {
		var b []byte
		for _, l := range ls {
			b = append(append(b, l...), '\n')
		}
		return b
	}
	zstdOf := func(b []byte, opts ...zstd.EOption) []byte {
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeAll(b, nil)
	}
	streamed := func(b []byte) []byte { // a frame that states no size
		var out bytes.Buffer
		enc, err := zstd.NewWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		enc.Write(b[:len(b)/2])
		enc.Flush() // the header goes out before the size is known
		enc.Write(b[len(b)/2:])
		enc.Close()
		if _, ok := rawcodec.DecodedSize(out.Bytes(), loglake.CompressionZstd); ok {
			t.Fatal("the frame states its size")
		}
		return out.Bytes()
	}
	half := len(lines) / 2
	long := fmt.Appendf(nil, `{"seq":%d,"tenant_id":%q,"timestamp":"%sT01:02:03Z","path":"%s"}`,
		-1, p.Tenant, p.Day, strings.Repeat("長い/", 200<<10))
	withLong := append([][]byte{long}, lines...)
	gz, err := rawcodec.AppendEncoded(nil, ndjson(lines), loglake.CompressionGzip)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		ext   string
		data  []byte
		lines [][]byte
	}{
		{"one frame", ".ndjson.zst", zstdOf(ndjson(lines)), lines},
		{"no last newline", ".ndjson.zst", zstdOf(bytes.TrimSuffix(ndjson(lines), []byte("\n"))), lines},
		{"long line", ".ndjson.zst", zstdOf(ndjson(withLong)), withLong},
		{"two frames", ".ndjson.zst", append(zstdOf(ndjson(lines[:half])), zstdOf(ndjson(lines[half:]))...), lines},
		{"no stated size", ".ndjson.zst", streamed(ndjson(lines)), lines},
		{"plain", ".ndjson", ndjson(lines), lines},
		{"plain, no last newline", ".ndjson", bytes.TrimSuffix(ndjson(lines), []byte("\n")), lines},
		{"gzip", ".ndjson.gz", gz, lines},
	} {
		for _, buf := range []int64{0, 1 << 20} {
			t.Run(fmt.Sprintf("%s/buffer=%d", tc.name, buf), func(t *testing.T) {
				lake := memLake(t)
				if err := lake.WriteAll(ctx, p.Prefix(loglake.AreaRaw)+"obj"+tc.ext, tc.data, nil); err != nil {
					t.Fatal(err)
				}
				c, err := New(lake, &Options{BufferBytes: buf})
				if err != nil {
					t.Fatal(err)
				}
				if buf == 0 && c.wholeMax() == 0 {
					t.Fatal("the default buffer reads no object whole")
				}
				res, err := c.CompactPartition(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				if res.Records != int64(len(tc.lines)) {
					t.Fatalf("%d records compacted, want %d", res.Records, len(tc.lines))
				}
				checkExactlyOnce(t, lake, p, seqsOf(t, tc.lines))
			})
		}
	}
}

// TestCorruptRawObject checks that a damaged zstd object fails the
// compaction with loglake.ErrCorrupt, read whole or streamed, and that
// nothing is committed: the raw objects stay, every record readable once.
func TestCorruptRawObject(t *testing.T) {
	ctx := context.Background()
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 6}, 2000)
	p := biggest(parts)
	for _, buf := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprint("buffer=", buf), func(t *testing.T) {
			lake := memLake(t)
			good := putRaw(t, lake, p, "good", parts[p][:100], loglake.CompressionZstd)
			var b []byte
			for _, l := range parts[p][100:] {
				b = append(append(b, l...), '\n')
			}
			enc, err := rawcodec.AppendEncoded(nil, b, loglake.CompressionZstd)
			if err != nil {
				t.Fatal(err)
			}
			enc[len(enc)/2] ^= 0xff
			bad := p.Prefix(loglake.AreaRaw) + "bad.ndjson.zst"
			if err := lake.WriteAll(ctx, bad, enc, nil); err != nil {
				t.Fatal(err)
			}
			c, err := New(lake, &Options{BufferBytes: buf})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CompactPartition(ctx, p)
			if !errors.Is(err, loglake.ErrCorrupt) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("err = %v, want ErrCorrupt naming %s", err, bad)
			}
			for _, key := range []string{good.Key, bad} {
				if _, err := lake.Attributes(ctx, key); err != nil {
					t.Fatalf("%s gone after a failed compaction: %v", key, err)
				}
			}
			if compacted := keysUnder(t, lake, p.Prefix(loglake.AreaCompacted)); len(compacted) != 0 {
				t.Fatalf("failed compaction left %v", compacted)
			}
		})
	}
}
