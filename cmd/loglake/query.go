package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/query"
)

func init() {
	register(&command{
		name:    "query",
		usage:   `--lake URL [--format table|json|csv] [--stats] [--max-bytes N] [--all-tenants] [--explain] "SQL"`,
		summary: "run a SQL query over the lake's raw and compacted logs",
		help: `query runs one SQL query (see the query package for the grammar) over the
table logs: the records' fields plus tenant_id and dt. The WHERE clause must
name its tenants (tenant_id = 'T' or tenant_id IN (...)) unless --all-tenants
is given; constraints on dt and timestamp choose the partitions to read, so
name them to keep a query cheap:

  loglake query --lake file:///var/lake --stats \
    "SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme'
     AND dt BETWEEN '2026-11-14' AND '2026-11-20' AND file_path LIKE '%社外秘%'
     ORDER BY timestamp DESC LIMIT 20"

Rows go to standard output as an aligned table, NDJSON (--format json) or
CSV; --stats prints what the query read to standard error. --explain prints
the plan instead (tenants, days, partitions, pruning) without reading data.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			format := fs.String("format", "table", "output format: table, json (NDJSON) or csv")
			stats := fs.Bool("stats", false, "print the query's stats to standard error")
			maxBytes := fs.Int64("max-bytes", 0, "stop the query past this many uncompressed bytes scanned (0: no limit)")
			allTenants := fs.Bool("all-tenants", false, "allow queries that do not constrain tenant_id (reads every tenant)")
			parallelism := fs.Int("parallelism", 0, "objects read at once (0: one per CPU)")
			explain := fs.Bool("explain", false, "print the query plan instead of running the query")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if len(args) != 1 {
					return usagef("want exactly one SQL argument, got %d", len(args))
				}
				write, ok := map[string]func(*env, *query.Rows) error{
					"table": func(e *env, r *query.Rows) error { return query.WriteTable(e.stdout, r) },
					"json":  func(e *env, r *query.Rows) error { return query.WriteNDJSON(e.stdout, r) },
					"csv":   func(e *env, r *query.Rows) error { return query.WriteCSV(e.stdout, r) },
				}[strings.ToLower(*format)]
				if !ok {
					return usagef("unknown --format %q (want table, json or csv)", *format)
				}
				if *maxBytes < 0 {
					return usagef("--max-bytes must not be negative")
				}
				q, err := query.Parse(args[0])
				if err != nil {
					return err
				}
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				defer lake.Close()
				eng, err := query.New(lake, &query.Options{
					AllowCrossTenant: *allTenants,
					MaxBytesScanned:  *maxBytes,
					Parallelism:      *parallelism,
				})
				if err != nil {
					return err
				}
				defer eng.Close()
				if *explain {
					plan, err := eng.Explain(ctx, q)
					if err != nil {
						return err
					}
					_, err = fmt.Fprint(e.stdout, plan)
					return err
				}
				rows, err := eng.Query(ctx, q)
				if err != nil {
					if errors.Is(err, query.ErrUnscopedQuery) {
						return fmt.Errorf("%w (name the tenants, or pass --all-tenants)", err)
					}
					return err
				}
				werr := write(e, rows)
				cerr := rows.Close()
				if *stats {
					fmt.Fprintln(e.stderr, "stats:", rows.Stats())
				}
				if werr != nil {
					return werr
				}
				return cerr
			}
		},
	})
}
