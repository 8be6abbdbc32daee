package compact

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// readRaw streams the raw object o line by line into fn; each line is valid
// during the call only. Memory is one read buffer plus the longest line. If
// the object's size is not the listed one, it was replaced since it was
// listed, and the read fails with errStale.
func readRaw(ctx context.Context, lake *loglake.Lake, o ObjectRef, fn func(line []byte)) error {
	codec, ok := rawcodec.FromKey(o.Key)
	if !ok {
		return fmt.Errorf("%w: compact: %s is not an NDJSON object", loglake.ErrInvalidKey, o.Key)
	}
	br, err := lake.OpenObject(ctx, o.Key)
	if err != nil {
		return err
	}
	defer br.Close()
	if br.Size() != o.Size {
		return fmt.Errorf("%w: %s is %d bytes, listed as %d", errStale, o.Key, br.Size(), o.Size)
	}
	r, done, err := rawcodec.NewReader(br, codec)
	if err != nil {
		return fmt.Errorf("compact: %s: %w", o.Key, err)
	}
	defer done()
	return splitLines(r, fn, o.Key)
}

// splitLines calls fn for each line of r (without its newline; a last line
// without one counts too; empty lines are skipped).
func splitLines(r io.Reader, fn func([]byte), key string) error {
	buf := make([]byte, 1<<20)
	var long []byte // a line longer than buf, being assembled
	start, end := 0, 0
	for {
		if start == end {
			start, end = 0, 0
		}
		if end == len(buf) { // room: move the partial line to the front
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			} else {
				long = append(long, buf[start:end]...)
				start, end = 0, 0
			}
		}
		n, err := r.Read(buf[end:])
		end += n
		for {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			line := buf[start : start+i]
			if long != nil {
				long = append(long, line...)
				line = long
			}
			if len(line) > 0 {
				fn(line)
			}
			long = long[:0:0]
			long = nil
			start += i + 1
		}
		if err == io.EOF {
			line := buf[start:end]
			if long != nil {
				line = append(long, line...)
			}
			if len(line) > 0 {
				fn(line)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("compact: read %s: %w", key, err)
		}
	}
}

// objectDecoder opens raw objects for reading in blocks of whole lines.
// An object of at most wholeMax decoded bytes (the usual: ingest writes
// objects of a few MiB) is read and decoded whole, in one call, into
// pooled memory (rawcodec.ReadCompressed), and its blocks are slices of
// it: no streaming window, no copy into block buffers. Larger objects, and
// objects that do not state their decoded size, are streamed through one
// zstd decoder reused for all of them: creating a decoder costs far more
// than a small object's decode. It is used by one goroutine at a time.
// With a free list, its decoder comes from there and goes back on close,
// so that the partitions of a Run share a few decoders (and their window
// buffers).
type objectDecoder struct {
	zd   *zstd.Decoder
	free chan *zstd.Decoder // may be nil
	// wholeMax is the most decoded bytes of an object read whole (0:
	// none), block the size of the blocks it is cut into. slots holds a
	// token for each object read whole whose blocks are not all parsed:
	// its capacity bounds the memory they hold.
	wholeMax int64
	block    int
	slots    chan struct{}
	comp     []byte // the compressed bytes of the object read whole
}

// wholeInFlight is how many objects read whole a compaction holds at
// most: one being parsed while the next is read and decoded.
const wholeInFlight = 2

// wholeCompressedMax is the largest compressed object read whole: the
// compressed bytes stay in memory while the object is decoded.
const wholeCompressedMax = 16 << 20

// blockOwner is what the memory of a block belongs to: a block buffer,
// given back to the free list once parsed, or an object read whole, which
// is released once all its blocks are parsed. Both nil: the memory is
// still in use by blocks that follow.
type blockOwner struct {
	buf   []byte
	whole *wholeObject
}

// shared returns the owner for a block that is not the last of its
// memory: no buffer to give back, the same whole object.
func (o blockOwner) shared() blockOwner { return blockOwner{whole: o.whole} }

// wholeObject counts the blocks of an object read whole that are not
// parsed yet, plus one for the reader while it hands them out.
type wholeObject struct {
	w    *rawcodec.Whole
	refs atomic.Int32
	slot chan struct{} // its token is taken back when released
}

func (o *wholeObject) retain() { o.refs.Add(1) }

func (o *wholeObject) release() {
	if o.refs.Add(-1) == 0 {
		o.w.Release()
		<-o.slot
	}
}

// close releases the decoder's resources, or returns it to the free list.
func (d *objectDecoder) close() {
	if d.zd == nil {
		return
	}
	select {
	case d.free <- d.zd:
	default:
		d.zd.Close()
	}
	d.zd = nil
}

