// Package loglake stores logs from many tenants in a partitioned lake on
// object storage — one partition per tenant and day — compacts them to
// Parquet, and answers substring searches over them, with no cluster to run.
//
// It does the job teams otherwise assemble from Kinesis Data Firehose
// (dynamic partitioning into S3), a daily Athena CTAS job (JSON to Parquet)
// and Athena queries with partition projection, as one library embedded in a
// Go service or an ingestion Lambda. The data it writes is plain Hive-style
// NDJSON and Parquet, so Athena, Trino, Spark or DuckDB can read the same
// lake.
//
// This package holds what every stage shares: [Lake] (a blob bucket, the key
// layout and the lake's settings), [Partition] and [Day], tenant-id rules and
// the sentinel errors. The stages live in their own packages:
//
//   - ingest: split envelopes into records and buffer them into partitions;
//   - compact: rewrite a partition's raw NDJSON into Parquet, crash-safely;
//   - projection: compute which partitions a query touches, without listing;
//   - query: LIKE-style search over raw and compacted data together.
//
// # Opening a lake
//
// A lake is any gocloud.dev blob URL. The file, mem and s3 drivers are linked
// in; gs:// and azblob:// are one blank import away
// (gocloud.dev/blob/gcsblob, gocloud.dev/blob/azureblob):
//
//	lake, err := loglake.Open(ctx, "file:///var/lib/lake")           // created if missing
//	lake, err := loglake.Open(ctx, "s3://logs?region=ap-northeast-1&prefix=lake/")
//	lake, err := loglake.New(ctx, bucket)                             // a bucket you opened
//
// The first Open writes the lake's settings ([Settings]: time zone, tenant
// and timestamp fields, timestamp formats, raw compression) to [SettingsKey];
// later opens read them, and an option that contradicts them is
// [ErrSettingsMismatch] rather than a silent change.
//
// # Layout
//
// Keys are Hive-style, so external engines see the partitions:
//
//	_loglake.json                                              the lake's settings
//	raw/tenant_id=<T>/dt=<YYYY-MM-DD>/<object>.ndjson.zst      hot: one formatted record per line
//	compacted/tenant_id=<T>/dt=<YYYY-MM-DD>/<file>.parquet     cold: columnar, sorted by time
//	compacted/tenant_id=<T>/dt=<YYYY-MM-DD>/_manifest/<gen>.json  commit record of that partition
//	errors/<reason>/dt=<YYYY-MM-DD>/<object>.ndjson.zst        dead letters: original bytes + reason
//	spill/<writer>/<object>.ndjson.zst                         accepted records not yet in place
//
// A tenant id is validated ([ValidateTenant]) before it becomes part of a
// key: 1 to 64 bytes of [A-Za-z0-9._-], starting with a letter or digit, no
// "..". dt is the record's event date in the lake's time zone ([DayOf]).
//
// # Guarantees
//
// Every stage keeps five invariants: nothing accepted is lost; nothing is
// counted twice, even while a compaction runs or after one crashed; tenants
// are isolated; bad input gets a clear error and harms nothing else; and the
// cost of a query follows its partitions, not the lake. The commit that makes
// the second one hold rests on [Lake.CreateOnly], which is atomic on every
// backend — including file://, where gocloud's own IfNotExist is not.
//
// # Concurrency
//
// A Lake is safe for concurrent use by many goroutines, and many processes
// may open the same lake.
//
// # Errors
//
// Errors wrap a sentinel of this package ([ErrInvalidTenant], [ErrCorrupt],
// [ErrConflict], …) where one applies, and storage errors keep their
// gcerrors code ([IsNotFound]). Test them with [errors.Is].
package loglake
