package compact

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loglake/loglake"
)

// Limits, with their reasons.
const (
	// maxBufferBytes caps Options.BufferBytes: Arrow string arrays have
	// 32-bit offsets, so one column of one run must stay under 2 GiB.
	maxBufferBytes = 1 << 30
	// maxNesting is the deepest nesting of objects and arrays a record may
	// have; deeper lines are kept whole in UnfitColumn. It bounds the
	// scanner's recursion.
	maxNesting = 512
	// manifestMaxBytes is the largest manifest decoded; larger ones are
	// corrupt (a manifest lists a day's files and raw objects: kilobytes to
	// a few megabytes).
	manifestMaxBytes = 64 << 20
)

// Options configure a [Compactor]. The zero value works; each field's doc
// gives its default.
type Options struct {
	// Concurrency is how many tenants [Compactor.Run] compacts at once
	// (one partition per tenant at a time). Peak memory is about
	// Concurrency × 2 × BufferBytes. Default: 2. Negative is invalid.
	Concurrency int

	// BufferBytes is how many bytes of decoded NDJSON one partition's
	// compaction holds in memory, as Arrow columns, before it sorts them
	// by time and writes them out as one Parquet file. A partition whose
	// raw data is larger becomes several files, each sorted (see the
	// package doc, "Memory"). Default: 128 MiB; at most 1 GiB. Negative
	// is invalid.
	BufferBytes int64

	// RowGroupRows is the number of rows per Parquet row group: the unit
	// in which readers skip by statistics. Default: 131072. Negative is
	// invalid.
	RowGroupRows int

	// PageBytes is the target uncompressed size of a Parquet data page:
	// the unit of the page index. Default: 256 KiB. Negative is invalid.
	PageBytes int

	// ZstdLevel is the zstd level of Parquet pages: 1 fastest, 2 default
	// (about zstd level 3, what DuckDB and Spark use), 3 better, 4 best.
	// Default: 2. Values outside 0-4 are invalid.
	ZstdLevel int

	// MaxFiles bounds the live Parquet files of a partition. Late raw data
	// is added as new files while the count stays within MaxFiles; past it
	// the partition is rewritten (see the package doc, "Late data").
	// Default: 16. Negative is invalid.
	MaxFiles int

	// MaxColumns bounds the columns of a partition; fields past it are
	// kept in [UnfitColumn]. Default: 1000. Negative is invalid.
	MaxColumns int

	// Pin fixes the types of the named columns. A value that does not fit
	// its pinned type is stored as null in its column and kept, as JSON,
	// in [UnfitColumn]. Columns not named are inferred. The lake's
	// timestamp field is always a timestamp column. Default: none.
	Pin Schema

	// MaxAttempts is how many times [Compactor.Run] tries a partition that
	// fails before it reports the failure. Default: 3. Negative is
	// invalid.
	MaxAttempts int

	// RetryBackoff is the pause before the second attempt at a partition;
	// it doubles for each later attempt, capped at 30 s, with jitter.
	// Default: 1 s. Negative is invalid.
	RetryBackoff time.Duration

	// KeepManifests is how many manifest generations of a partition are
	// kept (the newest ones); older ones are deleted after a commit.
	// Default: 4; at least 2. Negative is invalid.
	KeepManifests int

	// RedeliveryWindow is how long a manifest keeps remembering a raw
	// object it covered after that object was deleted, so that a batch
	// redelivered within the window (written again, with identical
	// content, under the same key) is recognised and not counted twice.
	// Default: 7 days. Negative is invalid.
	RedeliveryWindow time.Duration

	// DisableLeases turns off partition leases in [Compactor.Run] and
	// [Worker]: every partition is compacted by whoever gets to it, as
	// before leases existed. Safe (the manifest commit makes concurrent
	// compactions of a partition harmless) but wasteful when several
	// compactors share a lake. Default: false (leases on).
	DisableLeases bool

	// LeaseTTL is how long a partition's lease lasts unless renewed; the
	// holder renews it every LeaseTTL/3, and a compactor that dies holds
	// its partitions for at most this long. Clocks of compactors must
	// agree to well within LeaseTTL/3 (see [Compactor.TryLease]).
	// Default: 2 minutes. Negative values and values under 1 s are
	// invalid.
	LeaseTTL time.Duration

	// CommitterID names this compactor in manifests and in the names of
	// the files it writes. Default: host name, process id and a random
	// suffix.
	CommitterID string

	// Clock returns the current time. Default: time.Now.
	Clock func() time.Time

	// Hooks are called at points of a compaction; nil ones are skipped.
	Hooks Hooks

	// Logger receives progress at Debug and problems at Warn. Default:
	// silent.
	Logger *slog.Logger
}

