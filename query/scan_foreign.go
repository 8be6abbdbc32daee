package query

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/envelope"
	"github.com/loglake/loglake/internal/rawcodec"
)

// foreignCodec returns the codec of a foreign object by its extension; ok
// is false when the extension says nothing and the content must tell.
func foreignCodec(key string) (c loglake.Compression, ok bool, err error) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	switch {
	case strings.HasSuffix(name, ".gz"), strings.HasSuffix(name, ".gzip"):
		return loglake.CompressionGzip, true, nil
	case strings.HasSuffix(name, ".zst"), strings.HasSuffix(name, ".zstd"):
		return loglake.CompressionZstd, true, nil
	case strings.HasSuffix(name, ".snappy"), strings.HasSuffix(name, ".zip"),
		strings.HasSuffix(name, ".parquet"), strings.HasSuffix(name, ".orc"):
		return "", false, fmt.Errorf("query: %s: this format is not supported; foreign objects must be JSON, uncompressed, gzip or zstd", key)
	}
	return "", false, nil
}

// sniffCodec tells the codec from an object's first bytes.
func sniffCodec(head []byte) loglake.Compression {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return loglake.CompressionGzip
	case len(head) >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd:
		return loglake.CompressionZstd
	}
	return loglake.CompressionNone
}

// maxTruncatedTail is how close to the end of a block a scan error must be
// for the value to count as cut by the block boundary rather than
// malformed: every JSON token is recognised as unfinished within a few
// bytes of where its bytes end.
const maxTruncatedTail = 16

// scanForeign reads one object of a foreign layout: JSON values one after
// another — separated by newlines or not at all, as Firehose concatenates
// records — each an envelope or a bare record. It decompresses the object
// block by block, splits envelopes with the envelope scanner, gives each
// record the envelope's carried fields, skips records the JSON prefilter
// rules out, decodes the rest with compaction's column logic, and filters
// them. A value that is malformed or not an object is skipped (counted in
// ValuesDropped); scanning resumes at the next line or "}{" boundary.
func (pt *partTask) scanForeign(ctx context.Context, o compact.ObjectRef, s sink) error {
	x := pt.x
	src := x.e.src
	codec, known, err := foreignCodec(o.Key)
	if err != nil {
		return err
	}
	br, err := src.bucket.NewReader(ctx, o.Key, nil)
	if err != nil {
		return fmt.Errorf("query: open %s: %w", o.Key, err)
	}
	defer br.Close()
	x.ctr.objectsOpened.Add(1)
	var read int64
	defer func() { x.ctr.bytesRead.Add(read) }()
	in := bufio.NewReaderSize(&countingReader{r: br, n: &read}, 64<<10)
	readErr := func(err error) error {
		if errors.Is(err, loglake.ErrCorrupt) {
			return fmt.Errorf("query: %s: %w", o.Key, err)
		}
		return fmt.Errorf("query: read %s: %w", o.Key, err)
	}
	if !known {
		head, err := in.Peek(4)
		if err != nil && err != io.EOF {
			return readErr(err)
		}
		codec = sniffCodec(head)
	}
	r, done, err := rawcodec.NewReader(in, codec)
	if err != nil {
		return readErr(err)
	}
	defer done()

	fs := &foreignScan{pt: pt, sc: envelope.New(src.scfg), s: s}
	defer func() {
		x.ctr.rowsScanned.Add(fs.records)
		x.ctr.valuesDropped.Add(fs.dropped)
	}()
	var buf []byte
	if o.Size >= rawBlockSize/8 {
		bp := rawBufs.Get().(*[]byte)
		defer rawBufs.Put(bp)
		buf = *bp
	} else {
		buf = make([]byte, max(64<<10, 8*o.Size))
	}
	pend := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pend == len(buf) { // a value longer than the buffer: grow it
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
		if err := x.scanned(int64(n)); err != nil {
			return err
		}
		used, err := fs.values(buf[:end], eof)
		if err != nil {
			return err
		}
		if s.full() || eof {
			break
		}
		pend = copy(buf, buf[used:end])
	}
	return fs.flush()
}

// foreignScan is the state of one foreign object's scan.
type foreignScan struct {
	pt       *partTask
	sc       *envelope.Scanner
	s        sink
	lb       *compact.LineBatch
	blk      block
	line     []byte
	skipping bool // after a malformed value: looking for the next boundary
	records  int64
	dropped  int64
}

