// Package rawcodec encodes and decodes the compressed NDJSON objects of a
// lake's raw, spill and errors areas. The codec of an object is named by its
// extension, so readers need no other metadata; encoders and decoders are
// pooled because creating a zstd encoder costs far more than using one.
package rawcodec

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/loglake/loglake"
)

// IsWriterTemp reports whether key is the temporary file of a write to a
// raw object on a file:// lake (gocloud.dev's fileblob writes
// <key>.<hex nanoseconds>.tmp beside the object and renames it into place),
// which stays behind when the writer's process dies.
func IsWriterTemp(key string) bool {
	rest, ok := strings.CutSuffix(key, ".tmp")
	if !ok {
		return false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 || dot == len(rest)-1 {
		return false
	}
	for _, c := range rest[dot+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	_, ok = FromKey(rest[:dot])
	return ok
}

// FromKey returns the codec of an object by its key's extension, and false
// for keys that are not NDJSON objects.
func FromKey(key string) (loglake.Compression, bool) {
	switch {
	case strings.HasSuffix(key, ".ndjson.zst"):
		return loglake.CompressionZstd, true
	case strings.HasSuffix(key, ".ndjson.gz"):
		return loglake.CompressionGzip, true
	case strings.HasSuffix(key, ".ndjson"):
		return loglake.CompressionNone, true
	}
	return "", false
}

// zstdMaxDecoded is the most bytes one zstd object may decode to.
const zstdMaxDecoded = 1 << 32

// zstdWindow is the window of the zstd frames loglake writes: how far back
// a match may reach. Decoding copies each match from that far behind, so a
// window that stays in a core's L2 cache decodes faster than one of the
// whole object (up to 8 MiB), most of all on a machine whose L3 is shared
// with other work: on loglake's generated logs, raw scans of objects of
// about 5 MB ran 3-7% faster with it in a warm process, 1-2% in a fresh
// one. Logs repeat themselves at short
// range, so it compresses as well (at every level, within 1%). Decoders
// need that much history and no more when they stream: DuckDB's read_json
// read such objects 12-30% faster than frames whose window was the whole
// object.
const zstdWindow = 256 << 10

// Zstd levels for [AppendEncodedLevel], as loglake's options number them.
const (
	LevelFastest = 1 // about zstd level 1
	LevelDefault = 2 // about zstd level 3
	LevelBetter  = 3 // about zstd level 7
	LevelBest    = 4 // about zstd level 11
)

var (
	// zstdEncoders pools encoders per level (index 1-4). Concurrency 1:
	// callers run one encode per goroutine, and parallelism comes from them.
	zstdEncoders [LevelBest + 1]sync.Pool

	zstdDecoders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(zstdMaxDecoded))
		if err != nil {
			panic(err)
		}
		return d
	}}

	// zstdCappedDecoders decode into dst's capacity and no further (see
	// Whole.DecodeCapped).
	zstdCappedDecoders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(zstdMaxDecoded), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(err)
		}
		return d
	}}
)

// EncoderLevel returns klauspost/compress's zstd level for a loglake level
// (LevelFastest to LevelBest; 0 is LevelDefault).
func EncoderLevel(level int) zstd.EncoderLevel {
	return [...]zstd.EncoderLevel{zstd.SpeedDefault, zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}[level]
}

func init() {
	for lv := LevelFastest; lv <= LevelBest; lv++ {
		zstdEncoders[lv].New = func() any {
			e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(EncoderLevel(lv)), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(zstdWindow))
			if err != nil {
				panic(err) // only for invalid options, which are constants here
			}
			return e
		}
	}
}

// AppendEncoded appends src, encoded with c, to dst and returns the extended
// slice. zstd is written at LevelDefault.
func AppendEncoded(dst, src []byte, c loglake.Compression) ([]byte, error) {
	return AppendEncodedLevel(dst, src, c, LevelDefault)
}

// AppendEncodedLevel is AppendEncoded with the zstd level (LevelFastest to
// LevelBest); other codecs ignore it.
func AppendEncodedLevel(dst, src []byte, c loglake.Compression, level int) ([]byte, error) {
	switch c {
	case loglake.CompressionZstd:
		if level < LevelFastest || level > LevelBest {
			return dst, fmt.Errorf("%w: zstd level %d: want %d to %d", loglake.ErrInvalidOptions, level, LevelFastest, LevelBest)
		}
		e := zstdEncoders[level].Get().(*zstd.Encoder)
		dst = e.EncodeAll(src, dst)
		zstdEncoders[level].Put(e)
		return dst, nil
	case loglake.CompressionGzip:
		buf := bytes.NewBuffer(dst)
		w, _ := gzip.NewWriterLevel(buf, gzip.BestSpeed)
		if _, err := w.Write(src); err != nil {
			return dst, err
		}
		if err := w.Close(); err != nil {
			return dst, err
		}
		return buf.Bytes(), nil
	case loglake.CompressionNone:
		return append(dst, src...), nil
	}
	return dst, fmt.Errorf("%w: unknown compression %q", loglake.ErrInvalidOptions, c)
}

// AppendDecoded appends src, decoded with c, to dst and returns the extended
// slice. A decode failure is marked [loglake.ErrCorrupt].
func AppendDecoded(dst, src []byte, c loglake.Compression) ([]byte, error) {
	switch c {
	case loglake.CompressionZstd:
		d := zstdDecoders.Get().(*zstd.Decoder)
		out, err := d.DecodeAll(src, dst)
		zstdDecoders.Put(d)
		if err != nil {
			return dst, loglake.MarkCorrupt("rawcodec: zstd", err)
		}
		return out, nil
	case loglake.CompressionGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return dst, loglake.MarkCorrupt("rawcodec: gzip", err)
		}
		buf := bytes.NewBuffer(dst)
		if _, err := io.Copy(buf, r); err != nil {
			return dst, loglake.MarkCorrupt("rawcodec: gzip", err)
		}
		return buf.Bytes(), nil
	case loglake.CompressionNone:
		return append(dst, src...), nil
	}
	return dst, fmt.Errorf("%w: unknown compression %q", loglake.ErrInvalidOptions, c)
}

// NewReader returns a streaming reader of r decoded with c, for objects too
// large to hold twice in memory. The caller calls the returned close
// function, which does not close r.
func NewReader(r io.Reader, c loglake.Compression) (io.Reader, func(), error) {
	switch c {
	case loglake.CompressionZstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, loglake.MarkCorrupt("rawcodec: zstd", err)
		}
		return corruptReader{d, "rawcodec: zstd"}, d.Close, nil
	case loglake.CompressionGzip:
		g, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, loglake.MarkCorrupt("rawcodec: gzip", err)
		}
		return corruptReader{g, "rawcodec: gzip"}, func() { _ = g.Close() }, nil
	case loglake.CompressionNone:
		return r, func() {}, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown compression %q", loglake.ErrInvalidOptions, c)
}

// corruptReader marks decode errors (not io.EOF) as ErrCorrupt.
type corruptReader struct {
	r    io.Reader
	what string
}

func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = loglake.MarkCorrupt(c.what, err)
	}
	return n, err
}
