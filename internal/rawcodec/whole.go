package rawcodec

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/loglake/loglake"
)

// Whole is an object read and decoded whole into pooled memory (see
// [ReadWhole]). Data holds the decoded bytes until Release.
type Whole struct {
	Data        []byte
	comp, plain *bigBuf
}

// Release gives the memory of w back to the pool; w.Data must not be used
// afterwards. Release of a nil Whole does nothing.
func (w *Whole) Release() {
	if w == nil {
		return
	}
	putBig(w.comp)
	putBig(w.plain)
	w.Data, w.comp, w.plain = nil, nil, nil
}

// ReadWhole reads size compressed bytes from r and decodes them with c.
// The compressed and decoded bytes live in large buffers that are kept in
// a process-wide pool and reused from object to object, so that a query
// touches fresh memory once rather than once per object: in a short-lived
// process the page faults of fresh memory cost more than decoding. Where
// the platform allows, the buffers are backed by transparent huge pages.
// The pool holds at most 128 MiB and frees it all once no object has been
// read for 30 seconds. A zstd frame that states its content size is decoded into a buffer of
// that size at once, with no growing.
//
// Errors reading r are returned as they are; decode failures are marked
// [loglake.ErrCorrupt]. The caller calls Release on the result once it is
// done with Data.
func ReadWhole(r io.Reader, size int, c loglake.Compression) (*Whole, error) {
	w := &Whole{comp: getBig(size)}
	comp := w.comp.b[:size]
	if _, err := io.ReadFull(r, comp); err != nil {
		w.Release()
		return nil, err
	}
	switch c {
	case loglake.CompressionNone:
		w.Data = comp
		return w, nil
	case loglake.CompressionZstd:
		var h zstd.Header
		// A size beyond the decoders' limit fails in DecodeAll.
		if err := h.Decode(comp); err == nil && h.HasFCS && h.FrameContentSize <= zstdMaxDecoded {
			// DecodeAll wants room for the frame plus a little slack.
			w.plain = getBig(int(h.FrameContentSize) + 64)
		}
	}
	var dst []byte
	if w.plain != nil {
		dst = w.plain.b[:0]
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
	w := &Whole{plain: getBig(int(n) + 64)} // DecodeAll wants a little slack
	if c == loglake.CompressionNone {
		w.Data = append(w.plain.b[:0], comp...)
		return w, true, nil
	}
	d := zstdCappedDecoders.Get().(*zstd.Decoder)
	out, err := d.DecodeAll(comp, w.plain.b[:0])
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

// bigMapped is the total capacity of the buffers of objects read whole
// that exist (in use or pooled), for [BufferBytes].
var bigMapped atomic.Int64

// BufferBytes returns the total size of the buffers of objects read whole
// that exist now, in use or kept for reuse. Where the platform allows,
// they live outside the Go heap, so that heap statistics do not count
// them: measurements of a stage's memory add this.
func BufferBytes() int64 { return bigMapped.Load() }

// bigBuf is a large buffer of the pool: b has the full capacity.
type bigBuf struct {
	b    []byte
	free func() // unmaps b; nil for Go memory
}

// WholeBufferMin is the smallest buffer an object read whole takes, even
// a small one: callers with a tighter memory budget stream objects.
const WholeBufferMin = bigMin

const (
	bigMin     = 8 << 20   // smallest buffer allocated
	bigKeepMax = 256 << 20 // larger buffers are not kept
	bigKeepAll = 128 << 20 // total capacity of kept buffers
	bigKeepN   = 8         // kept buffers at most
)

// bigIdle is how long the pool keeps buffers nobody asks for: a
// long-lived process that queried once does not hold the memory for good.
// A variable for tests.
var bigIdle = 30 * time.Second

var bigPool struct {
	mu       sync.Mutex
	free     []*bigBuf
	held     int         // total capacity of free
	lastUse  time.Time   // of the pool, by getBig or putBig
	trimming *time.Timer // pending trim, when free is not empty
}

// trimBig frees the pooled buffers once the pool has been idle for bigIdle.
func trimBig() {
	bigPool.mu.Lock()
	if idle := time.Since(bigPool.lastUse); idle < bigIdle {
		bigPool.trimming.Reset(bigIdle - idle)
		bigPool.mu.Unlock()
		return
	}
	free := bigPool.free
	bigPool.free, bigPool.held, bigPool.trimming = nil, 0, nil
	bigPool.mu.Unlock()
	for _, b := range free {
		if b.free != nil {
			b.free()
		}
	}
}

// getBig returns a buffer of at least n bytes, from the pool if one fits.
func getBig(n int) *bigBuf {
	bigPool.mu.Lock()
	bigPool.lastUse = time.Now()
	best := -1
	for i, b := range bigPool.free {
		if cap(b.b) >= n && (best < 0 || cap(b.b) < cap(bigPool.free[best].b)) {
			best = i
		}
	}
	if best >= 0 {
		b := bigPool.free[best]
		bigPool.free = append(bigPool.free[:best], bigPool.free[best+1:]...)
		bigPool.held -= cap(b.b)
		bigPool.mu.Unlock()
		return b
	}
	bigPool.mu.Unlock()
	// Capacity costs address space only: pages are touched as they are
	// written. Some headroom lets the next, slightly larger object fit.
	size := max(n+n/4, bigMin)
	size = (size + hugePage - 1) &^ (hugePage - 1)
	if n > size {
		panic(fmt.Sprintf("rawcodec: buffer of %d bytes", n))
	}
	return allocBig(size)
}

// putBig gives b back to the pool, or frees it if the pool is full.
func putBig(b *bigBuf) {
	if b == nil {
		return
	}
	bigPool.mu.Lock()
	bigPool.lastUse = time.Now()
	if c := cap(b.b); c <= bigKeepMax && len(bigPool.free) < bigKeepN && bigPool.held+c <= bigKeepAll {
		bigPool.free = append(bigPool.free, b)
		bigPool.held += c
		if bigPool.trimming == nil {
			bigPool.trimming = time.AfterFunc(bigIdle, trimBig) // bigIdle: read under mu
		}
		bigPool.mu.Unlock()
		return
	}
	bigPool.mu.Unlock()
	if b.free != nil {
		b.free()
	}
}

const hugePage = 2 << 20
