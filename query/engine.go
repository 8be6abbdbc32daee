package query

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/projection"
)

// Limits and sizes of the engine, with their reasons.
const (
	// DefaultMaxConcurrentPerTenant is the default of
	// [Options.MaxConcurrentPerTenant]: enough for a dashboard's parallel
	// panels, few enough that one tenant cannot take every core.
	DefaultMaxConcurrentPerTenant = 4
	// DefaultMaxResultRows is the default of [Options.MaxResultRows]: a
	// million rows is more than anyone reads, and bounds what a query holds
	// for ORDER BY and per partition.
	DefaultMaxResultRows = 1_000_000
	// DefaultProbeParallelism is the default of [Options.ProbeParallelism]:
	// a partition's probe is two LISTs, bound by the store's latency
	// (tens of milliseconds on S3), not by CPU; 32 at once take a
	// five-year window of 1,826 partitions in about 57 rounds.
	DefaultProbeParallelism = 32
	// DefaultBatchRows is the default of [Options.BatchRows].
	DefaultBatchRows = 4096
	// maxPartitionAttempts bounds how often one partition is read again
	// because its objects vanished (each time a compaction committed
	// between the snapshot and the read).
	maxPartitionAttempts = 10
	// rawBlockSize is the unit in which raw objects are decompressed and
	// searched, and in which ctx and the scan limit are checked.
	rawBlockSize = 4 << 20
	// crossTenantKey is the concurrency-limit key of cross-tenant queries;
	// it cannot collide with a tenant id ('*' is not in the charset).
	crossTenantKey = "*"
)

// Options configure an [Engine]. The zero value works; each field's doc
// gives its default.
type Options struct {
	// Parallelism is how many objects (Parquet files, raw objects) a query
	// reads at once. Default: GOMAXPROCS. Negative is invalid.
	Parallelism int

	// ProbeParallelism is how many partitions a query probes at once: the
	// Snapshot that tells whether a partition holds data and which
	// objects (on S3, two LISTs inside the partition). Probes run ahead
	// of the reading, in plan order, so that a query over a long window
	// of mostly empty days costs about partitions/ProbeParallelism round
	// trips rather than partitions/(2×Parallelism). The bucket is never
	// listed to find partitions (invariant 5). Default:
	// [DefaultProbeParallelism], or 2×Parallelism if that is more.
	// Negative is invalid.
	ProbeParallelism int

	// AllowCrossTenant lets queries that do not constrain tenant_id read
	// every tenant. Finding the tenants then lists the bucket's top-level
	// tenant prefixes. Meant for operators' tools, never for an engine that
	// runs tenants' queries. Default: false: such queries fail with
	// [ErrUnscopedQuery].
	AllowCrossTenant bool

	// MaxBytesScanned stops a query that has examined more uncompressed
	// bytes (see [Stats.BytesScanned]) with a [*LimitError] matching
	// [loglake.ErrScanLimitExceeded]. The check runs per block, so a query
	// stops within one block (a few MiB) of the limit. Default: 0, no
	// limit. Negative is invalid.
	MaxBytesScanned int64

	// MaxConcurrentPerTenant is how many queries of one tenant run at once;
	// a query over several tenants takes a slot of each, and a
	// cross-tenant query one slot of its own pool. Further queries wait
	// for a slot (or their ctx), or fail at once with
	// [loglake.ErrTooManyQueries] under NoQueue. Default:
	// [DefaultMaxConcurrentPerTenant]. Negative means no limit.
	MaxConcurrentPerTenant int

	// NoQueue makes a query that finds its tenant's slots taken fail with
	// [loglake.ErrTooManyQueries] instead of waiting. Default: false, wait.
	NoQueue bool

	// MaxResultRows bounds the rows a query returns, the rows it holds for
	// ORDER BY, and the groups of GROUP BY; past it the query fails with a
	// [*LimitError] matching [ErrTooManyRows]. LIMIT n within the bound
	// never fails. Default: [DefaultMaxResultRows]. Negative means no
	// limit.
	MaxResultRows int64

	// MaxPatternLen is the longest LIKE pattern accepted, in bytes; longer
	// ones fail with [ErrPatternTooLong]. Default and maximum:
	// [MaxPatternLen]. Negative is invalid.
	MaxPatternLen int

	// MaxPartitions bounds how many partitions one query may consider.
	// Default: projection.DefaultMaxPartitions (Athena's limit).
	// Negative is invalid.
	MaxPartitions int

	// RetentionDays is how far back queries look: the dt projection range
	// is NOW-RetentionDays..NOW. Default:
	// projection.DefaultRetentionDays (five years). Negative is invalid.
	RetentionDays int

	// BatchRows is the number of rows per returned record batch.
	// Default: [DefaultBatchRows]. Negative is invalid.
	BatchRows int

	// Now is the clock of the dt projection's NOW. Default: time.Now.
	Now func() time.Time
}

