// Command compare measures loglake against DuckDB on the same data, side by
// side in one run: ingest (envelopes → partitioned raw objects), compaction
// (raw NDJSON → Parquet per tenant and day) and LIKE-style searches over raw
// and Parquet, for one tenant-day, one tenant-week and a scan across tenants;
// then searches on a second, long lake of small partitions (one tenant-day
// found among thousands of partitions, one tenant's whole history).
//
// Usage (from the repository root):
//
//	go run -C bench ./compare [-records N] [-tenants T] [-days D] [-history-records N] [-history-days D] [-dir DIR] [-runs R] [-out FILE]
//
// Both engines read the very same files: the envelopes come from loglake's
// own generator (internal/gen), DuckDB ingests the same envelope file, its
// compaction and raw queries read loglake's raw objects, and its Parquet
// queries read loglake's compacted files. Each measurement runs in a child
// process (this binary, re-executed), so the peak RSS of each side is its
// own; the engines alternate from run to run and the table shows medians.
//
// Before any time is reported, every count — records ingested, rows
// compacted, rows matched by each query — is checked three ways: loglake,
// DuckDB, and a plain Go evaluation of the generated envelopes. A
// disagreement makes the command exit with status 1; a time never does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.records, "records", 1_000_000, "records to generate")
	flag.IntVar(&cfg.tenants, "tenants", 8, "tenants (sizes skewed: tenant-000 is the largest)")
	flag.IntVar(&cfg.days, "days", 7, "days the records spread over (a tenant-week needs 7)")
	flag.IntVar(&cfg.historyRecords, "history-records", 400_000, "records of the long lake (0: skip its searches)")
	flag.IntVar(&cfg.historyDays, "history-days", 365, "days of the long lake: one small partition per tenant and day")
	flag.StringVar(&cfg.dir, "dir", "", "directory for the lakes (default: a new directory under /dev/shm when it exists, else the temp dir)")
	flag.IntVar(&cfg.runs, "runs", 5, "runs of each measurement (the table shows medians)")
	flag.StringVar(&cfg.out, "out", "", "also write the Markdown report to this file (e.g. ../BENCHMARKS.md)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the generated data and lakes")
	flag.IntVar(&cfg.threads, "threads", runtime.GOMAXPROCS(0), "threads for each engine (GOMAXPROCS of loglake's process, DuckDB's threads setting)")
	child := flag.String("child", "", "internal: run one measurement (JSON task) and print its result")
	flag.Parse()

	if *child != "" {
		os.Exit(runChild(*child))
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
