package compact

import (
	"bytes"
	"context"
	"fmt"
	"io"

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

// objectDecoder opens raw objects for streaming reads, reusing one zstd
// decoder for all of them: creating a decoder costs far more than a small
// object's decode. It is used by one goroutine at a time. With a free
// list, its decoder comes from there and goes back on close, so that the
// partitions of a Run share a few decoders (and their window buffers).
type objectDecoder struct {
	zd   *zstd.Decoder
	free chan *zstd.Decoder // may be nil
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
// from get; fn owns each buffer it is given. Blocks are at most the buffer
// size unless a single line is longer. As readRaw, it fails with errStale
// when the object's size is not the listed one.
func (d *objectDecoder) eachBlock(ctx context.Context, lake *loglake.Lake, o ObjectRef, get func() []byte, fn func(buf, data []byte) error) error {
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
		if err := d.zd.Reset(br); err != nil {
			return fmt.Errorf("compact: %s: %w", o.Key, loglake.MarkCorrupt("rawcodec: zstd", err))
		}
		defer d.zd.Reset(nil)
		r = d.zd
	} else {
		cr, done, err := rawcodec.NewReader(br, codec)
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
			if err := fn(buf, buf[:last+1]); err != nil {
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
			return fn(buf, buf[:n])
		}
		if err != nil {
			if codec == loglake.CompressionZstd {
				err = loglake.MarkCorrupt("rawcodec: zstd", err)
			}
			return fmt.Errorf("compact: read %s: %w", o.Key, err)
		}
	}
}
