package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
)

// Defaults of [Config], with their reasons.
const (
	// DefaultConcurrency is the number of Kinesis records ingested at once
	// and the Ingestor's MaxConcurrentUploads when the options leave it 0.
	// An S3 PUT is bound by latency (tens of milliseconds), not by the CPU,
	// and every Kinesis record becomes at least one object (see [BatchID]),
	// so a Lambda with one vCPU still wants many uploads in flight.
	DefaultConcurrency = 16
	// DefaultDeadlineMargin is how long before the invocation's deadline
	// the handler stops waiting and reports what has not landed. A Lambda
	// that runs into its timeout returns nothing, and Lambda retries the
	// whole batch; one that returns in time retries only the failures.
	DefaultDeadlineMargin = 3 * time.Second
	// recoverTimeout bounds the Recover that follows a spill, so that it
	// cannot eat an invocation's time.
	recoverTimeout = 10 * time.Second
)

// Config configures a [Handler]. The zero value works.
type Config struct {
	// Ingest configures the Ingestor. BufferInterval must be 0: the
	// handler writes every record before it returns (a Lambda is frozen
	// between invocations, so an age-based timer would fire at random
	// times, or never). MaxConcurrentUploads 0 means DefaultConcurrency
	// rather than the Ingestor's CPU-based default. The rest keeps the
	// Ingestor's defaults.
	Ingest ingest.Options

	// Concurrency is the number of Kinesis records ingested at once.
	// Default: Ingest.MaxConcurrentUploads (after its default). Negative
	// is invalid.
	Concurrency int

	// DeadlineMargin is how long before the invocation's deadline the
	// handler gives up on uploads still running and reports their records
	// in the partial batch response. Default: 3 s. Negative is invalid; an
	// invocation without a deadline waits for every upload.
	DeadlineMargin time.Duration

	// DisableRecover turns off the Recover that the handler runs at the
	// start of the invocation after one that spilled records (they are
	// safe in spill/, and Recover moves them into raw/). Default: false.
	// Turn it off when a scheduled job runs Recover instead.
	DisableRecover bool

	// Logger receives one line per invocation and the warnings. nil is
	// silent.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Ingest.MaxConcurrentUploads == 0 {
		c.Ingest.MaxConcurrentUploads = DefaultConcurrency
	}
	if c.Concurrency == 0 {
		c.Concurrency = max(c.Ingest.MaxConcurrentUploads, 1)
	}
	if c.DeadlineMargin == 0 {
		c.DeadlineMargin = DefaultDeadlineMargin
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	var errs []string
	if c.Ingest.BufferInterval != 0 {
		errs = append(errs, fmt.Sprintf("Ingest.BufferInterval %v: want 0 (the handler writes every record before it returns)", c.Ingest.BufferInterval))
	}
	if c.Concurrency < 0 {
		errs = append(errs, fmt.Sprintf("Concurrency %d: want > 0 (0 = Ingest.MaxConcurrentUploads)", c.Concurrency))
	}
	if c.DeadlineMargin < 0 {
		errs = append(errs, fmt.Sprintf("DeadlineMargin %v: want >= 0 (0 = %v)", c.DeadlineMargin, DefaultDeadlineMargin))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: lambda: %s", loglake.ErrInvalidOptions, strings.Join(errs, "; "))
	}
	return nil
}

// Handler ingests the records of Kinesis events into a lake. Make one per
// Lambda execution environment (in main, before lambda.Start) and pass
// [Handler.Handle] to lambda.Start. It is safe for concurrent use, though
// Lambda invokes it one event at a time.
type Handler struct {
	lake     *loglake.Lake
	ownsLake bool
	in       *ingest.Ingestor
	cfg      Config
	log      *slog.Logger

	closed      atomic.Bool
	needRecover atomic.Bool // an invocation spilled records
}

// NewHandler returns a Handler that writes to lake, which must stay open
// until [Handler.Close]; the caller closes it afterwards. It checks cfg,
// naming every bad field in one error that wraps loglake.ErrInvalidOptions.
func NewHandler(lake *loglake.Lake, cfg Config) (*Handler, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	in, err := ingest.New(lake, &c.Ingest)
	if err != nil {
		return nil, err
	}
	return &Handler{lake: lake, in: in, cfg: c, log: c.Logger}, nil
}

// OpenHandler opens the lake at url (see loglake.Open) and returns a
// Handler that owns it: Close closes the lake too.
func OpenHandler(ctx context.Context, url string, cfg Config) (*Handler, error) {
	lake, err := loglake.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	h, err := NewHandler(lake, cfg)
	if err != nil {
		_ = lake.Close()
		return nil, err
	}
	h.ownsLake = true
	return h, nil
}

// Stats returns the Ingestor's counters.
func (h *Handler) Stats() ingest.Stats { return h.in.Stats() }

// Close closes the Ingestor (nothing is buffered between invocations, so
// there is nothing to lose if Lambda never calls it) and, for a Handler
// from OpenHandler, the lake. A second Close returns loglake.ErrClosed.
func (h *Handler) Close(ctx context.Context) error {
	if h.closed.Swap(true) {
		return loglake.ErrClosed
	}
	err := h.in.Close(ctx)
	if h.ownsLake {
		err = errors.Join(err, h.lake.Close())
	}
	return err
}

