package rawcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
)

func TestReadWhole(t *testing.T) {
	small := bytes.Repeat([]byte(`{"file_path":"C:\\Users\\社外秘.docx"}`+"\n"), 100)
	// Larger than the smallest pooled buffer, so a second buffer is needed.
	large := bytes.Repeat([]byte(`{"n":1234567,"s":"abcdefghijklmnopqrstuvwxyz"}`+"\n"), 300_000)
	for _, c := range []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip, loglake.CompressionNone} {
		for _, src := range [][]byte{small, large, nil, small} {
			t.Run(fmt.Sprintf("%s/%d", c, len(src)), func(t *testing.T) {
				enc, err := AppendEncoded(nil, src, c)
				if err != nil {
					t.Fatal(err)
				}
				// Trailing bytes beyond size must not be read.
				r := bytes.NewReader(append(enc, "trailing"...))
				w, err := ReadWhole(r, len(enc), c)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(w.Data, src) {
					t.Fatalf("ReadWhole: got %d bytes, want %d", len(w.Data), len(src))
				}
				if r.Len() != len("trailing") {
					t.Errorf("ReadWhole read %d bytes past the object", len("trailing")-r.Len())
				}
				w.Release()
				w.Release() // a second Release does nothing
			})
		}
	}
	var nilW *Whole
	nilW.Release()
}

func TestReadWholeConcatenatedFrames(t *testing.T) {
	a := bytes.Repeat([]byte("a line\n"), 1000)
	b := bytes.Repeat([]byte("another line\n"), 1000)
	ea, _ := AppendEncoded(nil, a, loglake.CompressionZstd)
	enc, _ := AppendEncoded(ea, b, loglake.CompressionZstd)
	w, err := ReadWhole(bytes.NewReader(enc), len(enc), loglake.CompressionZstd)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Release()
	if want := append(append([]byte(nil), a...), b...); !bytes.Equal(w.Data, want) {
		t.Fatalf("got %d bytes, want %d", len(w.Data), len(want))
	}
}

func TestReadWholeErrors(t *testing.T) {
	junk := []byte("this is not compressed data at all")
	for _, c := range []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip} {
		if _, err := ReadWhole(bytes.NewReader(junk), len(junk), c); !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("%s: ReadWhole(junk) = %v, want ErrCorrupt", c, err)
		}
	}
	// A zstd header stating more content than the frame holds.
	enc, _ := AppendEncoded(nil, bytes.Repeat([]byte("x\n"), 1000), loglake.CompressionZstd)
	if _, err := ReadWhole(bytes.NewReader(enc[:len(enc)-3]), len(enc)-3, loglake.CompressionZstd); !errors.Is(err, loglake.ErrCorrupt) {
		t.Errorf("truncated frame: %v, want ErrCorrupt", err)
	}
	if _, err := ReadWhole(bytes.NewReader(junk), len(junk)+1, loglake.CompressionNone); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short read: %v, want io.ErrUnexpectedEOF", err)
	}
}

func BenchmarkReadWhole(b *testing.B) {
	src := bytes.Repeat([]byte(`{"timestamp":"2026-11-20T10:00:00Z","file_path":"C:\\Users\\user\\Documents\\社外秘\\report.docx","operation":"copy"}`+"\n"), 40_000)
	enc, _ := AppendEncoded(nil, src, loglake.CompressionZstd)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		w, err := ReadWhole(bytes.NewReader(enc), len(enc), loglake.CompressionZstd)
		if err != nil {
			b.Fatal(err)
		}
		w.Release()
	}
}

// TestReadWholeLyingHeader: a frame header stating a content size the
// frame does not hold is corrupt, and a size beyond the decoders' limit
// reserves nothing.
func TestReadWholeLyingHeader(t *testing.T) {
	for _, fcs := range []uint64{64 << 20, 1 << 33} {
		frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x00} // magic, 8-byte size, window
		for i := range 8 {
			frame = append(frame, byte(fcs>>(8*i)))
		}
		frame = append(frame, 0x09, 0x00, 0x00, 'x') // last block, raw, 1 byte
		if _, err := ReadWhole(bytes.NewReader(frame), len(frame), loglake.CompressionZstd); !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("content size %d: err = %v, want ErrCorrupt", fcs, err)
		}
	}
}

// TestDecodeWhole checks which objects DecodeWhole decodes: those that
// state a size within the cap, and only when that is all they hold.
func TestDecodeWhole(t *testing.T) {
	a := bytes.Repeat([]byte(`{"file_path":"C:\\社外秘\\a.xlsx"}`+"\n"), 2000)
	b := bytes.Repeat([]byte("another line\n"), 2000)
	za, _ := AppendEncoded(nil, a, loglake.CompressionZstd)
	zab, _ := AppendEncoded(slices.Clone(za), b, loglake.CompressionZstd)
	var nosize bytes.Buffer
	zw, _ := zstd.NewWriter(&nosize)
	zw.Write(a[:len(a)/2])
	zw.Flush() // the header goes out before the size is known
	zw.Write(a[len(a)/2:])
	zw.Close()
	if _, ok := DecodedSize(nosize.Bytes(), loglake.CompressionZstd); ok {
		t.Fatal("the frame states its size")
	}
	corrupt := slices.Clone(za)
	corrupt[len(corrupt)/2] ^= 0xff
	big := int64(len(a))
	for _, tc := range []struct {
		name    string
		data    []byte
		c       loglake.Compression
		max     int64
		decoded bool
		corrupt bool
	}{
		{"zstd within the cap", za, loglake.CompressionZstd, big, true, false},
		{"zstd over the cap", za, loglake.CompressionZstd, big - 1, false, false},
		{"two frames", zab, loglake.CompressionZstd, 1 << 30, false, false},
		{"no stated size", nosize.Bytes(), loglake.CompressionZstd, 1 << 30, false, false},
		{"corrupt", corrupt, loglake.CompressionZstd, big, false, true},
		{"plain", a, loglake.CompressionNone, big, true, false},
		{"plain over the cap", a, loglake.CompressionNone, big - 1, false, false},
		{"gzip", a, loglake.CompressionGzip, big, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp := slices.Clone(tc.data)
			w, ok, err := DecodeWhole(comp, tc.c, tc.max)
			if tc.corrupt != errors.Is(err, loglake.ErrCorrupt) || !tc.corrupt && err != nil {
				t.Fatalf("err = %v, want corrupt %v", err, tc.corrupt)
			}
			if ok != tc.decoded || ok != (w != nil) {
				t.Fatalf("decoded = %v (%v), want %v", ok, w, tc.decoded)
			}
			if !ok {
				return
			}
			defer w.Release()
			clear(comp) // the result must not alias comp
			if !bytes.Equal(w.Data, a) {
				t.Fatalf("Data holds %d bytes, want %d", len(w.Data), len(a))
			}
		})
	}
}
