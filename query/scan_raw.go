package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/rawcodec"
)

// rawBatchLines is how many candidate lines are decoded into one block.
const rawBatchLines = 4096

// rawBufs recycles the decompression buffers of raw scans (one per
// running reader).
var rawBufs = sync.Pool{New: func() any { b := make([]byte, rawBlockSize); return &b }}

// countingReader counts the bytes read from storage.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// scanRaw reads one raw NDJSON object: it decompresses it block by block,
// skips the lines the JSON prefilter rules out without parsing them (the
// required literals of the query's LIKE patterns, searched in the raw
// bytes, escapes accounted for), decodes the remaining lines with
// compaction's column logic, and filters them.
func (pt *partTask) scanRaw(ctx context.Context, o compact.ObjectRef, s sink) (err error) {
	x := pt.x
	codec, ok := rawcodec.FromKey(o.Key)
	if !ok {
		return fmt.Errorf("%w: query: %s is not an NDJSON object", loglake.ErrInvalidKey, o.Key)
	}
	br, err := x.e.lake.NewReader(ctx, o.Key)
	if err != nil {
		return fmt.Errorf("query: open %s: %w", o.Key, err)
	}
	defer br.Close()
	x.ctr.objectsOpened.Add(1)
	var read int64
	defer func() { x.ctr.bytesRead.Add(read) }()
	r, done, err := rawcodec.NewReader(&countingReader{r: br, n: &read}, codec)
	if err != nil {
		return fmt.Errorf("query: %s: %w", o.Key, err)
	}
	defer done()

	var buf []byte
	if o.Size >= rawBlockSize/8 {
		bp := rawBufs.Get().(*[]byte)
		defer rawBufs.Put(bp)
		buf = *bp
	} else {
		// A small object: a buffer of about its decompressed size.
		buf = make([]byte, max(64<<10, 8*o.Size))
	}
	var (
		lb   *compact.LineBatch
		blk  block
		pend int // bytes of an incomplete line at buf[:pend]
	)
	flush := func() error {
		if lb == nil || lb.Len() == 0 {
			return nil
		}
		rec, schema := lb.Finish()
		lb = nil
		defer rec.Release()
		blockFromRecord(&blk, rec, schema, pt.v.Schema)
		return pt.filter(&blk, nil, s)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pend == len(buf) { // a line longer than the buffer: grow it
			nb := make([]byte, 2*len(buf))
			copy(nb, buf[:pend])
			buf = nb
		}
		n, rerr := io.ReadFull(r, buf[pend:])
		end := pend + n
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			if loglake.IsNotFound(rerr) || ctx.Err() != nil {
				return fmt.Errorf("query: read %s: %w", o.Key, rerr)
			}
			if errors.Is(rerr, loglake.ErrCorrupt) {
				return fmt.Errorf("query: %s: %w", o.Key, rerr)
			}
			return fmt.Errorf("query: read %s: %w", o.Key, rerr)
		}
		cut := end
		if !eof {
			cut = bytes.LastIndexByte(buf[:end], '\n') + 1
			if cut == 0 { // no complete line yet
				pend = end
				continue
			}
		}
		block := buf[:cut]
		if err := x.scanned(int64(len(block))); err != nil {
			return err
		}
		lines := int64(bytes.Count(block, nl))
		if cut > 0 && block[cut-1] != '\n' {
			lines++
		}
		x.ctr.rowsScanned.Add(lines)
		ls := x.p.pre.Lines(block)
		for {
			a, b, ok := ls.Next()
			if !ok {
				break
			}
			line := block[a:b]
			if len(line) == 0 {
				continue
			}
			if lb == nil {
				lb = compact.NewLineBatch(x.e.lake, pt.v.Partition, pt.v.Schema)
			}
			lb.Add(line)
			if lb.Len() >= rawBatchLines {
				if err := flush(); err != nil {
					return err
				}
				if s.full() {
					return nil
				}
			}
		}
		if eof {
			break
		}
		pend = copy(buf, buf[cut:end])
	}
	return flush()
}

var nl = []byte{'\n'}
