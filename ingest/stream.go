package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
)

// DefaultStreamBatchBytes is the default [StreamOptions.BatchBytes].
const DefaultStreamBatchBytes = 64 << 20

// StreamOptions tune [Ingestor.AddStream]. The zero value is ready to use.
type StreamOptions struct {
	// BatchBytes is where the stream is cut into batches: a batch ends at
	// the first line end at or after this many bytes (the last batch at
	// the end of the stream). Each batch writes about one object per
	// partition it holds, so larger batches write fewer, larger objects
	// and take more memory. The cuts, and so the keys written, depend on
	// it: a rerun must use the same value to overwrite instead of adding.
	// Default: DefaultStreamBatchBytes (64 MiB).
	BatchBytes int
	// Arrived is the arrival time of every batch, as in
	// [Ingestor.AddBatchAt]: records without a usable time and dead
	// letters are filed under its day. Zero means now, so that a rerun on
	// a later day files those anew; for a file, its modification time
	// keeps them in place.
	Arrived time.Time
	// Concurrency is how many batches are ingested at once. Default:
	// GOMAXPROCS. AddStream's memory is set by these two options alone:
	// (Concurrency+1) buffers of BatchBytes for the input, and per batch
	// in flight two of 1.25 × BatchBytes for its formatted records and its
	// objects — about 4.5 × BatchBytes per batch in all. A batch also
	// counts its records against [Options.MaxBufferedBytes] while it is
	// written.
	Concurrency int
}

// StreamResult tells what [Ingestor.AddStream] did.
type StreamResult struct {
	Bytes        int64 // bytes read from the stream
	Batches      int   // batches ingested (ended, whether or not every record landed)
	Records      int   // records accepted (written to raw/ or spill/, or failed)
	Written      int   // records written to raw/
	Spilled      int   // records written to spill/ (Recover moves them)
	DeadLettered int   // records (or unparseable values) written to errors/
	Objects      int   // objects written: raw, errors and spill
}

// AddStream reads NDJSON — envelopes or bare records, one per line — from r
// to its end and ingests it as batches (see [Ingestor.AddBatchAt]), cut at
// the first line end after every [StreamOptions.BatchBytes] bytes and named
// by a SHA-256 of their bytes. The cuts and the names depend only on the
// bytes, so ingesting the same stream again — after a crash or a kill, or
// a retried invocation that read the same file — overwrites the objects of
// the first run instead of adding copies, whatever the reads returned and
// wherever the first run stopped. (Two byte-identical batches, in one
// stream or in two, are the same batch: their records are stored once.)
// The conditions of AddBatch's idempotence apply, and the same
// BatchBytes.
//
// AddStream returns when r is exhausted and every batch has ended, or
// after the first batch that fails: it then reads no further, lets the
// batches in flight end, and returns their errors — *FlushErrors naming
// the records that did not land, wrapped with the batch's offset in the
// stream — or the error of r wrapped with the offset where it occurred.
// Running AddStream again on the same stream then completes the lake.
// Records whose line spans a cut (a JSON value broken over lines) are cut
// too and dead-lettered; lines up to any length are otherwise whole.
func (in *Ingestor) AddStream(ctx context.Context, r io.Reader, o StreamOptions) (StreamResult, error) {
	var res StreamResult
	if o.BatchBytes < 0 || o.Concurrency < 0 {
		return res, fmt.Errorf("%w: ingest: StreamOptions BatchBytes %d, Concurrency %d: want >= 0", loglake.ErrInvalidOptions, o.BatchBytes, o.Concurrency)
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = DefaultStreamBatchBytes
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	arrived := o.Arrived
	if arrived.IsZero() {
		arrived = time.Now() // one day for the whole stream
	}

	type batch struct {
		off  int64
		data []byte
	}
	// The large buffers — the batches read, and each worker's formatted
	// records and objects — come from bigmem, and are reused from batch to
	// batch: fresh pages fault, and those faults cost more than ingesting
	// what fills them.
	var bufs []*bigmem.Buf
	defer func() {
		for _, b := range bufs {
			bigmem.Put(b)
		}
	}()
	get := func(n int) []byte {
		b := bigmem.Get(n)
		bufs = append(bufs, b)
		return b.Bytes()[:0]
	}
	work := make(chan batch)
	free := make(chan []byte, o.Concurrency+1)
	for k := 0; k < o.Concurrency+1; k++ {
		free <- get(o.BatchBytes + cutterSlack)
	}
	formatted := o.BatchBytes + o.BatchBytes/4 + cutterSlack // see addBatch
	var (
		mu     sync.Mutex
		errs   []error
		failed = make(chan struct{}) // closed by the first failure
		once   sync.Once
		wg     sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		once.Do(func() { close(failed) })
	}
	for k := 0; k < o.Concurrency; k++ {
		l := in.newLocal() // its buffers serve every batch of this worker
		l.keep = true
		l.out, l.slab = get(formatted), get(formatted)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				id := StreamBatchID(b.data)
				br, err := in.addBatch(ctx, id, arrived, [][]byte{b.data}, l)
				mu.Lock()
				res.Batches++
				res.Records += br.Records
				res.Written += br.Written
				res.Spilled += br.Spilled
				res.DeadLettered += br.DeadLettered
				res.Objects += br.Objects
				mu.Unlock()
				free <- b.data[:0]
				if err != nil {
					fail(fmt.Errorf("ingest: stream batch at offset %d (%d bytes, id %s): %w", b.off, len(b.data), id, err))
				}
			}
		}()
	}

	c := cutter{r: r, size: o.BatchBytes}
	var off int64
