// Package compact turns a partition's raw NDJSON objects into Parquet files
// sorted by time, commits them with a per-partition manifest, and keeps the
// lake within its retention: the stage between ingest's raw/ area and the
// query engine. It replaces a daily Athena CTAS job run per tenant.
//
// # Tour
//
//	c, err := compact.New(lake, &compact.Options{Concurrency: 4})
//	// Every finished day with raw data (late data included), all tenants:
//	rep, err := c.Run(ctx, compact.Plan{})
//	for _, p := range rep.Partitions { fmt.Println(p.Partition, p.Outcome, p.Err) }
//	// One partition:
//	res, err := c.CompactPartition(ctx, loglake.Partition{Tenant: "acme", Day: day})
//	// What a reader reads (no Compactor needed):
//	v, err := compact.Snapshot(ctx, lake, p) // v.Parquet, v.Raw, v.Schema
//	// Retention and hygiene:
//	_, err = c.Expire(ctx, 1825, false)
//	_, err = c.CollectGarbage(ctx, time.Hour)
//
// # Layout
//
//	raw/tenant_id=<T>/dt=<D>/<name>.ndjson.zst             input (also .ndjson.gz, .ndjson)
//	compacted/tenant_id=<T>/dt=<D>/part-<gen>-<committer>-<nonce>-<seq>.parquet
//	compacted/tenant_id=<T>/dt=<D>/_manifest/<gen>.json    one per generation, gen zero-padded to 20 digits
//
// tenant_id and dt live in the path only (Hive convention); the tenant field
// of each record is dropped once checked against the path.
//
// # Guarantees
//
// The commit follows DESIGN.md ("Compaction commit"). [Compactor.CompactPartition]
// takes a [View] — it lists the partition's raw objects first, then reads
// the newest manifest N — writes new Parquet files under fresh names,
// creates manifest N+1 with [loglake.Lake.CreateOnly], and only then
// deletes the raw objects N+1 covers and the files it supersedes. A reader
// takes the newest manifest, reads the files it lists, and reads the raw
// objects it does not cover; at every step each record is read once. The
// next compaction finishes any clean-up a crash interrupted (it deletes
// what the newest manifest covers or supersedes before anything else).
//
// Of two compactors on one partition, one creates N+1; the other gets
// [loglake.ErrConflict], deletes the files it wrote and returns
// [OutcomeConflict]. A compactor that finds a raw object gone or changed
// while reading gives up the same way.
//
// Manifests record the raw objects they cover by key, size and, where the
// store reports it, MD5 — not by modification time. Ingest may rewrite a raw
// object with identical content (a redelivered batch): it stays covered,
// is not counted twice, and is deleted by the next compaction. An entry of
// a deleted object is kept for [Options.RedeliveryWindow] (default 7 days)
// so that redeliveries within that window are recognised; a batch
// redelivered later is read as new data. An object at a covered key with a
// different size or MD5 breaks the ingest contract and is treated as new
// data: nothing is lost.
//
// Readers follow one rule: if an object of a View is gone (IsNotFound),
// take a new View and read the partition again ([ReadAll] does).
//
// # Schema
//
// Each run's columns are inferred from its records: string, int64,
// float64, bool; the lake's timestamp field is a TIMESTAMP(MICROS, UTC)
// column; nested objects and arrays are JSON text (logical type JSON). A
// column holding integers and floats becomes float64; any other mix becomes
// string, numbers and booleans spelled as JSON spells them. A field only
// ever null is not stored (Parquet reads absent and null alike). New files
// start from the partition's existing types, and the manifest's schema is
// the union of all live files ([Union]); a column added later reads as
// NULL in older files, and a file may hold a column in a narrower type than
// the manifest's (int64 where the partition now has float64 or string) —
// readers convert, as [View.ReadAll] does.
//
// [Options.Pin] fixes types by name. Nothing is silently dropped: a value
// that fits no column — not convertible to a pinned type, an unparseable
// timestamp, a duplicate key, a field past [Options.MaxColumns], a tenant
// field naming another tenant, sub-microsecond time digits — is kept, as
// JSON, in the [UnfitColumn] object of its row ({"field": <original
// value>}); a line that is not a JSON object is kept as {"_line": "<text>"}.
// Invalid UTF-8 is replaced with U+FFFD (counted in [Stats]).
//
// # Parquet
//
// Files are standard Parquet: data pages v2 with zstd and a CRC each, the
// page index (column and offset indexes) and column statistics written,
// dictionary encoding for columns whose values repeat (judged per file on a
// sample; a chunk whose dictionary passes 8 MiB is written without one),
// DELTA_BINARY_PACKED timestamps, DELTA_LENGTH_BYTE_ARRAY strings, rows
// sorted by time and the sorting column recorded, row groups of
// [Options.RowGroupRows]. Records are parsed straight into typed column
// buffers that become Arrow arrays without a copy
// (github.com/apache/arrow-go/v18): Arrow is the in-memory columnar form
// loglake's stages share — the query package returns Arrow batches — and it
// makes a run cheap to sort (a permutation over typed arrays) and to
// convert when a column's type widens.
//
// Encoding is github.com/parquet-go/parquet-go's: its RLE/bit-packed,
// dictionary-index and delta encoders produce the page bodies, and its
// Thrift compact protocol and format types the page headers, the page
// index and the footer. loglake itself only lays the pages out, reading
// each column chunk's values straight from the run's Arrow arrays in time
// order: parquet-go's general row writer would take every value through a
// parquet.Value and a column buffer of its own, which cost a quarter of a
// compaction's CPU before any compression. The split sits where the data
// stops changing shape: Arrow while records are collected, sorted and
// widened, parquet-go's encoders once they are final. Reading (late data
// merged into existing files, [View.ReadAll]) is parquet-go's reader.