// Step names a point in a partition's compaction, for [Hooks.AfterStep].
type Step string

// The steps of a compaction, in order. Each happens once per object.
const (
	StepReadManifest Step = "read-manifest" // the newest manifest was read (key: its key, or "")
	StepWroteFile    Step = "wrote-file"    // a new Parquet file is complete (key: the file)
	StepCommitted    Step = "committed"     // the next manifest generation exists (key: the manifest)
	StepDeletedRaw   Step = "deleted-raw"   // a covered raw object was deleted (key: the object)
	StepDeletedFile  Step = "deleted-file"  // a superseded Parquet file was deleted (key: the file)
	StepPruned       Step = "pruned"        // an old manifest generation was deleted (key: the manifest)
)

// Hooks are called during compactions. Each may be nil. They run on the
// goroutine of the compaction and must be safe for concurrent use when
// [Compactor.Run] compacts several tenants at once.
type Hooks struct {
	// OnStart is called when a partition's compaction starts.
	OnStart func(p loglake.Partition)
	// OnDone is called when a partition's compaction ends, each attempt.
	OnDone func(r Result, err error)
	// AfterStep is called after each step of the commit protocol. An error
	// stops the compaction on the spot, as if the process died there: no
	// clean-up runs and the error is returned. Tests use it to crash at
	// every step.
	AfterStep func(p loglake.Partition, step Step, key string) error
	// OnLeased is called when [Compactor.Run] or a [Worker] finds a
	// partition leased by another compactor (once per partition and
	// run or message); the partition is tried again later.
	OnLeased func(e *LeasedError)
}

