package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// job is one object to write: a partition's buffer (raw), a dead-letter
// buffer, or a chunk of a batch.
type job struct {
	ctx      context.Context
	key      string
	spillKey string // "" for dead letters
	part     loglake.Partition
	reason   Reason
	data     []byte // uncompressed NDJSON
	mem      int64  // bytes of the memory budget to release when done
	records  int
	refs     []refCount
	done     chan struct{}

	// Set by the worker before done is closed.
	outcome outcome
	err     error
	written int
	batch   *batchState // nil for shared buffers
}

type outcome int

const (
	landed outcome = iota
	spilled
	failed
)

// push queues j for the workers. The queue is not bounded by count: every
// job holds memory counted against MaxBufferedBytes, which bounds it.
func (in *Ingestor) push(j *job) {
	in.qmu.Lock()
	in.queue = append(in.queue, j)
	in.qmu.Unlock()
	in.qcond.Signal()
}

func (in *Ingestor) pop() *job {
	in.qmu.Lock()
	defer in.qmu.Unlock()
	for len(in.queue) == 0 {
		if in.qclosed {
			return nil
		}
		in.qcond.Wait()
	}
	j := in.queue[0]
	in.queue[0] = nil
	in.queue = in.queue[1:]
	if len(in.queue) == 0 {
		in.queue = nil // let the backing array go
	}
	return j
}

// worker compresses and uploads jobs until the queue closes.
func (in *Ingestor) worker() {
	var enc []byte // reused per worker
	for {
		j := in.pop()
		if j == nil {
			return
		}
		enc = in.run(j, enc)
		if cap(enc) > 2*(in.opts.BufferBytes+runBytes) {
			enc = nil
		}
	}
}

func (in *Ingestor) run(j *job, enc []byte) []byte {
	var err error
	enc, err = rawcodec.AppendEncodedLevel(enc[:0], j.data, in.opts.Compression, in.opts.ZstdLevel)
	attempts := 0
	if err == nil {
		attempts, err = in.write(j.ctx, j.key, enc)
	}
	info := FlushInfo{Key: j.key, Partition: j.part, Reason: j.reason, Records: j.records, Bytes: len(j.data), Written: len(enc), Attempts: attempts}
	switch {
	case err == nil:
		j.outcome = landed
		j.written = len(enc)
		if j.spillKey != "" {
			in.st.objects.Add(1)
			in.st.written.Add(int64(j.records))
		} else {
			in.st.errorObjects.Add(1)
			in.st.deadWritten.Add(int64(j.records))
		}
		in.st.bytesWritten.Add(int64(len(enc)))
		in.st.bytesFormatted.Add(int64(len(j.data)))
		if h := in.opts.Hooks.OnFlush; h != nil {
			h(info)
		}
	case j.spillKey != "" && len(enc) > 0:
		// Retries are exhausted: keep the records in spill/ for Recover.
		// A ctx that ended cancels the spill too; it is reported below.
		if _, serr := in.write(j.ctx, j.spillKey, enc); serr == nil {
			j.outcome = spilled
			j.written = len(enc)
			in.st.spillObjects.Add(1)
			in.st.spilled.Add(int64(j.records))
			in.st.bytesWritten.Add(int64(len(enc)))
			info.Key, info.Err = j.spillKey, err
			if h := in.opts.Hooks.OnSpill; h != nil {
				h(info)
			}
			break
		} else {
			err = fmt.Errorf("%w (spill to %s failed too: %w)", err, j.spillKey, serr)
		}
		fallthrough
	default:
		j.outcome = failed
		j.err = err
		in.st.failed.Add(int64(j.records))
		if j.batch == nil {
			in.failMu.Lock()
			for _, r := range j.refs {
				in.failures = append(in.failures, FailedInput{Input: r.ref, Records: r.records, Key: j.key, Err: err})
			}
			in.failMu.Unlock()
		}
	}
	if j.batch == nil {
		in.putBuf(j.data)
	}
	j.data = nil
	in.release(j.mem)
	if j.batch == nil {
		in.mu.Lock()
		delete(in.pending, j)
		in.mu.Unlock()
	}
	close(j.done)
	return enc
}

// write writes data to key, retrying transient errors with exponential
// backoff and full jitter. It returns the attempts made.
func (in *Ingestor) write(ctx context.Context, key string, data []byte) (int, error) {
	delay := in.opts.RetryBaseDelay
	for attempt := 1; ; attempt++ {
		err := in.writeOnce(ctx, key, data)
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, fmt.Errorf("ingest: write %s: %w", key, errors.Join(err, ctx.Err()))
		}
		if attempt > in.opts.MaxRetries || !transient(err) {
			return attempt, err
		}
		in.st.retries.Add(1)
		d := delay/2 + rand.N(delay/2+1)
		delay = min(2*delay, in.opts.RetryMaxDelay)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return attempt, fmt.Errorf("ingest: write %s: %w", key, errors.Join(err, ctx.Err()))
		}
	}
}

