package ingest

import (
	"fmt"
	"strings"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/envelope"
	"github.com/loglake/loglake/internal/rawcodec"
)

// Limits and defaults, with their reasons, in one place.
const (
	// DefaultBufferBytes is Firehose's default buffering size (5 MiB,
	// measured before compression): large enough that a partition's raw
	// objects are few per minute, small enough that 500 active partitions
	// are not all full at once under the default memory budget.
	DefaultBufferBytes = 5 << 20
	// MaxBufferBytes is Firehose's largest buffering size (128 MiB).
	MaxBufferBytes = 128 << 20
	// MaxBufferInterval is Firehose's longest buffering interval (900 s).
	MaxBufferInterval = 900 * time.Second
	// RecommendedBufferInterval is the interval a long-running service
	// should set to make records searchable within about a minute, as the
	// lake promises for recent logs (Firehose defaults to 300 s). It is not
	// the default: BufferInterval 0 means no age-based flush.
	RecommendedBufferInterval = 60 * time.Second
	// DefaultMaxBufferedBytes bounds the memory of all buffers and uploads
	// in flight: 256 MiB, well under 1 GiB so that an ingestion Lambda of
	// 1 GiB or a small container has room for the rest.
	DefaultMaxBufferedBytes = 256 << 20
	// DefaultMaxActivePartitions is Firehose's default active-partition
	// quota.
	DefaultMaxActivePartitions = 500
	// DefaultMaxRecordBytes is the largest formatted record accepted (1 MiB;
	// Firehose's limit is 1,000 KiB).
	DefaultMaxRecordBytes = 1 << 20
	// DefaultMaxRetries is the number of retries of a failed upload before
	// its buffer is spilled.
	DefaultMaxRetries = 5
	// DefaultRetryBaseDelay and DefaultRetryMaxDelay shape the exponential
	// backoff (full jitter) between retries: 100 ms, 200 ms, … up to 5 s.
	DefaultRetryBaseDelay = 100 * time.Millisecond
	DefaultRetryMaxDelay  = 5 * time.Second
	// DefaultLogField is the envelope field that holds the records.
	DefaultLogField = "log"
	// chunkBytes is how much formatted data Add gathers before it takes
	// the Ingestor's lock to route it: big enough to amortise the lock,
	// small enough to keep Add's scratch memory a small constant.
	chunkBytes = 1 << 20
	// runBytes cuts a run of records bound for one partition, so that an
	// object overshoots BufferBytes by at most this much.
	runBytes = 64 << 10
)

// Policy says what happens when a record would open a partition past the
// active-partition quota.
type Policy int

// Active-partition policies.
const (
	// FlushOldest flushes the least recently written partition (of the
	// tenant, when the tenant is at its cap) early and gives its slot to
	// the new one. It never fails. The default.
	FlushOldest Policy = iota
	// Block makes Add wait until a slot frees (a partition is flushed by
	// size, age, memory or Flush) or its ctx ends.
	Block
	// Reject refuses the records with [loglake.ErrTooManyActivePartitions],
	// as Firehose does; they are named in the returned *FlushError.
	Reject
)