func (o Options) validate() error {
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, fmt.Errorf("query: Options.%s = %v: %s", field, v, why))
	}
	if o.Parallelism < 0 {
		bad("Parallelism", o.Parallelism, "negative")
	}
	if o.ProbeParallelism < 0 {
		bad("ProbeParallelism", o.ProbeParallelism, "negative")
	}
	if o.MaxBytesScanned < 0 {
		bad("MaxBytesScanned", o.MaxBytesScanned, "negative")
	}
	if o.MaxPatternLen < 0 || o.MaxPatternLen > MaxPatternLen {
		bad("MaxPatternLen", o.MaxPatternLen, fmt.Sprintf("want 0 to %d", MaxPatternLen))
	}
	if o.MaxPartitions < 0 {
		bad("MaxPartitions", o.MaxPartitions, "negative")
	}
	if o.RetentionDays < 0 {
		bad("RetentionDays", o.RetentionDays, "negative")
	}
	if o.BatchRows < 0 {
		bad("BatchRows", o.BatchRows, "negative")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", loglake.ErrInvalidOptions, errors.Join(errs...))
}

// withDefaults returns a copy of o with defaults filled in.
func (o Options) withDefaults() Options {
	if o.Parallelism == 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	if o.ProbeParallelism == 0 {
		o.ProbeParallelism = max(DefaultProbeParallelism, 2*o.Parallelism)
	}
	if o.MaxConcurrentPerTenant == 0 {
		o.MaxConcurrentPerTenant = DefaultMaxConcurrentPerTenant
	}
	if o.MaxResultRows == 0 {
		o.MaxResultRows = DefaultMaxResultRows
	}
	if o.MaxPatternLen == 0 {
		o.MaxPatternLen = MaxPatternLen
	}
	if o.MaxPartitions == 0 {
		o.MaxPartitions = projection.DefaultMaxPartitions
	}
	if o.RetentionDays == 0 {
		o.RetentionDays = projection.DefaultRetentionDays
	}
	if o.BatchRows == 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Engine runs queries over one lake. It is safe for concurrent use. Each
// query's work is owned by its [Rows]: close them. [Engine.Close] cancels
// the queries still running and waits for them.
type Engine struct {
	lake     *loglake.Lake    // nil for a foreign engine (see NewForeign)
	src      *foreignSource   // nil for an engine over a lake
	settings loglake.Settings // the record conventions: tenant and timestamp fields, time formats
	loc      *time.Location   // the zone of dt
	opts     Options
	proj     *projection.Config

	mu      sync.Mutex
	closed  bool
	slots   map[string]chan struct{} // per tenant (and crossTenantKey)
	running map[*Rows]struct{}
	wg      sync.WaitGroup
}

// New returns an Engine over lake. opts may be nil. Every invalid option
// is reported in one error wrapping [loglake.ErrInvalidOptions].
func New(lake *loglake.Lake, opts *Options) (*Engine, error) {
	if lake == nil {
		return nil, fmt.Errorf("%w: query: nil lake", loglake.ErrInvalidOptions)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	// An engine is made to query: the first-use work of reading Parquet
	// starts now, on a core that is idle while the query is planned.
	warmParquet()
	return &Engine{
		lake:     lake,
		settings: lake.Settings(),
		loc:      lake.Location(),
		opts:     o,
		proj:     projection.Default("", o.RetentionDays, lake.Location()),
		slots:    map[string]chan struct{}{},
		running:  map[*Rows]struct{}{},
	}, nil
}

// Close cancels the queries still running, waits until their goroutines
// have ended, and marks the engine closed: later calls, a second Close
// included, return [loglake.ErrClosed]. It does not close the lake.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return loglake.ErrClosed
	}
	e.closed = true
	for r := range e.running {
		r.cancel()
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// acquire takes a concurrency slot of each key (sorted, so that two
// queries over overlapping tenants cannot deadlock), waiting unless
// NoQueue. It returns the function that gives them back.
func (e *Engine) acquire(ctx context.Context, keys []string) (func(), error) {
	if e.opts.MaxConcurrentPerTenant < 0 {
		return func() {}, nil
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var held []chan struct{}
	release := func() {
		for _, s := range held {
			<-s
		}
	}
	for _, k := range keys {
		e.mu.Lock()
		s := e.slots[k]
		if s == nil {
			s = make(chan struct{}, e.opts.MaxConcurrentPerTenant)
			e.slots[k] = s
		}
		e.mu.Unlock()
		if e.opts.NoQueue {
			select {
			case s <- struct{}{}:
				held = append(held, s)
				continue
			default:
				release()
				return nil, fmt.Errorf("query: tenant %s runs %d queries: %w", k, e.opts.MaxConcurrentPerTenant, loglake.ErrTooManyQueries)
			}
		}
		select {
		case s <- struct{}{}:
			held = append(held, s)
		case <-ctx.Done():
			release()
			return nil, fmt.Errorf("query: waiting for a slot of tenant %s: %w", k, ctx.Err())
		}
	}
	return release, nil
}
