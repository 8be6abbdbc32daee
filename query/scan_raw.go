package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/like"
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
//
// The lines it keeps go to rb, which is flushed into s when it holds
// rawBatchLines lines; the caller flushes the rest (flushRaw), so that
// the small objects of a partition share batches.
func (pt *partTask) scanRaw(ctx context.Context, o compact.ObjectRef, s sink, rb *rawBatch) (err error) {
	x := pt.x
	codec, ok := rawcodec.FromKey(o.Key)
	if !ok {
		return fmt.Errorf("%w: query: %s is not an NDJSON object", loglake.ErrInvalidKey, o.Key)
	}
	br, err := x.e.lake.OpenObject(ctx, o.Key)
	if err != nil {
		return fmt.Errorf("query: open %s: %w", o.Key, err)
	}
	defer br.Close()
	x.ctr.objectsOpened.Add(1)
	var read int64
	defer func() { x.ctr.bytesRead.Add(read) }()
	src := &countingReader{r: br, n: &read}
	readErr := func(err error) error {
		if errors.Is(err, loglake.ErrCorrupt) {
			return fmt.Errorf("query: %s: %w", o.Key, err)
		}
		return fmt.Errorf("query: read %s: %w", o.Key, err)
	}

	flush := func() error { return pt.flushRaw(rb, s) }
	// scan takes a block of whole lines (the last one may lack its '\n').
	scan := func(block []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.scanned(int64(len(block))); err != nil {
			return err
		}
		lines := int64(bytes.Count(block, nl))
		if len(block) > 0 && block[len(block)-1] != '\n' {
			lines++
		}
		x.ctr.rowsScanned.Add(lines)
		ls := x.p.pre.Lines(block)
		for {
			a, b, ok := ls.Next()
			if !ok {
				return nil
			}
			line := block[a:b]
			if len(line) == 0 {
				continue
			}
			if rb.lb == nil {
				rb.lb = compact.NewLineBatch(x.e.lake, pt.v.Partition, pt.v.Schema)
				x.p.narrow(rb.lb)
			}
			rb.lb.Add(line)
			if rb.lb.Len() >= rawBatchLines {
				if err := flush(); err != nil {
					return err
				}
				if s.full() {
					return nil
				}
			}
		}
	}

	// The object as it is now: it may have been rewritten since it was
	// listed (a retried batch under the same name).
	size := br.Size()
	if codec == loglake.CompressionZstd && size > 0 && size <= rawWholeMax {
		// Fast path: read the whole object and decompress it in one call,
		// which is faster than streaming; memory is bounded by rawWholeMax
		// and the codec's ratio.
		w, err := rawcodec.ReadWhole(src, int(size), codec)
		if err != nil {
			return readErr(err)
		}
		defer w.Release()
		plain := w.Data
		for len(plain) > 0 {
			cut := len(plain)
			if cut > rawBlockSize {
				cut = bytes.LastIndexByte(plain[:rawBlockSize], '\n') + 1
				if cut == 0 {
					cut = len(plain) // one huge line
					if i := bytes.IndexByte(plain[rawBlockSize:], '\n'); i >= 0 {
						cut = rawBlockSize + i + 1
					}
				}
			}
			if err := scan(plain[:cut]); err != nil {
				return err
			}
			if s.full() {
				return nil
			}
			plain = plain[cut:]
		}
		return nil
	}

	// Streaming: decompress block by block.
	r, done, err := rawcodec.NewReader(src, codec)
	if err != nil {
		return readErr(err)
	}
	defer done()
	var buf []byte
	if size >= rawBlockSize/8 {
		bp := rawBufs.Get().(*[]byte)
		defer rawBufs.Put(bp)
		buf = *bp
	} else {
		// A small object: a buffer of about its decompressed size.
		buf = make([]byte, max(64<<10, 8*size))
	}
	pend := 0 // bytes of an incomplete line at buf[:pend]
	for {
		if pend == len(buf) { // a line longer than the buffer: grow it
			nb := make([]byte, 2*len(buf))
			copy(nb, buf[:pend])
			buf = nb
		}
		n, rerr := io.ReadFull(r, buf[pend:])
		end := pend + n
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			return readErr(rerr)
		}
		cut := end
		if !eof {
			cut = bytes.LastIndexByte(buf[:end], '\n') + 1
			if cut == 0 { // no complete line yet
				pend = end
				continue
			}
		}
		if err := scan(buf[:cut]); err != nil {
			return err
		}
		if s.full() || eof {
			break
		}
		pend = copy(buf, buf[cut:end])
	}
	return nil
}

// rawBatch holds the candidate lines of raw objects not yet filtered.
type rawBatch struct {
	lb  *compact.LineBatch
	blk block
}

// flushRaw decodes and filters the lines in rb into s.
func (pt *partTask) flushRaw(rb *rawBatch, s sink) error {
	if rb.lb == nil || rb.lb.Len() == 0 {
		return nil
	}
	rec, schema := rb.lb.Finish()
	rb.lb = nil
	defer rec.Release()
	blockFromRecord(&rb.blk, rec, schema, pt.v.Schema)
	return pt.filter(&rb.blk, nil, s)
}

// rawGroupBytes: raw objects smaller than this are scanned by one task
// with the objects of their partition that follow, up to this many
// compressed bytes in all, sharing its batches: a task and a batch per
// object of a few KiB cost more than scanning it.
const rawGroupBytes = 256 << 10

// rawWholeMax is the largest compressed raw object read whole (see
// scanRaw). loglake's ingest writes objects of a few MiB.
const rawWholeMax = 16 << 20

var nl = []byte{'\n'}

// equalityNeedle returns a needle for the raw prefilter from a conjunct
// col = 'text' (or 'text' = col): the line of a record whose col equals
// text holds text as a JSON string, possibly with escapes, which the
// prefilter allows for. col = true (or false) needs the literal true (or
// false) in the line. Only texts that no other kind of value can equal
// qualify: a number's, a boolean's, a timestamp's or a nested value's text
// (a widened column holds such texts) need not appear in the line as it
// is compared, so texts that parse as a number or a timestamp, "true",
// "false", "null", and texts starting with '{' or '[' are left out, as are
// the columns that do not come from the line (tenant_id, dt, UnfitColumn).
func equalityNeedle(e Expr) (like.Needle, bool) {
	c, ok := e.(*CompareExpr)
	if !ok || c.Op != OpEq {
		return like.Needle{}, false
	}
	col, okc := c.L.(*Column)
	lit, okl := c.R.(*Literal)
	if !okc || !okl {
		col, okc = c.R.(*Column)
		lit, okl = c.L.(*Literal)
	}
	if !okc || !okl || col.Name == TenantColumn || col.Name == DayColumn || col.Name == compact.UnfitColumn {
		return like.Needle{}, false
	}
	switch v := lit.Value.(type) {
	case string:
		if plainText(v) {
			return like.Needle{Text: v}, true
		}
	case bool:
		// Only a JSON true or false literal reads as a boolean, and
		// literals have no escapes.
		return like.Needle{Text: strconv.FormatBool(v)}, true
	}
	return like.Needle{}, false
}

// plainText reports whether s can only be equalled by a string value (see
// equalityNeedle).
func plainText(s string) bool {
	if s == "" || !utf8.ValidString(s) || s[0] == '{' || s[0] == '[' {
		return false
	}
	switch s {
	case "true", "false", "null":
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return false
	}
	if _, ok := parseTimestamp(s); ok {
		return false
	}
	return true
}
