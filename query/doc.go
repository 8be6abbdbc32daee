// Package query searches a lake's logs: it parses a query — SQL text or the
// Go builder — checks its tenant scope, plans it over the partitions it can
// touch, scans raw NDJSON and Parquet, and returns Arrow record batches.
//
//	eng, err := query.New(lake, nil)
//	q, err := query.Parse(`SELECT timestamp, file_path FROM logs
//		WHERE tenant_id = 'acme' AND dt BETWEEN '2026-11-14' AND '2026-11-20'
//		AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100`)
//	rows, err := eng.Query(ctx, q)
//	defer rows.Close()
//	for rows.Next() {
//		batch := rows.RecordBatch() // an arrow.RecordBatch
//		…
//	}
//	err = rows.Err()
//	fmt.Println(rows.Stats()) // partitions, objects, bytes and rows scanned
//
// [WriteNDJSON], [WriteCSV] and [WriteTable] drain [Rows] into text; the
// loglake CLI's query subcommand is a thin layer over them.
//
// # SQL
//
// One table, logs, whose columns are the fields of the records plus
// tenant_id and dt (the partition day, 'YYYY-MM-DD'):
//
//	SELECT timestamp, file_path
//	FROM logs
//	WHERE tenant_id = 'acme'
//	  AND dt BETWEEN '2024-05-01' AND '2024-05-31'
//	  AND file_path LIKE '%社外秘%'
//	ORDER BY timestamp DESC
//	LIMIT 100
//
// The grammar, informally:
//
//	query     = SELECT (* | item {, item}) FROM logs [WHERE expr]
//	            [GROUP BY term {, term}] [ORDER BY order {, order}]
//	            [LIMIT n | LIMIT ALL] [;]
//	item      = term [[AS] alias]
//	term      = column | date_trunc('minute'|'hour'|'day', column)
//	          | count(*) | count(column) | min(column) | max(column) | sum(column)
//	order     = (term | alias | position) [ASC | DESC]
//	expr      = expr OR expr | expr AND expr | NOT expr | ( expr ) | predicate
//	predicate = operand (= | != | <> | < | <= | > | >=) operand
//	          | operand [NOT] IN ( operand {, operand} )
//	          | operand [NOT] BETWEEN operand AND operand
//	          | operand [NOT] (LIKE | ILIKE) 'pattern' [ESCAPE 'c']
//	          | operand IS [NOT] NULL
//	operand   = column | 'string' | number | -number | TRUE | FALSE | NULL
//	          | TIMESTAMP 'YYYY-MM-DD[ HH:MM[:SS[.fff]]][ zone]'
//
// Keywords are case-insensitive. A bare identifier ([A-Za-z_][A-Za-z0-9_]*)
// is folded to lower case, as in Trino; a double-quoted one ("File Path",
// with "" for a quote) is kept exactly, so fields with upper-case letters
// or other characters need quotes. Reserved words (SELECT, AND, NULL, …)
// must be quoted to be used as names; timestamp, count and date_trunc need
// not be. Strings are single-quoted, a quote inside written twice, with no other
// escapes. Comments are -- to the end of the line and /* … */. GROUP BY
// and ORDER BY accept 1-based positions in the select list, and ORDER BY
// accepts aliases. TIMESTAMP literals without a zone are UTC.
//
// Parse reports errors as [*SyntaxError] with the line, the column and
// what was expected:
//
//	query: syntax error at line 1, col 27: expected expression, found ")"
//
// [Query.String] prints a query back as SQL that parses to the same Query.
// The builder makes the same values without SQL text:
//
//	q := query.Select("timestamp", "file_path").
//		Where(query.And(
//			query.Eq("tenant_id", "acme"),
//			query.Like("file_path", "%社外秘%"),
//		)).
//		OrderBy("timestamp", query.Desc).
//		Limit(100)
//
// # Semantics
//
// As Trino and Athena, with the differences a schemaless log store needs:
//
//   - LIKE is case-sensitive; '%' matches any run of characters, '_'
//     exactly one character (a code point, not a byte); ESCAPE 'c' makes
//     c%, c_ and cc literal, and c before anything else is an error.
//     ILIKE folds case with Unicode simple case folding (as
//     strings.EqualFold). Patterns are at most [MaxPatternLen] bytes
//     ([ErrPatternTooLong]); matching never backtracks: its cost is linear
//     in the text for '%'-only patterns and at most text × pattern length
//     with '_', whatever the pattern.
//   - Three-valued logic: a comparison with NULL is NULL, NOT NULL is NULL,
//     FALSE AND NULL is FALSE, TRUE OR NULL is TRUE; WHERE keeps the rows
//     where it is TRUE. A field missing from a record is NULL.
//   - Numbers compare across integers and floats exactly. Strings compare
//     byte-wise (code point order). A timestamp compares with a TIMESTAMP
//     literal, or with a string that parses as one (RFC 3339 included); a
//     string that does not parse makes the comparison NULL. Values of kinds
//     that do not compare (a string with a number, say) make the comparison
//     NULL where Trino would reject the query, because a field's type may
//     change from record to record. LIKE on a value that is not a string is
//     NULL.
//   - date_trunc works in UTC. count(col) counts non-NULL values, sum of
//     integers is an integer (overflow is an error), min and max need
//     values of one kind. ORDER BY puts NULLs last in both directions.
//
// # Tenant scope
//
// A query reads only the tenants its WHERE clause limits it to:
// [Query.Scope] takes them from top-level conjuncts tenant_id = 'T' and
// tenant_id IN ('T1', …), and a query without one is rejected with
// [ErrUnscopedQuery] unless the engine allows cross-tenant queries.
// tenant_id under OR or NOT never counts, so text such as
//
//	WHERE tenant_id = 'acme' OR 1 = 1
//	WHERE tenant_id = 'acme' -- ' OR tenant_id = 'other'
//
// is unscoped (the first) or scoped to acme alone (the second: the rest is
// a comment). Scope works on the parsed query, never on text, so quoting,
// escaping and comments cannot widen it.
//
// The engine reads only the partitions of the scoped tenants, and takes the
// values of tenant_id and dt from the partition a record is stored in,
// never from the record's own fields: a record that claims
// "tenant_id":"other" or "dt":"1999-01-01" still reads as its partition's.
//
// # Planning
//
// [Engine.Query] turns the query's constraints into partitions without
// listing the bucket (invariant 5 of the design): the tenants from
// [Query.Scope], and the days from [Query.DayRange] intersected with the
// days of [Query.TimeRange] (in the lake's time zone), go through the
// lake's partition projection (projection.Default, dt over
// NOW-[Options.RetentionDays]..NOW). Without a constraint on dt or
// timestamp that is the whole retention window — 1,826 partitions a
// tenant — so name the days you want. Only an engine with
// [Options.AllowCrossTenant] lists anything: the tenant prefixes, for an
// unscoped query.
//
// [Engine.Explain] shows a plan — scope, days, partitions, what prunes —
// without reading anything; the loglake CLI's query --explain prints it.
//
// For each partition, compact.Snapshot gives the live Parquet files and the
// raw objects no manifest covers yet; reading exactly those returns each
// record once, whatever a compactor did or where it crashed (invariant 2).
// Parquet files are then skipped by their time range, and row groups by
// their timestamp statistics, against the query's time range; a file
// without the column of a top-level LIKE conjunct is skipped too.
//
// With a time range bounded on both sides and shorter than a day, row
// groups that survive are pruned further by the timestamp column's page
// index: pages whose min/max miss the range are not read, nor the other
// columns' pages at their rows ([Stats.PagesSkipped]).
//
// ORDER BY timestamp [DESC] with a LIMIT reads the partitions from the
// newest (oldest) day on, and stops starting partitions — and skips files
// and row groups — once LIMIT rows are held that no row of a later
// partition can displace. This relies on dt being the day of the
// timestamp, as loglake writes it.
//
// # Execution
//
// A query runs [Options.Parallelism] readers. Partitions are probed first
// — the Snapshot that tells whether a partition holds anything; two LISTs
// inside it on S3 — up to [Options.ProbeParallelism] at once, ahead of
// the reading, so that the 1,826 mostly empty days of an unconstrained
// query cost about 57 rounds of LISTs rather than 457; [Stats] count the
// empty ones. Partitions that hold data are then read in plan order, at
// most twice as many as readers at once; each partition's
// objects — raw objects, and Parquet row groups once their file's footer
// is read — are tasks for the readers. Memory is bounded by the readers'
// buffers and by the rows the partitions in flight contribute (at most
// LIMIT, or [Options.MaxResultRows]).
//
// A partition's rows are held until all its objects are read, and only
// then merged into the result or streamed to the caller. If an object
// vanished meanwhile (a compaction committed and deleted it:
// loglake.IsNotFound), the partition's rows are dropped and the partition
// is read again from a fresh Snapshot — the View retry rule of package
// compact. Rows already sent cannot be recalled, so none is sent before
// its partition is complete; that is what makes a long query exact while
// compactions run, at the cost of a partition's latency.
//
// Raw NDJSON objects are decompressed whole into pooled buffers
// (rawcodec.ReadWhole; streamed in blocks when large); before any JSON is
// parsed, the required literals of the query's top-level LIKE patterns,
// and the values of top-level col = 'text' and col = true|false
// equalities that only a string (or a boolean) can meet, are searched in
// the bytes (like.JSONPrefilter: JSON escapes such as \uXXXX and \/ are
// accounted for, so an escaped line is never missed). Only candidate lines
// are decoded, and only the columns the query reads, with the same column
// logic as compaction (compact.LineBatch), so a record reads the same
// before and after it is compacted.
//
// In Parquet, only the columns the query names are read, and WHERE is
// evaluated column by column. Each top-level conjunct that reads one
// record column (besides tenant_id and dt) is evaluated on that column's
// pages alone: once per dictionary entry for dictionary-encoded pages,
// once per value for booleans, and value by value otherwise — a LIKE by
// one substring search for its required literal over a plain page's
// value buffer, an equality by comparing bytes, an integer comparison
// without boxing. The columns are evaluated smallest first, each only at
// the rows the previous ones kept, and their selections ANDed; a row
// group where no row survives reads no further. A conjunct on a column a
// file lacks is decided once for the file (NULL everywhere). Only then
// are the other columns — the select list, GROUP BY, ORDER BY and the
// conjuncts that read several columns, evaluated row by row with the
// semantics above — decoded, at the surviving rows only; count(*)
// decodes nothing, and the last column evaluated keeps the values of the
// rows it let through, so a column both filtered and selected is read
// once. In a query of few files, a large row group is read in parts, one
// per reader, each seeking to its rows with the columns' offset indexes
// and starting at a page of its largest column. The aggregation, ORDER
// BY and LIMIT code is the reference evaluator's.
//
// A Parquet file is opened from one range read of its last 64 KiB — the
// footer, usually the page index, and the last column chunks, or the
// whole of a small file — and each column chunk then from one read of
// the bytes of the pages the scan needs (windows of up to 1 MiB from
// object storage, 128 KiB from a file:// lake, reused across files), so
// a small file costs one read, and a large one one per column it reads.
// [Stats.BytesRead] counts every byte fetched.
//
// String columns without a dictionary (long paths, URLs: the columns an
// infix LIKE searches) are read by the engine's own page reader, for the
// page layouts parquet-go and loglake's compaction write (data pages v1
// or v2, PLAIN or DELTA_LENGTH_BYTE_ARRAY, uncompressed or zstd, one
// definition level at most); any other chunk goes through parquet-go's.
// It decodes page headers where the bytes were fetched, decompresses
// each page into one buffer reused for the whole chunk (never past the
// size the page header claims) and searches the values where they were
// decompressed. In a short-lived process — a Lambda, a CLI run — the
// fresh memory of a buffer per page, with its page faults and the
// collections it brings on, cost more than the decompression itself.
//
// # Foreign layouts
//
// [NewForeign] searches logs that another writer left in a bucket — an
// existing Amazon Data Firehose lake with dynamic partitioning — where
// they are, described by a partition projection ([ForeignLayout]).
// projection.FromFirehosePrefix turns the delivery stream's S3 prefix
// into one:
//
//	cfg, err := projection.FromFirehosePrefix("",
//		"logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", nil)
//	eng, err := query.NewForeign(bucket, query.ForeignLayout{
//		Projection:  cfg,
//		CarryFields: []string{"device_id"},
//	}, nil)
//	q, err := query.Parse(`SELECT timestamp, device_id, file_path FROM logs
//		WHERE tenant_id = 'acme' AND dt = '2026-11-20' AND file_path LIKE '%社外秘%'`)
//	rows, err := eng.Query(ctx, q)
//
// Planning is as on a lake: tenant_id must be constrained and fills the
// projection's tenant column; each day of the dt (and timestamp) range
// selects that day's projected partitions. Only inside those locations is
// anything listed. Every object there is read — gzip (.gz), zstd (.zst)
// or plain, by extension or by its first bytes — and split while it is
// scanned: each JSON value, on its own line or concatenated without a
// separator ("}{", Firehose's default), is an envelope, whose log array's
// records take the envelope's CarryFields, or a bare record. Records
// read as their partition's tenant and day. Malformed values are
// skipped and counted ([Stats.ValuesDropped]).
//
// Firehose's !{timestamp:…} is the arrival time, which can be long after
// a record's event time; a timestamp range therefore selects partitions
// only with [ForeignLayout.MaxDelay] (or [ForeignLayout.EventTime] for
// layouts partitioned by event time). Constrain dt to choose days.
//
// # Results
//
// [Rows] streams arrow.RecordBatch values. Plain queries stream as
// partitions complete (LIMIT stops the scan once met); ORDER BY and
// aggregates are computed from per-partition partial results and sent at
// the end. SELECT * returns tenant_id, dt and timestamp first, then the
// other columns by name; each batch carries the columns its rows have.
//
// # Limits
//
// As an Athena workgroup, an [Engine] bounds what one query and one tenant
// may cost:
//
//   - [Options.MaxBytesScanned]: uncompressed bytes examined; past it the
//     query stops (within one block) with a [*LimitError] matching
//     loglake.ErrScanLimitExceeded, carrying the stats so far.
//   - [Options.MaxConcurrentPerTenant]: queries per tenant at once; others
//     wait for a slot until their ctx ends, or fail with
//     loglake.ErrTooManyQueries under [Options.NoQueue].
//   - [Options.MaxResultRows]: result rows, rows held for ORDER BY, groups;
//     past it, a [*LimitError] matching [ErrTooManyRows].
//   - [Options.MaxPatternLen]: LIKE pattern length ([ErrPatternTooLong]).
//   - ctx: its deadline or cancellation ends the query within one block.
//
// [Stats] tell what a query cost: partitions considered, read and found
// empty, objects opened, bytes read from storage and bytes scanned, row
// groups and pages skipped, rows scanned, matched and returned, time
// queued and in all.
//
// # Concurrency
//
// An [Engine] is safe for concurrent use; each query's goroutines are
// owned by its [Rows] and end with Close. [Engine.Close] cancels the
// queries still running and waits for them.
package query