read:
	for {
		if err := ctx.Err(); err != nil {
			fail(fmt.Errorf("ingest: stream at offset %d: %w", off, err))
			break
		}
		var buf []byte
		select {
		case buf = <-free:
		case <-failed:
			break read
		case <-ctx.Done():
			fail(fmt.Errorf("ingest: stream at offset %d: %w", off, ctx.Err()))
			break read
		}
		data, err := c.next(buf)
		if len(data) > 0 {
			select {
			case work <- batch{off, data}:
				off += int64(len(data))
			case <-failed:
				break read
			case <-ctx.Done():
				fail(fmt.Errorf("ingest: stream at offset %d: %w", off, ctx.Err()))
				break read
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(fmt.Errorf("ingest: reading the stream at offset %d: %w", off+int64(len(data)), err))
			break
		}
	}
	close(work)
	wg.Wait()
	res.Bytes = off
	return res, errors.Join(errs...)
}

// StreamBatchID is the batch id [Ingestor.AddStream] gives a batch: 128
// bits of the SHA-256 of its bytes, in hex, after "stream-".
func StreamBatchID(data []byte) string {
	sum := sha256.Sum256(data)
	return "stream-" + hex.EncodeToString(sum[:16])
}

// cutterSlack is what a read may bring past a cut.
const cutterSlack = 64 << 10

// cutter cuts a stream into chunks that end at the first '\n' at or after
// size bytes (the last one at the end of the stream), whatever the sizes
// of the reads.
type cutter struct {
	r    io.Reader
	size int
	tail []byte // read past the last cut
	eof  bool
	err  error // io.EOF once the last chunk is returned, or the error of r
}

// next returns the next chunk in buf's storage, grown as needed, and
// io.EOF with the last chunk or, once the stream has ended, with none. An
// error of r returns no chunk: the bytes read before it may end short of a
// cut.
func (c *cutter) next(buf []byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	buf = append(buf[:0], c.tail...)
	c.tail = c.tail[:0]
	from := c.size - 1 // where the line end that cuts may be
	for {
		if len(buf) > from {
			if i := bytes.IndexByte(buf[from:], '\n'); i >= 0 {
				cut := from + i + 1
				c.tail = append(c.tail, buf[cut:]...)
				return buf[:cut], nil
			}
			from = len(buf)
		}
		if c.eof {
			c.err = io.EOF
			return buf, io.EOF
		}
		if len(buf) == cap(buf) {
			grow := c.size + cutterSlack - len(buf) // a chunk and a read's overshoot
			if grow < cutterSlack {
				grow = len(buf) / 2 // a line longer than size
			}
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		n, err := c.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			c.eof = true
		case err != nil:
			// The bytes before the error are not a whole chunk: the
			// caller stops, and a rerun reads them again.
			c.err = err
			return nil, err
		}
	}
}
