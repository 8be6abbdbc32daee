package rawcodec

import (
	"errors"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
)

// Whole is an object read and decoded whole into pooled memory (see
// [ReadWhole]). Data holds the decoded bytes until Release.
type Whole struct {
	Data        []byte
	comp, plain *bigmem.Buf
}

// Release gives the memory of w back to the pool; w.Data must not be used
// afterwards. Release of a nil Whole does nothing.
func (w *Whole) Release() {
	if w == nil {
		return
	}
	bigmem.Put(w.comp)
	bigmem.Put(w.plain)
	w.Data, w.comp, w.plain = nil, nil, nil
}

// ReadWhole reads size compressed bytes from r and decodes them with c.
// The compressed and decoded bytes live in large buffers of the
// process-wide pool of package bigmem, reused from object to object, so
// that a query touches fresh memory once rather than once per object: in
// a short-lived process the page faults of fresh memory cost more than
// decoding. A zstd frame that states its content size is decoded into a
// buffer of that size at once, with no growing.
//
// Errors reading r are returned as they are; decode failures are marked
// [loglake.ErrCorrupt]. The caller calls Release on the result once it is
// done with Data.
func ReadWhole(r io.Reader, size int, c loglake.Compression) (*Whole, error) {
	w := &Whole{comp: bigmem.Get(size)}
	comp := w.comp.Bytes()[:size]
	if _, err := io.ReadFull(r, comp); err != nil {
		w.Release()
		return nil, err
	}
	switch c {
	case loglake.CompressionNone:
		w.Data = comp
		return w, nil
	case loglake.CompressionZstd:
		// A size beyond the decoders' limit fails in DecodeAll.
		if n, ok := DecodedSize(comp, c); ok {
			// DecodeAll wants room for the frame plus a little slack.
			w.plain = bigmem.Get(int(n) + 64)
		}
	}
	var dst []byte
	if w.plain != nil {
		dst = w.plain.Bytes()[:0]
	}
	out, err := AppendDecoded(dst, comp, c)
	if err != nil {
		w.Release()
		return nil, err
	}
	w.Data = out
	return w, nil
}

// DecodedSize returns the size that comp, an object compressed with c,
// decodes to, when known without decoding: always for
// [loglake.CompressionNone], for zstd when its first frame states its
// content size (loglake's ingest writes one frame that does).
func DecodedSize(comp []byte, c loglake.Compression) (int64, bool) {
	switch c {
	case loglake.CompressionNone:
		return int64(len(comp)), true
	case loglake.CompressionZstd:
		var h zstd.Header
		if err := h.Decode(comp); err != nil || !h.HasFCS || h.FrameContentSize > zstdMaxDecoded {
			return 0, false
		}
		return int64(h.FrameContentSize), true // a second frame would add to it
	}
	return 0, false
}

// DecodeWhole is ReadWhole for a caller that holds the compressed bytes
// and whose memory is bounded: it decodes comp only if the object states
// a decoded size of at most max bytes (see [DecodedSize]), into pooled
// memory of about that size, and never writes past it. It reports false
// (and no Whole) when the size is unknown or too large, or when the
// object decodes to more than it states (a second frame follows the
// first): the caller then streams the object. The result does not alias
// comp. Decode failures are marked [loglake.ErrCorrupt].
func DecodeWhole(comp []byte, c loglake.Compression, max int64) (*Whole, bool, error) {
	n, ok := DecodedSize(comp, c)
	if !ok || n > max {
		return nil, false, nil
	}
	w := &Whole{plain: bigmem.Get(int(n) + 64)} // DecodeAll wants a little slack
	if c == loglake.CompressionNone {
		w.Data = append(w.plain.Bytes()[:0], comp...)
		return w, true, nil
	}
	d := zstdCappedDecoders.Get().(*zstd.Decoder)
	out, err := d.DecodeAll(comp, w.plain.Bytes()[:0])
	zstdCappedDecoders.Put(d)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || err == nil && int64(len(out)) != n {
		w.Release()
		return nil, false, nil
	}
	if err != nil {
		w.Release()
		return nil, false, loglake.MarkCorrupt("rawcodec: zstd", err)
	}
	w.Data = out
	return w, true, nil
}