func (o Options) withDefaults() Options {
	if o.Concurrency == 0 {
		o.Concurrency = 2
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = 128 << 20
	}
	if o.RowGroupRows == 0 {
		o.RowGroupRows = 128 << 10
	}
	if o.PageBytes == 0 {
		o.PageBytes = 256 << 10
	}
	if o.ZstdLevel == 0 {
		o.ZstdLevel = 2
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = 16
	}
	if o.MaxColumns == 0 {
		o.MaxColumns = 1000
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = time.Second
	}
	if o.KeepManifests == 0 {
		o.KeepManifests = 4
	}
	if o.RedeliveryWindow == 0 {
		o.RedeliveryWindow = 7 * 24 * time.Hour
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	if o.CommitterID == "" {
		o.CommitterID = defaultCommitterID()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Pin = sortSchema(o.Pin)
	return o
}

func (o Options) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.Concurrency < 0 {
		bad("Concurrency %d: want >= 0", o.Concurrency)
	}
	if o.BufferBytes < 0 || o.BufferBytes > maxBufferBytes {
		bad("BufferBytes %d: want 0 to %d", o.BufferBytes, maxBufferBytes)
	}
	if o.RowGroupRows < 0 {
		bad("RowGroupRows %d: want >= 0", o.RowGroupRows)
	}
	if o.PageBytes < 0 {
		bad("PageBytes %d: want >= 0", o.PageBytes)
	}
	if o.ZstdLevel < 0 || o.ZstdLevel > 4 {
		bad("ZstdLevel %d: want 0 to 4", o.ZstdLevel)
	}
	if o.MaxFiles < 0 {
		bad("MaxFiles %d: want >= 0", o.MaxFiles)
	}
	if o.MaxColumns < 0 {
		bad("MaxColumns %d: want >= 0", o.MaxColumns)
	}
	if o.MaxAttempts < 0 {
		bad("MaxAttempts %d: want >= 0", o.MaxAttempts)
	}
	if o.RetryBackoff < 0 {
		bad("RetryBackoff %v: want >= 0", o.RetryBackoff)
	}
	if o.KeepManifests < 0 || o.KeepManifests == 1 {
		bad("KeepManifests %d: want 0 or >= 2", o.KeepManifests)
	}
	if o.RedeliveryWindow < 0 {
		bad("RedeliveryWindow %v: want >= 0", o.RedeliveryWindow)
	}
	if o.LeaseTTL < 0 || o.LeaseTTL > 0 && o.LeaseTTL < time.Second {
		bad("LeaseTTL %v: want 0 or >= 1s", o.LeaseTTL)
	}
	if o.CommitterID != "" && !validCommitterID(o.CommitterID) {
		bad("CommitterID %q: want 1-64 bytes of [A-Za-z0-9._-]", o.CommitterID)
	}
	for _, f := range o.Pin {
		if f.Name == "" || f.Name == UnfitColumn {
			bad("Pin: column name %q is reserved or empty", f.Name)
		}
		if !f.Type.Valid() {
			bad("Pin: column %q has unknown type %q", f.Name, f.Type)
		}
	}
	for i := 1; i < len(o.Pin); i++ {
		if o.Pin[i].Name == o.Pin[i-1].Name {
			bad("Pin: column %q named twice", o.Pin[i].Name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: compact: %s", loglake.ErrInvalidOptions, strings.Join(errs, "; "))
	}
	return nil
}

func validCommitterID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func defaultCommitterID() string {
	host, _ := os.Hostname()
	var b strings.Builder
	for i := 0; i < len(host) && b.Len() < 24; i++ {
		c := host[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		b.WriteString("host")
	}
	b.WriteString("-" + strconv.Itoa(os.Getpid()) + "-")
	return b.String() + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Stats are counters of a Compactor's work since it was created.
type Stats struct {
	Partitions     int64 // compactions attempted
	Compacted      int64 // compactions that committed a new generation
	Unchanged      int64 // compactions that found nothing new
	Conflicts      int64 // compactions that lost the commit race and cleaned up
	Failed         int64 // compactions that returned an error
	RawObjects     int64 // raw objects read
	InputBytes     int64 // decoded NDJSON bytes read from raw objects
	Records        int64 // records written to Parquet (rewritten ones included)
	FilesWritten   int64 // Parquet files written (including ones later removed after a lost race)
	BytesWritten   int64 // bytes of those files
	RawDeleted     int64 // covered raw objects deleted
	FilesDeleted   int64 // superseded or unreferenced Parquet files deleted
	UnfitValues    int64 // values kept in UnfitColumn
	MalformedLines int64 // lines that were not JSON objects (kept in UnfitColumn)
	InvalidUTF8    int64 // string values whose invalid UTF-8 was replaced by U+FFFD
}

type stats struct {
	partitions, compacted, unchanged, conflicts, failed     atomic.Int64
	rawObjects, inputBytes, records, filesWritten, bytesOut atomic.Int64
	rawDeleted, filesDeleted, unfit, malformed, badUTF8     atomic.Int64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Partitions: s.partitions.Load(), Compacted: s.compacted.Load(), Unchanged: s.unchanged.Load(),
		Conflicts: s.conflicts.Load(), Failed: s.failed.Load(), RawObjects: s.rawObjects.Load(),
		InputBytes: s.inputBytes.Load(), Records: s.records.Load(), FilesWritten: s.filesWritten.Load(),
		BytesWritten: s.bytesOut.Load(), RawDeleted: s.rawDeleted.Load(), FilesDeleted: s.filesDeleted.Load(),
		UnfitValues: s.unfit.Load(), MalformedLines: s.malformed.Load(), InvalidUTF8: s.badUTF8.Load(),
	}
}
