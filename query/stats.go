package query

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Stats describe what a query cost, in the spirit of Athena's "data
// scanned". [Rows.Stats] returns them; they are complete once the rows are
// drained or closed, and they come with errors such as
// [loglake.ErrScanLimitExceeded] (see [*LimitError]).
type Stats struct {
	// PartitionsConsidered is how many tenant-day partitions the plan
	// enumerated from the query's tenant and time constraints.
	PartitionsConsidered int64
	// PartitionsRead is how many of them held data (a manifest or raw
	// objects) and were read.
	PartitionsRead int64
	// PartitionsEmpty is how many were probed (see
	// [Options.ProbeParallelism]) and found to hold nothing. Partitions
	// neither read nor empty were not probed: an ORDER BY timestamp LIMIT
	// query stopped before them, or the query ended early.
	PartitionsEmpty int64
	// PartitionRetries counts partitions read again because an object
	// vanished under the query (a compaction committed meanwhile).
	PartitionRetries int64
	// ObjectsOpened counts Parquet files and raw objects opened.
	ObjectsOpened int64
	// FilesSkipped counts Parquet files skipped by their time range or
	// because a column the WHERE clause needs is absent.
	FilesSkipped int64
	// BytesRead is how many bytes were fetched from storage: compressed
	// raw objects, Parquet footers and column chunks. This is what Athena
	// bills as "data scanned".
	BytesRead int64
	// BytesScanned is how many uncompressed bytes were examined: the
	// decompressed NDJSON of raw objects and the uncompressed size of the
	// Parquet column chunks read. [Options.MaxBytesScanned] limits it.
	BytesScanned int64
	// RowGroups counts the Parquet row groups considered, and
	// RowGroupsSkipped those skipped by timestamp statistics or because no
	// row could match.
	RowGroups        int64
	RowGroupsSkipped int64
	// PagesSkipped counts the pages of the timestamp column that a query
	// with a narrow time range skipped by their page-index min/max (the
	// other columns' pages at those rows are not read either).
	PagesSkipped int64
	// RowsScanned counts the records of the objects read (in skipped row
	// groups too), RowsMatched those for which WHERE was TRUE, and
	// RowsReturned the result rows.
	RowsScanned  int64
	RowsMatched  int64
	RowsReturned int64
	// ValuesDropped counts JSON values of a foreign layout's objects (see
	// [NewForeign]) that were skipped: malformed, not an object, invalid
	// UTF-8, or an envelope element that is not an object. Always 0 on a
	// lake, whose ingest dead-letters such input.
	ValuesDropped int64
	// QueueTime is how long the query waited for a slot of its tenants'
	// concurrency limit.
	QueueTime time.Duration
	// Duration is the time from the call to Query until the last batch
	// (or until now, while the query runs), queueing included.
	Duration time.Duration
}

// String renders the stats on one line, for logs and the CLI.
func (s Stats) String() string {
	return fmt.Sprintf("partitions %d considered, %d read (%d retried), %d empty; objects %d opened, %d files skipped; "+
		"%s read, %s scanned; row groups %d, %d skipped, %d pages skipped; rows %d scanned, %d matched, %d returned; queued %v; %v",
		s.PartitionsConsidered, s.PartitionsRead, s.PartitionRetries, s.PartitionsEmpty, s.ObjectsOpened, s.FilesSkipped,
		byteSize(s.BytesRead), byteSize(s.BytesScanned), s.RowGroups, s.RowGroupsSkipped, s.PagesSkipped,
		s.RowsScanned, s.RowsMatched, s.RowsReturned, s.QueueTime.Round(time.Microsecond), s.Duration.Round(time.Microsecond))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// counters are the live, atomic form of Stats, shared by a query's workers.
type counters struct {
	partitionsConsidered, partitionsRead, partitionRetries atomic.Int64
	partitionsEmpty                                        atomic.Int64
	objectsOpened, filesSkipped                            atomic.Int64
	bytesRead, bytesScanned                                atomic.Int64
	rowGroups, rowGroupsSkipped, pagesSkipped              atomic.Int64
	rowsScanned, rowsMatched, rowsReturned                 atomic.Int64
	valuesDropped                                          atomic.Int64
	queue                                                  atomic.Int64 // ns
	start                                                  time.Time
	end                                                    atomic.Int64 // ns since start; 0 while running
}

func (c *counters) snapshot() Stats {
	s := Stats{
		PartitionsConsidered: c.partitionsConsidered.Load(),
		PartitionsRead:       c.partitionsRead.Load(),
		PartitionsEmpty:      c.partitionsEmpty.Load(),
		PartitionRetries:     c.partitionRetries.Load(),
		ObjectsOpened:        c.objectsOpened.Load(),
		FilesSkipped:         c.filesSkipped.Load(),
		BytesRead:            c.bytesRead.Load(),
		BytesScanned:         c.bytesScanned.Load(),
		RowGroups:            c.rowGroups.Load(),
		RowGroupsSkipped:     c.rowGroupsSkipped.Load(),
		PagesSkipped:         c.pagesSkipped.Load(),
		RowsScanned:          c.rowsScanned.Load(),
		RowsMatched:          c.rowsMatched.Load(),
		RowsReturned:         c.rowsReturned.Load(),
		ValuesDropped:        c.valuesDropped.Load(),
		QueueTime:            time.Duration(c.queue.Load()),
	}
	if e := c.end.Load(); e > 0 {
		s.Duration = time.Duration(e)
	} else {
		s.Duration = time.Since(c.start)
	}
	return s
}

func (c *counters) finish() {
	d := int64(time.Since(c.start))
	if d <= 0 {
		d = 1
	}
	c.end.CompareAndSwap(0, d)
}

// LimitError is the error of a query stopped by a limit of its engine. It
// matches the limit's sentinel with errors.Is — loglake.ErrScanLimitExceeded
// for [Options.MaxBytesScanned], [ErrTooManyRows] for
// [Options.MaxResultRows] — and carries the stats gathered until then.
type LimitError struct {
	Limit int64  // the limit that was exceeded
	What  string // what was counted, e.g. "bytes scanned"
	Stats Stats  // the query's stats when it stopped
	Err   error  // the sentinel
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("query: more than %d %s: %v", e.Limit, e.What, e.Err)
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }
