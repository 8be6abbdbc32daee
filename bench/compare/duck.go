package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// recordFields is the schema of the generated records (gen's fields, in
// the order it writes them). DuckDB's read_json gets it instead of
// sampling: a tenant-day may lack a field (removable, say) that a
// predicate names, and sampling would then drop the column; and inferring
// the nested schema of envelopes costs DuckDB several times its ingest.
// loglake infers schemas itself, so this errs in DuckDB's favour.
var recordFields = [][2]string{
	{"timestamp", "TIMESTAMP"}, {"log_type", "VARCHAR"}, {"user", "VARCHAR"},
	{"app", "VARCHAR"}, {"pid", "BIGINT"}, {"window_title", "VARCHAR"},
	{"url", "VARCHAR"}, {"bytes", "BIGINT"}, {"operation", "VARCHAR"},
	{"file_path", "VARCHAR"}, {"size", "BIGINT"}, {"removable", "BOOLEAN"},
}

// rawColumns is read_json's columns parameter for formatted records.
var rawColumns = func() string {
	var b strings.Builder
	b.WriteString("columns = {'tenant_id': 'VARCHAR', 'device_id': 'VARCHAR'")
	for _, f := range recordFields {
		fmt.Fprintf(&b, ", '%s': '%s'", f[0], f[1])
	}
	b.WriteString("}")
	return b.String()
}()

// envelopeColumns is read_json's columns parameter for envelopes.
var envelopeColumns = func() string {
	var b strings.Builder
	b.WriteString("columns = {'tenant_id': 'VARCHAR', 'device_id': 'VARCHAR', 'log': 'STRUCT(")
	for i, f := range recordFields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "\"%s\" %s", f[0], f[1])
	}
	b.WriteString(")[]'}")
	return b.String()
}()

// duckOpen opens an in-memory DuckDB with threads set, spilling (if it
// must) under tmp.
func duckOpen(ctx context.Context, threads int, tmp string) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	// One connection, so that settings and statements share a session.
	db.SetMaxOpenConns(1)
	stmts := []string{
		fmt.Sprintf("SET threads = %d", threads),
		fmt.Sprintf("SET temp_directory = %s", sqlString(tmp)),
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb: %s: %w", s, err)
		}
	}
	return db, nil
}

// duckRun runs one DuckDB measurement.
func duckRun(ctx context.Context, t task) (result, error) {
	tmp := t.Output
	if tmp == "" {
		tmp = filepath.Join(t.Input, ".duckdb_tmp")
	}
	db, err := duckOpen(ctx, t.Threads, tmp)
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	var q string
	switch t.Op {
	case opIngest:
		q = duckIngestSQL(t.Input, t.Output)
	case opCompact:
		q = duckCompactSQL(t.Input, t.Output)
	case opQuery:
		q = duckQuerySQL(t.Input, t.Query)
	default:
		return result{}, fmt.Errorf("unknown op %q", t.Op)
	}
	var res result
	res.Seconds, err = timed(func() error {
		return db.QueryRowContext(ctx, q).Scan(&res.Count)
	})
	if err != nil {
		return result{}, fmt.Errorf("duckdb: %w\n%s", err, q)
	}
	if t.Op == opCompact {
		if res.OutBytes, res.OutFiles, err = parquetOutput(t.Output); err != nil {
			return result{}, err
		}
	}
	return res, nil
}

// duckIngestSQL splits the envelopes into records carrying tenant_id and
// device_id and writes them as zstd NDJSON, one directory per tenant and
// day. DuckDB's JSON writer has no PARTITION_BY, so the records are
// serialized with to_json and written through the CSV writer (one column,
// no quoting, a delimiter JSON never contains unescaped), whose
// PARTITION_BY is the same hash-partitioned writer the Parquet one uses:
// the files are NDJSON, named data_N.csv.zst.
func duckIngestSQL(envelopes, out string) string {
	return fmt.Sprintf(`COPY (
	SELECT tenant_id, strftime("timestamp", '%%Y-%%m-%%d') AS dt, to_json(r) AS line
	FROM (SELECT tenant_id, device_id, unnest(log, recursive := true)
	      FROM read_json(%s, format = 'newline_delimited', %s)) AS r
) TO %s (FORMAT csv, PARTITION_BY (tenant_id, dt), HEADER false, QUOTE '', ESCAPE '', DELIMITER E'\x1f', COMPRESSION zstd)`,
		sqlString(envelopes), envelopeColumns, sqlString(out))
}

// duckCompactSQL rewrites a lake's raw objects — the very files loglake's
// compactor reads — as zstd Parquet partitioned by tenant and day.
func duckCompactSQL(lake, out string) string {
	return fmt.Sprintf(`COPY (
	SELECT * FROM read_json(%s, format = 'newline_delimited', hive_partitioning = true, %s)
) TO %s (FORMAT parquet, PARTITION_BY (tenant_id, dt), COMPRESSION zstd)`,
		sqlString(filepath.Join(lake, "raw", "*", "*", "*.ndjson.zst")), rawColumns, sqlString(out))
}

// duckQuerySQL counts the rows q matches, reading raw objects with
// read_json or compacted files with read_parquet; the glob names the
// partitions' directories as a DuckDB user would (or, with LakeGlob, every
// file of the lake), and hive_partitioning prunes the rest.
func duckQuerySQL(lake string, q *querySpec) string {
	area, file := "raw", "*.ndjson.zst"
	if q.Source == "parquet" {
		area, file = "compacted", "*.parquet"
	}
	tenant, day := "*", "*"
	if len(q.Tenants) == 1 && !q.LakeGlob {
		tenant = "tenant_id=" + q.Tenants[0]
		if q.From == q.To {
			day = "dt=" + q.From
		}
	}
	glob := sqlString(filepath.Join(lake, area, tenant, day, file))
	var from string
	if q.Source == "parquet" {
		// union_by_name: partitions hold the fields their records have,
		// so schemas differ from one to the next.
		from = fmt.Sprintf("read_parquet(%s, hive_partitioning = true, union_by_name = true)", glob)
	} else {
		from = fmt.Sprintf("read_json(%s, format = 'newline_delimited', hive_partitioning = true, %s)", glob, rawColumns)
	}
	return fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", from, q.sqlWhere())
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