// values scans the complete values of b and returns how many bytes it
// consumed; the rest (a value cut by the end of the block) is scanned
// again with the next block. At eof everything is consumed.
func (fs *foreignScan) values(b []byte, eof bool) (int, error) {
	sc := fs.sc
	pos := 0
	for {
		if fs.skipping {
			k := resync(b, pos)
			if k < 0 {
				if eof || len(b) == 0 {
					return len(b), nil
				}
				return len(b) - 1, nil // keep a '}' that a '{' may follow
			}
			fs.skipping = false
			pos = k
		}
		pos = envelope.SkipSpace(b, pos)
		if pos >= len(b) {
			return len(b), nil
		}
		sc.Scan(b, pos)
		if sc.Problem == envelope.Malformed {
			if !eof && sc.ErrOffset+maxTruncatedTail >= len(b) {
				return pos, nil // probably cut by the block: read on
			}
			fs.dropped++
			fs.skipping = true
			pos = max(pos+1, sc.ErrOffset)
			continue
		}
		if err := fs.value(b); err != nil {
			return 0, err
		}
		if fs.s.full() {
			return len(b), nil
		}
		pos = sc.End
	}
}

// resync returns where the value after a malformed one may start: after
// the next newline or between "}{", at or after from; -1 if neither is in
// b.
func resync(b []byte, from int) int {
	nl := bytes.IndexByte(b[from:], '\n')
	cc := bytes.Index(b[from:], []byte("}{"))
	switch {
	case nl < 0 && cc < 0:
		return -1
	case cc < 0 || (nl >= 0 && nl < cc):
		return from + nl + 1
	}
	return from + cc + 1
}

// value adds the records of the value just scanned.
func (fs *foreignScan) value(b []byte) error {
	sc := fs.sc
	pre := fs.pt.x.p.pre
	whole := b[sc.Start:sc.End]
	utfOK := sc.CheckUTF8()
	if sc.Problem != envelope.OK || !utfOK {
		fs.dropped++
		return nil
	}
	if sc.Kind == envelope.KindRecord {
		fs.records++
		if pre.MayMatch(whole) {
			return fs.add(whole)
		}
		return nil
	}
	fs.records += int64(len(sc.Records))
	if !pre.MayMatch(whole) {
		return nil // no record of the envelope, carried fields included, can match
	}
	carry := fs.pt.x.e.src.lay.CarryFields
	for k := range sc.Records {
		rec := &sc.Records[k]
		if rec.Problem != envelope.OK {
			fs.dropped++
			continue
		}
		raw := b[rec.Start:rec.End]
		line := raw
		// Carried fields the record lacks go after its opening brace, as
		// ingest formats them.
		fs.line = append(fs.line[:0], '{')
		for j, v := range sc.Carried {
			if v.Present() && rec.Carry&(1<<uint(j)) == 0 {
				if len(fs.line) > 1 {
					fs.line = append(fs.line, ',')
				}
				fs.line = append(fs.line, '"')
				fs.line = append(fs.line, carry[j]...)
				fs.line = append(fs.line, '"', ':')
				fs.line = append(fs.line, b[v.Start:v.End]...)
			}
		}
		if len(fs.line) > 1 {
			if rec.Empty {
				fs.line = append(fs.line, '}')
			} else {
				fs.line = append(fs.line, ',')
				fs.line = append(fs.line, raw[1:]...)
			}
			line = fs.line
		}
		if !pre.MayMatch(line) {
			continue
		}
		if err := fs.add(line); err != nil {
			return err
		}
		if fs.s.full() {
			return nil
		}
	}
	return nil
}

// add decodes one record line into the current batch.
func (fs *foreignScan) add(line []byte) error {
	pt := fs.pt
	if fs.lb == nil {
		fs.lb = compact.NewLineBatchSettings(pt.x.e.settings, pt.v.Partition, nil)
		pt.x.p.narrow(fs.lb)
	}
	fs.lb.Add(line)
	if fs.lb.Len() >= rawBatchLines {
		return fs.flush()
	}
	return nil
}

// flush filters the batched records.
func (fs *foreignScan) flush() error {
	if fs.lb == nil || fs.lb.Len() == 0 {
		return nil
	}
	rec, schema := fs.lb.Finish()
	fs.lb = nil
	defer rec.Release()
	blockFromRecord(&fs.blk, rec, schema, nil)
	return fs.pt.filter(&fs.blk, nil, fs.s)
}