func (p Policy) String() string {
	switch p {
	case FlushOldest:
		return "FlushOldest"
	case Block:
		return "Block"
	case Reject:
		return "Reject"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// MissingTime says what happens to a record without a usable event time
// (no timestamp field, or one in no accepted format).
type MissingTime int

// Missing-time policies.
const (
	// ArrivalTime routes the record to the day it arrived (in the lake's
	// time zone). The default.
	ArrivalTime MissingTime = iota
	// DeadLetter sends it to errors/missing_timestamp/ or
	// errors/invalid_timestamp/.
	DeadLetter
)

// Options configure an [Ingestor]. The zero value works: every field's zero
// value means its default.
type Options struct {
	// CarryFields are envelope-level fields copied into each record, after
	// the tenant field (e.g. "device_id"). A record that has its own field
	// of that name keeps its own. Default: none. At most 64; the tenant,
	// timestamp and log fields may not be named.
	CarryFields []string

	// LogField is the envelope field that holds the array of records.
	// Default: "log".
	LogField string

	// MissingTime says where records without a usable time go. Default:
	// ArrivalTime.
	MissingTime MissingTime

	// BufferBytes flushes a partition when its buffer reaches this many
	// bytes of formatted NDJSON (before compression; an object may exceed
	// it by up to 64 KiB). Default: 5 MiB, Firehose's default. At most 128
	// MiB, Firehose's maximum. Negative is invalid.
	BufferBytes int

	// BufferInterval flushes a partition when its oldest buffered record
	// has waited this long. 0 means no age-based flush: buffers go out by
	// size, memory pressure, the quota and explicit Flush only (what a
	// Lambda, which flushes before it returns, wants). Services that run
	// for long should set [RecommendedBufferInterval] (60 s) so records are
	// searchable within about a minute; Firehose allows 0–900 s and
	// defaults to 300 s. Default: 0. Negative or over 900 s is invalid.
	BufferInterval time.Duration

	// MaxBufferedBytes bounds the bytes held by all buffers and by uploads
	// in flight. When reached, the largest buffers are flushed first; when
	// everything is already in flight, Add waits (OnStall reports it).
	// Default: 256 MiB. Negative is invalid.
	MaxBufferedBytes int64

	// MaxActivePartitions is the quota of partitions buffering at once.
	// Default: 500, Firehose's default. Negative is invalid.
	MaxActivePartitions int

	// MaxActivePartitionsPerTenant caps the slots one tenant may hold, so
	// that a tenant backfilling years of data cannot take every slot.
	// Default: MaxActivePartitions/5 (100 at the default quota), at least
	// 1. It may not exceed MaxActivePartitions. Negative is invalid.
	MaxActivePartitionsPerTenant int

	// Policy is what happens at the quota. Default: FlushOldest.
	Policy Policy

	// MaxRecordBytes is the largest formatted record (tenant and carried
	// fields included, newline excluded) accepted; larger ones are dead
	// letters (reason too_large). Default: 1 MiB. Negative is invalid.
	MaxRecordBytes int

	// Compression is the codec of the objects written. Default: the lake's
	// Settings().RawCompression.
	Compression loglake.Compression

	// ZstdLevel is the zstd level of the objects written when Compression
	// is zstd: 1 fastest, 2 default (about zstd level 3), 3 better,
	// 4 best. Higher levels cost ingest CPU once and pay back on every
	// query of the raw data and in storage: on generated logs, level 2
	// encodes about 12% slower than level 1, writes objects 6% smaller
	// and decodes them 10% faster; level 3 encodes about 40% slower than
	// level 1, writes objects 18% smaller and decodes them 25% faster.
	// At every level the frames keep to a 256 KiB window, which decoders
	// hold in cache, and carry zstd's content checksum.
	// Default: 2. Values outside 0-4 are invalid.
	ZstdLevel int

	// MaxConcurrentUploads bounds the uploads (each compresses its object
	// first) running at once. Default: 2×GOMAXPROCS, at least 4: uploads
	// wait on the network, compression on the CPU. Negative is invalid.
	MaxConcurrentUploads int

	// MaxRetries is how many times a failed upload is retried (with
	// exponential backoff and full jitter) before its buffer is spilled.
	// Default: 5. Negative means no retries.
	MaxRetries int

	// RetryBaseDelay is the first backoff; each retry doubles it, up to
	// RetryMaxDelay. Defaults: 100 ms and 5 s. Negative is invalid.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration

	// WriterID names this writer in object names and under spill/. Use
	// [A-Za-z0-9_-], at most 32 bytes. Default: a random id per Ingestor.
	// Object names also hold a random run id, so two Ingestors with one
	// WriterID never overwrite each other.
	WriterID string

	// Hooks observe the Ingestor. Nil hooks are no-ops.
	Hooks Hooks

	// now is the clock (tests).
	now func() time.Time
}

// Hooks are called from the Ingestor's goroutines; they must be quick and
// safe for concurrent use. A nil hook is a no-op.
type Hooks struct {
	// OnFlush is called after an object was written to raw/ or errors/.
	OnFlush func(FlushInfo)
	// OnSpill is called after a buffer whose upload failed was written to
	// spill/ instead.
	OnSpill func(FlushInfo)
	// OnStall is called when Add starts waiting for memory or, under the
	// Block policy, for a partition slot; Wait is 0 at the start and the
	// time waited when the stall ends.
	OnStall func(StallInfo)
}

// FlushInfo describes one object written.
type FlushInfo struct {
	Key       string
	Partition loglake.Partition // zero for dead letters
	Reason    Reason            // for dead letters
	Records   int
	Bytes     int // uncompressed
	Written   int // compressed bytes written
	Attempts  int
	Err       error // for OnSpill: the upload's last error
}

// StallInfo describes a wait of Add.
type StallInfo struct {
	Cause string // "memory" or "partitions"
	Wait  time.Duration
}

func (o Options) withDefaults(lake *loglake.Lake) Options {
	if o.LogField == "" {
		o.LogField = DefaultLogField
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = DefaultBufferBytes
	}
	if o.MaxBufferedBytes == 0 {
		o.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if o.MaxActivePartitions == 0 {
		o.MaxActivePartitions = DefaultMaxActivePartitions
	}
	if o.MaxActivePartitionsPerTenant == 0 && o.MaxActivePartitions > 0 {
		o.MaxActivePartitionsPerTenant = max(1, o.MaxActivePartitions/5)
	}
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.ZstdLevel == 0 {
		o.ZstdLevel = rawcodec.LevelDefault
	}
	if o.Compression == "" && lake != nil {
		o.Compression = lake.Settings().RawCompression
	}
	if o.MaxConcurrentUploads == 0 {
		o.MaxConcurrentUploads = max(4, 2*gomaxprocs())
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RetryBaseDelay == 0 {
		o.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if o.RetryMaxDelay == 0 {
		o.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.CarryFields = append([]string(nil), o.CarryFields...)
	return o
}

// validate reports every bad field of defaulted options.
func (o Options) validate(s loglake.Settings) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.BufferBytes < 0 || o.BufferBytes > MaxBufferBytes {
		bad("BufferBytes %d: want 1 to %d (0 = %d)", o.BufferBytes, MaxBufferBytes, DefaultBufferBytes)
	}
	if o.BufferInterval < 0 || o.BufferInterval > MaxBufferInterval {
		bad("BufferInterval %v: want 0 (no age-based flush) to %v", o.BufferInterval, MaxBufferInterval)
	}
	if o.MaxBufferedBytes < 0 {
		bad("MaxBufferedBytes %d: want > 0 (0 = %d)", o.MaxBufferedBytes, DefaultMaxBufferedBytes)
	}
	if o.MaxActivePartitions < 0 {
		bad("MaxActivePartitions %d: want > 0 (0 = %d)", o.MaxActivePartitions, DefaultMaxActivePartitions)
	}
	if o.MaxActivePartitionsPerTenant < 0 || o.MaxActivePartitions > 0 && o.MaxActivePartitionsPerTenant > o.MaxActivePartitions {
		bad("MaxActivePartitionsPerTenant %d: want 1 to MaxActivePartitions (%d)", o.MaxActivePartitionsPerTenant, o.MaxActivePartitions)
	}
	if o.Policy < FlushOldest || o.Policy > Reject {
		bad("Policy %v: want FlushOldest, Block or Reject", o.Policy)
	}
	if o.MissingTime < ArrivalTime || o.MissingTime > DeadLetter {
		bad("MissingTime %d: want ArrivalTime or DeadLetter", int(o.MissingTime))
	}
	if o.MaxRecordBytes < 0 {
		bad("MaxRecordBytes %d: want > 0 (0 = %d)", o.MaxRecordBytes, DefaultMaxRecordBytes)
	}
	if o.ZstdLevel < 0 || o.ZstdLevel > rawcodec.LevelBest {
		bad("ZstdLevel %d: want 0 to %d", o.ZstdLevel, rawcodec.LevelBest)
	}
	switch o.Compression {
	case loglake.CompressionZstd, loglake.CompressionGzip, loglake.CompressionNone:
	default:
		bad("Compression %q: want zstd, gzip or none", o.Compression)
	}
	if o.MaxConcurrentUploads < 0 {
		bad("MaxConcurrentUploads %d: want > 0", o.MaxConcurrentUploads)
	}
	if o.RetryBaseDelay < 0 {
		bad("RetryBaseDelay %v: want >= 0", o.RetryBaseDelay)
	}
	if o.RetryMaxDelay < 0 || o.RetryMaxDelay < o.RetryBaseDelay {
		bad("RetryMaxDelay %v: want >= RetryBaseDelay (%v)", o.RetryMaxDelay, o.RetryBaseDelay)
	}
	if o.WriterID != "" && !validName(o.WriterID, 32) {
		bad("WriterID %q: want 1 to 32 bytes of [A-Za-z0-9_-]", o.WriterID)
	}
	if !validField(o.LogField) {
		bad("LogField %q: want 1-128 printable ASCII bytes without quotes or backslashes", o.LogField)
	}
	if o.LogField == s.TenantField || o.LogField == s.TimestampField {
		bad("LogField %q: is the lake's tenant or timestamp field", o.LogField)
	}
	if len(o.CarryFields) > envelope.MaxCarryFields {
		bad("CarryFields: %d fields, at most %d", len(o.CarryFields), envelope.MaxCarryFields)
	}
	seen := map[string]bool{}
	for _, f := range o.CarryFields {
		switch {
		case !validField(f):
			bad("CarryFields %q: want 1-128 printable ASCII bytes without quotes or backslashes", f)
		case f == s.TenantField || f == s.TimestampField || f == o.LogField:
			bad("CarryFields %q: the tenant, timestamp and log fields cannot be carried", f)
		case seen[f]:
			bad("CarryFields %q: named twice", f)
		}
		seen[f] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: ingest: %s", loglake.ErrInvalidOptions, strings.Join(errs, "; "))
	}
	return nil
}

func validField(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validName reports whether s is 1 to max bytes of [A-Za-z0-9_-].
func validName(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
