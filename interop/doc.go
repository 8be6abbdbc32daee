// Package interop proves that a loglake lake opens in independent readers.
// Its tests ingest and compact generated logs with loglake, then read the
// compacted Parquet files with DuckDB (read_parquet with
// hive_partitioning) and check that every partition's rows, types and
// values are what the generator produced.
//
// It is a separate module, so that loglake itself stays pure Go: DuckDB
// comes in through cgo (github.com/duckdb/duckdb-go/v2, with prebuilt
// static libraries). Run it with
//
//	go test -C interop ./...
//
// # What is checked
//
//   - Counts per tenant and day: DuckDB's equal loglake's own reader's and
//     the generator's.
//   - Every value of every row: strings (Japanese text and Windows paths
//     with backslashes), 64-bit integers beyond float precision, booleans,
//     and the event time as a TIMESTAMP WITH TIME ZONE with microseconds.
//   - The dt partition value, taken from the path, equals the UTC date of
//     each row's time.
//   - Late data and rewrites: after a second and a third compaction of one
//     partition (a new file, then a merge of all files into one), DuckDB
//     still sees each record once — a reader without loglake's manifests
//     must never find a superseded file.
package interop