// # Memory
//
// A compaction holds at most [Options.BufferBytes] of decoded NDJSON as
// Arrow columns. When a partition is larger, each BufferBytes run is sorted
// and written as its own file: files are each sorted by time, and because
// raw objects are read in arrival order (which ingest makes close to time
// order) their time ranges overlap little, which is what row-group
// pruning needs. Peak memory is about Concurrency × 2 × BufferBytes plus
// per-object read buffers, whatever the partition's size.
//
// With BufferBytes of 32 MiB or more, the columns of a run and the raw
// objects read whole live in large buffers outside the Go heap (package
// internal/bigmem: huge pages where the platform allows, reused from
// chunk to chunk and object to object, at most 128 MiB kept while idle
// and none after 30 idle seconds). A fresh page costs a fault on first
// touch, and in virtual machines those faults cost about a tenth of a
// compaction; the pool takes one per 2 MiB, once. Heap statistics and
// GOMEMLIMIT do not see this memory.
//
// Within one compaction, a raw object is decoded into blocks of whole
// lines while parse workers, one per CPU (GOMAXPROCS), fill a chunk each.
// An object that states its decoded size (ingest's always do) and whose
// size is at most BufferBytes/4 is read and decoded whole, in one call,
// into pooled memory that its blocks are slices of; at most two such
// objects are held per compaction (one being parsed while the next is
// decoded), within the half of BufferBytes that blocks in flight may hold.
// Other objects are streamed through zstd decoders that a Compactor reuses
// across partitions, into block buffers. With BufferBytes below 32 MiB
// every object is streamed. A run's
// BufferBytes budget is shared by the workers, not multiplied by them. At
// the end of a run the chunks are sorted by time in parallel and merged,
// ties in input order, so a file's rows come in the same order whatever
// the number of CPUs; the column chunks of two row groups at a time are
// then encoded in parallel, by one encoder per CPU (a zstd encoder and
// page buffers, a few MiB) but no more than BufferBytes/16 MiB of them, so
// that a small buffer keeps its promise.
//
// # Late data
//
// Raw objects that arrive for an already compacted day are found by the
// next [Compactor.Run] (its listing sees any day with raw data) and added as
// new file(s) in a new generation. When that would exceed
// [Options.MaxFiles], the small files (under half the rows of the largest)
// are merged with the late data; full BufferBytes-sized files are never
// rewritten. The file count thus stays within MaxFiles plus the number of
// full files a partition of that size needs.
//
// # Concurrency
//
// A [Compactor] is safe for concurrent use. [Compactor.Run] compacts up
// to Options.Concurrency tenants at once; each partition is retried with
// backoff up to Options.MaxAttempts, and a waiting retry holds no slot, so a
// failing tenant never stops or slows the others.
//
// # Many compactors
//
// Any number of compactors may run on one lake — several `loglake compact`
// processes, one per Lambda invocation, machines in different places.
// Unless [Options.DisableLeases], [Compactor.Run] takes each partition's
// lease (a create-only object under the partition's _lease/ folder; see
// [Lease]) before compacting it, so they split the partitions among
// themselves; a partition leased elsewhere is skipped and tried again at
// the end, once its holder released it or died and its lease expired.
// Leases save work; they are never what keeps reads exact — the commit is.
//
// For a queue-driven fan-out, [Compactor.Dispatch] publishes one message
// per (tenant, day) to a gocloud.dev/pubsub topic, and [Worker]s consume
// them, acking each message only after its partition committed:
//
//	topic, _ := pubsub.OpenTopic(ctx, "awssns:///arn:aws:sns:us-east-1:123456789012:compact?region=us-east-1")
//	sent, err := c.Dispatch(ctx, topic, compact.Plan{})
//	// on each worker machine:
//	sub, _ := pubsub.OpenSubscription(ctx, "awssqs://sqs.us-east-1.amazonaws.com/123456789012/compact?region=us-east-1")
//	err = (&compact.Worker{Compactor: c, Concurrency: 2}).Run(ctx, sub)
//
// (blank-import gocloud.dev/pubsub/awssnssqs for those URLs.)
//
// # Errors
//
// Decode failures of manifests and Parquet files are marked
// [loglake.ErrCorrupt]; bad options wrap [loglake.ErrInvalidOptions]; a
// closed Compactor returns [loglake.ErrClosed]. Storage errors are wrapped
// with the key, so [loglake.IsNotFound] and gcerrors.Code still work.
package compact