// writeOnce writes data to key in one piece. Unlike Lake.WriteAll it sets
// no ContentMD5: gocloud would then hash the data twice more (once to make
// the option, once to check it) on top of what the backend does — a sixth
// of the cost of compressing it. S3's SDK checksums uploads by itself.
func (in *Ingestor) writeOnce(ctx context.Context, key string, data []byte) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := in.lake.NewWriter(wctx, key, &blob.WriterOptions{ContentType: in.contentType})
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel() // a writer whose ctx ends before Close writes nothing
		_ = w.Close()
		return fmt.Errorf("ingest: write %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("ingest: write %s: %w", key, err)
	}
	return nil
}

// transient reports whether a write may succeed if retried: everything but
// the errors that say the request itself is wrong.
func transient(err error) bool {
	switch gcerrors.Code(err) {
	case gcerrors.InvalidArgument, gcerrors.PermissionDenied, gcerrors.Unimplemented, gcerrors.FailedPrecondition:
		return false
	}
	return !errors.Is(err, loglake.ErrClosed)
}

// counters are the atomic counters behind Stats.
type counters struct {
	inputs, bytesIn                          atomic.Int64
	records, deadLettered, refused           atomic.Int64
	written, spilled, failed                 atomic.Int64
	objects, errorObjects, spillObjects      atomic.Int64
	bytesWritten, bytesFormatted             atomic.Int64
	retries, rejected, evicted, opened       atomic.Int64
	agedFlushes, memoryFlushes               atomic.Int64
	stalls, stallNanos                       atomic.Int64
	recovered, recoveredObjects, deadWritten atomic.Int64
}

// Stats is a snapshot of an Ingestor's counters. Record counts add up:
// every record handed in is accepted (Records), dead-lettered
// (DeadLettered) or refused (Refused); once nothing is buffered,
// Written+Spilled+DeadWritten+Failed = Records+DeadLettered.
type Stats struct {
	Inputs       int64 // Add calls and batch items
	BytesIn      int64 // input bytes
	Records      int64 // records accepted into partition buffers
	DeadLettered int64 // records (or unparseable values) sent to errors/
	Refused      int64 // records refused: Reject policy, ctx ended, closed
	Written      int64 // records that landed in raw/
	Spilled      int64 // records that landed in spill/
	DeadWritten  int64 // dead letters that landed in errors/
	Failed       int64 // records and dead letters that did not land (named in a FlushError)
	Objects      int64 // raw objects written
	ErrorObjects int64 // errors/ objects written
	SpillObjects int64 // spill/ objects written
	BytesWritten int64 // compressed bytes written
	// BytesFormatted is the uncompressed NDJSON written (raw and errors).
	BytesFormatted int64
	Retries        int64 // upload retries
	// PartitionsOpened counts partitions that took a slot (a partition
	// flushed and written again counts again).
	PartitionsOpened int64
	Evictions        int64 // FlushOldest flushes at the quota
	Rejections       int64 // Reject refusals at the quota
	AgedFlushes      int64 // flushes by BufferInterval
	MemoryFlushes    int64 // flushes by MaxBufferedBytes
	Stalls           int64 // times Add waited for memory or a slot
	StallTime        time.Duration
	// ActivePartitions and BufferedBytes are gauges: partitions with
	// buffered records, and the bytes counted against MaxBufferedBytes.
	ActivePartitions int
	BufferedBytes    int64
	// Recovered counts records and objects moved by Recover.
	Recovered        int64
	RecoveredObjects int64
}

// Stats returns a snapshot of the counters. It is cheap and safe to call at
// any time, also after Close.
func (in *Ingestor) Stats() Stats {
	in.mu.Lock()
	active := in.active
	in.mu.Unlock()
	c := &in.st
	return Stats{
		Inputs: c.inputs.Load(), BytesIn: c.bytesIn.Load(),
		Records: c.records.Load(), DeadLettered: c.deadLettered.Load(), Refused: c.refused.Load(),
		Written: c.written.Load(), Spilled: c.spilled.Load(), DeadWritten: c.deadWritten.Load(), Failed: c.failed.Load(),
		Objects: c.objects.Load(), ErrorObjects: c.errorObjects.Load(), SpillObjects: c.spillObjects.Load(),
		BytesWritten: c.bytesWritten.Load(), BytesFormatted: c.bytesFormatted.Load(),
		Retries: c.retries.Load(), PartitionsOpened: c.opened.Load(),
		Evictions: c.evicted.Load(), Rejections: c.rejected.Load(),
		AgedFlushes: c.agedFlushes.Load(), MemoryFlushes: c.memoryFlushes.Load(),
		Stalls: c.stalls.Load(), StallTime: time.Duration(c.stallNanos.Load()),
		ActivePartitions: active, BufferedBytes: in.mem.Load(),
		Recovered: c.recovered.Load(), RecoveredObjects: c.recoveredObjects.Load(),
	}
}