// eachBlock reads raw object o and calls fn with blocks of whole lines
// (each ending in '\n', a missing last newline added), read into buffers
// from get or into memory of the whole object; fn owns the memory it is
// given (see blockOwner). Blocks are at most the buffer size (or d.block)
// unless a single line is longer. As readRaw, it fails with errStale when
// the object's size is not the listed one.
func (d *objectDecoder) eachBlock(ctx context.Context, lake *loglake.Lake, o ObjectRef, get func() []byte, fn func(own blockOwner, data []byte) error) error {
	codec, ok := rawcodec.FromKey(o.Key)
	if !ok {
		return fmt.Errorf("%w: compact: %s is not an NDJSON object", loglake.ErrInvalidKey, o.Key)
	}
	br, err := lake.OpenObject(ctx, o.Key)
	if err != nil {
		return err
	}
	defer br.Close()
	if br.Size() != o.Size {
		return fmt.Errorf("%w: %s is %d bytes, listed as %d", errStale, o.Key, br.Size(), o.Size)
	}
	var src io.Reader = br
	if d.wholeMax > 0 && codec != loglake.CompressionGzip && o.Size > 0 && o.Size <= wholeCompressedMax {
		w, err := d.readWhole(ctx, br, o, codec)
		if err != nil {
			return err
		}
		if w != nil {
			return d.eachWholeBlock(w, fn)
		}
		src = bytes.NewReader(d.comp) // stream from the compressed bytes
	}
	var r io.Reader
	if codec == loglake.CompressionZstd {
		if d.zd == nil {
			select {
			case d.zd = <-d.free:
			default:
			}
		}
		if d.zd == nil {
			d.zd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
			if err != nil {
				return fmt.Errorf("compact: %s: %w", o.Key, err)
			}
		}
		if err := d.zd.Reset(src); err != nil {
			return fmt.Errorf("compact: %s: %w", o.Key, loglake.MarkCorrupt("rawcodec: zstd", err))
		}
		defer d.zd.Reset(nil)
		r = d.zd
	} else {
		cr, done, err := rawcodec.NewReader(src, codec)
		if err != nil {
			return fmt.Errorf("compact: %s: %w", o.Key, err)
		}
		defer done()
		r = cr
	}
	buf := get()
	n := 0
	for {
		if n == len(buf) { // full: hand over the whole lines, keep the rest
			last := bytes.LastIndexByte(buf[:n], '\n')
			if last < 0 { // one line longer than the buffer: grow it
				buf = append(buf, make([]byte, len(buf))...)[:2*len(buf)]
				continue
			}
			next := get()
			rest := n - last - 1
			for len(next) < rest*2 {
				next = append(next, make([]byte, len(next))...)[:2*len(next)]
			}
			n = copy(next, buf[last+1:n])
			if err := fn(blockOwner{buf: buf}, buf[:last+1]); err != nil {
				return err
			}
			buf = next
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			if n == 0 {
				return nil
			}
			if buf[n-1] != '\n' {
				if n == len(buf) {
					buf = append(buf, '\n')
				} else {
					buf[n] = '\n'
				}
				n++
			}
			return fn(blockOwner{buf: buf}, buf[:n])
		}
		if err != nil {
			if codec == loglake.CompressionZstd {
				err = loglake.MarkCorrupt("rawcodec: zstd", err)
			}
			return fmt.Errorf("compact: read %s: %w", o.Key, err)
		}
	}
}

// readWhole reads raw object o from br into d.comp and decodes it whole,
// taking a slot for it. It returns nil, with the slot given back, when o
// is to be streamed from d.comp instead (see rawcodec.DecodeWhole).
func (d *objectDecoder) readWhole(ctx context.Context, br io.Reader, o ObjectRef, codec loglake.Compression) (w *rawcodec.Whole, err error) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() {
		if w == nil {
			<-d.slots
		}
	}()
	d.comp = slices.Grow(d.comp[:0], int(o.Size))[:o.Size]
	if _, err := io.ReadFull(br, d.comp); err != nil {
		return nil, fmt.Errorf("compact: read %s: %w", o.Key, err)
	}
	w, _, err = rawcodec.DecodeWhole(d.comp, codec, d.wholeMax)
	if err != nil {
		return nil, fmt.Errorf("compact: %s: %w", o.Key, err)
	}
	return w, nil
}

// eachWholeBlock calls fn with blocks of d.block bytes or so, whole lines,
// cut from the decoded object w, which it releases once fn and the
// parsing of every block are done.
func (d *objectDecoder) eachWholeBlock(w *rawcodec.Whole, fn func(own blockOwner, data []byte) error) error {
	own := blockOwner{whole: &wholeObject{w: w, slot: d.slots}}
	own.whole.refs.Store(1) // the reader's
	defer own.whole.release()
	data := w.Data
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n') // in the buffer's slack, or copied
	}
	for len(data) > 0 {
		cut := len(data)
		if cut > d.block {
			cut = bytes.LastIndexByte(data[:d.block], '\n') + 1
			if cut == 0 { // a line longer than a block
				cut = d.block + bytes.IndexByte(data[d.block:], '\n') + 1
			}
		}
		if err := fn(own, data[:cut]); err != nil {
			return err
		}
		data = data[cut:]
	}
	return nil
}
