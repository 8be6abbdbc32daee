package rawcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/loglake/loglake"
)

func TestRoundTrip(t *testing.T) {
	src := bytes.Repeat([]byte(`{"tenant_id":"a","file_path":"C:\\Users\\社外秘.docx"}`+"\n"), 1000)
	for _, c := range []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip, loglake.CompressionNone} {
		t.Run(string(c), func(t *testing.T) {
			enc, err := AppendEncoded([]byte("prefix"), src, c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(enc, []byte("prefix")) {
				t.Fatal("AppendEncoded dropped dst")
			}
			got, err := AppendDecoded(nil, enc[len("prefix"):], c)
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("AppendDecoded: %v (equal=%v)", err, bytes.Equal(got, src))
			}
			r, done, err := NewReader(bytes.NewReader(enc[len("prefix"):]), c)
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(r)
			done()
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("NewReader: %v (equal=%v)", err, bytes.Equal(got, src))
			}
			key := "raw/x" + c.Ext()
			if k, ok := FromKey(key); !ok || k != c {
				t.Fatalf("FromKey(%q) = %v, %v", key, k, ok)
			}
		})
	}
	if _, ok := FromKey("raw/x.ndjson.zst.1234.tmp"); ok {
		t.Error("FromKey accepted a temp file")
	}
}

func TestCorruptIsMarked(t *testing.T) {
	junk := []byte("this is not compressed data at all")
	for _, c := range []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip} {
		if _, err := AppendDecoded(nil, junk, c); !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("%s: AppendDecoded(junk) = %v, want ErrCorrupt", c, err)
		}
		r, done, err := NewReader(bytes.NewReader(junk), c)
		if err == nil {
			_, err = io.ReadAll(r)
			done()
		}
		if !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("%s: NewReader(junk) = %v, want ErrCorrupt", c, err)
		}
	}
	if _, err := AppendEncoded(nil, nil, "lz9"); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("unknown codec = %v, want ErrInvalidOptions", err)
	}
}

// TestZstdWindow checks that objects larger than the window say so in
// their frame header at every level, so that decoders keep to it.
func TestZstdWindow(t *testing.T) {
	var src []byte
	for i := 0; len(src) < 4*zstdWindow; i++ {
		src = fmt.Appendf(src, `{"n":%d,"file_path":"C:\\Users\\u%d\\社外秘_%d.docx"}`+"\n", i, i%97, i*7919%1000003)
	}
	for lv := LevelFastest; lv <= LevelBest; lv++ {
		enc, err := AppendEncodedLevel(nil, src, loglake.CompressionZstd, lv)
		if err != nil {
			t.Fatal(err)
		}
		var h zstd.Header
		if err := h.Decode(enc); err != nil {
			t.Fatal(err)
		}
		if h.SingleSegment || h.WindowSize == 0 || h.WindowSize > zstdWindow {
			t.Errorf("level %d: frame window %d (single segment %v), want at most %d", lv, h.WindowSize, h.SingleSegment, zstdWindow)
		}
		if got, err := AppendDecoded(nil, enc, loglake.CompressionZstd); err != nil || !bytes.Equal(got, src) {
			t.Errorf("level %d: round trip: %v", lv, err)
		}
	}
}

func TestIsWriterTemp(t *testing.T) {
	const raw = "raw/tenant_id=a/dt=2026-11-20/b-0123-0000.ndjson.zst"
	tests := []struct {
		key  string
		want bool
	}{
		{raw + ".18ead212df2708cf.tmp", true},
		{"raw/tenant_id=a/dt=2026-11-20/w-1.ndjson.gz.1.tmp", true},
		{raw, false},
		{raw + ".tmp", false},
		{raw + "..tmp", false},
		{raw + ".18EAD.tmp", false},
		{raw + ".xyz.tmp", false},
		{"raw/tenant_id=a/dt=2026-11-20/notes.18ead.tmp", false},
		{"raw/tenant_id=a/dt=2026-11-20/notes.tmp", false},
	}
	for _, tc := range tests {
		if got := IsWriterTemp(tc.key); got != tc.want {
			t.Errorf("IsWriterTemp(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}