// BatchID returns the batch id under which the handler ingests a Kinesis
// record: the stream ARN, the shard id (from the event id
// "shardId-000000000000:49590…") and the record's sequence number. A
// sequence number is unique within its shard, so the id names the record
// and nothing else, whichever invocation delivers it.
//
// Ids are per record rather than per invocation because of what Lambda
// redelivers. With ReportBatchItemFailures, a retry starts at the lowest
// sequence number reported and runs to a new end: a suffix of the first
// batch, possibly with later records added. An id made of the batch's
// first and last sequence numbers would differ on the retry, and every
// record of the suffix that had landed the first time would land again. A
// per-record id gives each record the same object keys on every delivery,
// so a retry overwrites instead of duplicating. The price is one object
// per record and partition, which suits producers that put an envelope
// (many log records) into each Kinesis record.
func BatchID(r events.KinesisEventRecord) (string, error) {
	shard, seq, ok := strings.Cut(r.EventID, ":")
	if !ok || shard == "" {
		return "", fmt.Errorf("lambda: record %s: event id %q: want <shard id>:<sequence number>", r.Kinesis.SequenceNumber, r.EventID)
	}
	if r.Kinesis.SequenceNumber == "" {
		return "", fmt.Errorf("lambda: record %s: no sequence number", r.EventID)
	}
	if seq != r.Kinesis.SequenceNumber {
		return "", fmt.Errorf("lambda: record %s: event id %q does not end in the sequence number", r.Kinesis.SequenceNumber, r.EventID)
	}
	return r.EventSourceArn + "/" + shard + "/" + r.Kinesis.SequenceNumber, nil
}

// result is what became of one Kinesis record.
type result struct {
	res ingest.BatchResult
	err error
}

// Handle ingests the records of ev and returns the partial batch response
// naming, by sequence number, the records that did not land, so that
// Lambda retries only those (the event source mapping needs
// FunctionResponseTypes: ReportBatchItemFailures). Records that are bad
// input (malformed JSON, a missing tenant, …) landed as dead letters in
// errors/ and are not failures: a retry would fail them again. When every
// record failed, Handle still returns them as failures, not as an error.
//
// Handle returns an error — Lambda then retries the whole batch, which the
// per-record batch ids make safe — only when it cannot name what failed:
// an event whose records have no usable event id or sequence number, a
// closed Handler, or a Flush failure of unknown input.
//
// Each record is one AddBatchAt call (see [BatchID]), so it is written before
// Handle returns; Handle flushes the Ingestor all the same, so that
// nothing is buffered when Lambda freezes the environment.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if h.closed.Load() {
		return resp, loglake.ErrClosed
	}
	ids := make([]string, len(ev.Records))
	byID := make(map[string]int, len(ev.Records))
	for i, r := range ev.Records {
		id, err := BatchID(r)
		if err != nil {
			return resp, err
		}
		ids[i] = id
		byID[id] = i
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-h.cfg.DeadlineMargin))
		defer cancel()
	}
	h.recoverSpills(ctx)

	results := make([]result, len(ev.Records))
	// These goroutines belong to this call: Handle waits for all of them
	// before it returns.
	sem := make(chan struct{}, h.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// The arrival time Kinesis stamped stays the same on every
			// redelivery: records without a time keep their day.
			k := &ev.Records[i].Kinesis
			res, err := h.in.AddBatchAt(ctx, ids[i], k.ApproximateArrivalTimestamp.Time, [][]byte{k.Data})
			results[i] = result{res, err}
		})
	}
	wg.Wait()

	failed := make([]bool, len(ev.Records))
	var sum ingest.BatchResult
	for i, r := range results {
		if r.err != nil {
			var fe *ingest.FlushError
			if !errors.As(r.err, &fe) {
				return resp, fmt.Errorf("lambda: record %s: %w", ev.Records[i].Kinesis.SequenceNumber, r.err)
			}
			failed[i] = true
			h.log.WarnContext(ctx, "record did not land", "sequence_number", ev.Records[i].Kinesis.SequenceNumber, "err", r.err)
		}
		sum.Records += r.res.Records
		sum.Written += r.res.Written
		sum.Spilled += r.res.Spilled
		sum.DeadLettered += r.res.DeadLettered
		sum.Objects += r.res.Objects
	}
	if err := h.in.Flush(ctx); err != nil {
		// Only AddBatch feeds this Ingestor, and AddBatch reports its own
		// failures, so Flush has nothing to report; map what it does
		// report all the same, and give up on what cannot be mapped.
		var fe *ingest.FlushError
		if !errors.As(err, &fe) {
			return resp, fmt.Errorf("lambda: flush: %w", err)
		}
		for _, ref := range fe.Inputs() {
			i, ok := byID[ref.BatchID]
			if !ok {
				return resp, fmt.Errorf("lambda: flush: %w", err)
			}
			failed[i] = true
		}
	}
	if sum.Spilled > 0 {
		h.needRecover.Store(true)
	}

	seen := map[string]bool{}
	for i, f := range failed {
		seq := ev.Records[i].Kinesis.SequenceNumber
		if f && !seen[seq] {
			seen[seq] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seq})
		}
	}
	h.log.InfoContext(ctx, "invocation",
		"kinesis_records", len(ev.Records),
		"failed_kinesis_records", len(resp.BatchItemFailures),
		"records", sum.Records,
		"written", sum.Written,
		"spilled", sum.Spilled,
		"dead_lettered", sum.DeadLettered,
		"objects", sum.Objects)
	return resp, nil
}

// recoverSpills runs Recover when an earlier invocation spilled records:
// they are durable in spill/, but not searchable until they are in raw/.
// A failure is logged, and the next invocation tries again.
func (h *Handler) recoverSpills(ctx context.Context) {
	if h.cfg.DisableRecover || !h.needRecover.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	res, err := h.in.Recover(ctx)
	if err != nil {
		h.needRecover.Store(true)
		h.log.WarnContext(ctx, "recover spilled records", "objects", res.Objects, "records", res.Records, "err", err)
		return
	}
	h.log.InfoContext(ctx, "recovered spilled records", "objects", res.Objects, "records", res.Records)
}
