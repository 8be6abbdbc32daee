// Package projection is loglake's partition projection: it computes which
// partitions a query can touch, and where they are, from table properties
// alone — never by listing a bucket or asking a catalogue (invariant 5 of
// the design). It speaks Athena's exact property language, so the same
// lake can be queried by Athena or Trino, and it writes the CREATE EXTERNAL
// TABLE statements that let them.
//
// # Properties
//
// A [Config] is what a table's TBLPROPERTIES say about its partitions.
// [Parse] reads them and [Config.Properties] writes them back:
//
//	projection.enabled              true | false
//	projection.<col>.type           enum | integer | date | injected
//	projection.<col>.values         enum: A,B,C (white space is part of a value)
//	projection.<col>.range          integer: 0,10  date: 2021/01/01,NOW or NOW-5YEARS,NOW+1DAY
//	projection.<col>.format         date: a java.time DateTimeFormatter pattern
//	projection.<col>.interval       integer, date: a positive step (default 1)
//	projection.<col>.interval.unit  date: YEARS MONTHS WEEKS DAYS HOURS MINUTES SECONDS MILLIS
//	projection.<col>.digits         integer: zero-pad to this width
//	storage.location.template       s3://bucket/prefix/${col}/... (every column, repeats allowed)
//
// Date patterns support the numeric fields partition layouts use — y/u
// (yyyy, yy), M/MM, d/dd, H/HH, m/mm, s/ss, SSS — and literal text (quoted
// 'T', or any non-letter such as - / _ :). Text fields (MMM, EEE), zones,
// week-based years and optional sections are rejected with an error naming
// the property, so a pattern loglake accepts renders exactly as Athena
// renders it. Athena has no epoch-seconds date pattern; partition by epoch
// with an integer column. A date format's finest field sets the default
// interval unit for day and month patterns; finer patterns need
// interval.unit, as in Athena.
//
// Unknown properties under projection., properties that do not belong to
// the column's type, missing required ones, ranges that do not parse and
// templates that miss a column are errors; [Parse] reports them all at once,
// each as a [*PropertyError] naming the property.
//
// # Enumeration
//
// [Config.Enumerate] takes per-column [Constraint]s — what a WHERE clause
// says: = and IN ([Eq], [In]), ranges on integer and date columns
// ([IntRange], [DateRange], or any [Bound]s), and [Overlapping] for a
// range of event time — and yields the matching partitions lazily, as an
// iter.Seq2:
//
//	cfg := projection.Default("s3://bucket/lake", 0, nil)
//	for p, err := range cfg.Enumerate(map[string]projection.Constraint{
//		"tenant_id": projection.Eq("acme"),
//		"dt":        projection.Overlapping(from, to),
//	}, &projection.EnumerateOptions{Descending: true}) {
//		if err != nil { ... }
//		read(p.Location) // "s3://bucket/lake/compacted/tenant_id=acme/dt=2024-03-10/"
//	}
//
// The order is documented on [Config.Enumerate] and depends only on the
// inputs. NOW is read from [EnumerateOptions.Now], so tests are
// deterministic. Before yielding anything, Enumerate counts the selection
// and fails with [ErrTooManyPartitions] above
// [EnumerateOptions.MaxPartitions] (default one million, Athena's limit).
// [Config.Count] gives the count alone.
//
// As in Athena, an injected column needs = or IN; a range that misses the
// projection yields nothing rather than an error; values that are not in the
// projection (a date in another format, an integer off the interval) select
// nothing.
//
// # Layouts
//
// [Default] and [DefaultRaw] describe loglake's own layout:
//
//	<root>/compacted/tenant_id=${tenant_id}/dt=${dt}/   dt: date yyyy-MM-dd, NOW-1825DAYS..NOW, daily
//	<root>/raw/tenant_id=${tenant_id}/dt=${dt}/
//
// [FromFirehosePrefix] describes a lake written by Amazon Data Firehose with
// dynamic partitioning, from its prefix expression
// (logs/!{partitionKeyFromQuery:tenant}/!{timestamp:yyyy}/...), either as
// one integer column per timestamp part or merged into one date column.
// Any other layout is a [Config] built by hand or parsed from properties.
//
// # Guarantees
//
// A rendered location never leaves its template's prefix: values
// substituted from a query (injected columns) and enum values pass
// [ValidateValue], which rejects the empty string, ".", "/", "\", "..", "=",
// "%", control characters and invalid UTF-8 — and, for loglake's tenant_id,
// anything outside the tenant id charset. Date patterns may not carry ".."
// or escapes in their literal text. Rejected values are errors
// ([ErrInvalidValue]), never silently skipped or escaped.
//
// Enumeration allocates O(log n) times per walk, not per partition: the
// strings of all yielded partitions are carved from a few large chunks. They
// remain valid after the walk; callers may keep them.
//
// # DDL
//
// [Table.DDL] writes CREATE EXTERNAL TABLE for a projected table: Parquet
// (loglake's compacted/ objects) or NDJSON through the OpenX JSON SerDe
// (raw/, whose .ndjson.zst objects Athena decompresses by extension), with
// the caller's columns, every partition column as string, LOCATION and the
// projection TBLPROPERTIES. [LakeTable] fills it in for loglake's layout.
// Identifiers must match [A-Za-z_][A-Za-z0-9_]* and are back-quoted; string
// literals may not contain quotes, backslashes or control characters. Bad
// input is an error, never escaped, so no name can inject DDL.
//
// # Concurrency
//
// A [Config] is plain data: any number of goroutines may call its methods
// at once as long as none modifies it. Each Enumerate call validates the
// Config afresh, so a Config built or edited by hand cannot bypass the
// checks Parse makes.
//
// # Errors
//
// Every error wraps one of [ErrInvalidConfig], [ErrInvalidConstraint],
// [ErrInvalidValue] or [ErrTooManyPartitions] (test with errors.Is); bad
// properties are also [*PropertyError] (errors.As).
package projection
