package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/projection"
)

// defaultColumns are the fields of loglake's PC operation logs (the records
// internal/gen writes: application launches, window titles, web access,
// file operations), used when --columns is not given. The lake's settings
// rename the timestamp field and drop the tenant field, which is a
// partition column.
var defaultColumns = []projection.ColumnDef{
	{Name: "timestamp", Type: "timestamp"},
	{Name: "device_id", Type: "string"},
	{Name: "log_type", Type: "string"},
	{Name: "user", Type: "string"},
	{Name: "app", Type: "string"},
	{Name: "pid", Type: "bigint"},
	{Name: "window_title", Type: "string"},
	{Name: "url", Type: "string"},
	{Name: "bytes", Type: "bigint"},
	{Name: "operation", Type: "string"},
	{Name: "file_path", Type: "string"},
	{Name: "size", Type: "bigint"},
	{Name: "removable", Type: "boolean"},
}

func init() {
	register(&command{
		name:    "ddl",
		usage:   "--lake URL [--location s3://bucket/prefix] [--table NAME] [--raw] [--columns name:type,...] [--retention-days N]",
		summary: "print the Athena CREATE EXTERNAL TABLE statement for the lake's compacted (or raw) table",
		help: `ddl prints a CREATE EXTERNAL TABLE statement with partition projection, so
Athena (or Trino) can query the lake without a crawler or MSCK REPAIR: the
compacted Parquet table by default, the raw NDJSON table (zstd, OpenX JSON
SerDe) with --raw. Partitions are tenant_id (injected: every query must name
its tenants) and dt (a date over the retention window).

--location is the lake's root as Athena sees it; for an s3:// lake it
defaults to the lake's bucket and prefix. The data columns are those of
loglake's PC operation logs unless --columns lists others (types: string,
bigint, double, boolean, timestamp); the lake's settings supply the name of
the timestamp field and of the tenant field, which is left out because it is
a partition column.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			location := fs.String("location", "", "the lake's root for Athena, e.g. s3://bucket/prefix (default: from an s3:// --lake)")
			table := fs.String("table", "", `table name, optionally "database.table" (default: loglake_compacted or loglake_raw)`)
			raw := fs.Bool("raw", false, "the raw NDJSON table instead of the compacted Parquet one")
			columns := fs.String("columns", "", "data columns as name:type,... (default: loglake's PC operation log fields)")
			retention := fs.Int("retention-days", projection.DefaultRetentionDays, "days of partitions to project, ending today")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				cols, err := parseColumnDefs(*columns)
				if err != nil {
					return usagef("--columns: %v", err)
				}
				root := *location
				if root == "" {
					if root = s3Root(*lakeURL); root == "" {
						return usagef("--location is required unless --lake is an s3:// URL")
					}
				}
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				settings := lake.Settings()
				if err := lake.Close(); err != nil {
					return err
				}
				if cols == nil {
					cols = lakeColumns(settings, *raw)
				}
				name := *table
				if name == "" {
					name = "loglake_" + loglake.AreaCompacted
					if *raw {
						name = "loglake_" + loglake.AreaRaw
					}
				}
				ddl, err := projection.LakeTable(name, root, *raw, cols, *retention).DDL()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(e.stdout, ddl)
				return err
			}
		},
	})
}

// parseColumnDefs reads "name:type,name:type"; "" yields nil (use the
// defaults). Names and types are checked by the DDL renderer.
func parseColumnDefs(s string) ([]projection.ColumnDef, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []projection.ColumnDef
	for _, part := range strings.Split(s, ",") {
		name, typ, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || name == "" || typ == "" {
			return nil, fmt.Errorf("%q: want name:type", part)
		}
		out = append(out, projection.ColumnDef{Name: name, Type: strings.ToLower(typ)})
	}
	return out, nil
}

// lakeColumns adapts the default columns to the lake's settings. In the raw
// table the event time stays a string: records may carry it as RFC 3339 or
// epoch numbers, which the JSON SerDe cannot all read as timestamps.
func lakeColumns(s loglake.Settings, raw bool) []projection.ColumnDef {
	var out []projection.ColumnDef
	for _, c := range defaultColumns {
		if c.Name == "timestamp" {
			if s.TimestampField != "" {
				c.Name = s.TimestampField
			}
			if raw {
				c.Type = "string"
			}
		}
		if c.Name == s.TenantField || c.Name == projection.TenantColumn || c.Name == projection.DayColumn {
			continue
		}
		out = append(out, c)
	}
	return out
}

// s3Root turns s3://bucket?prefix=p/&region=... into s3://bucket/p, or
// returns "" for other schemes.
func s3Root(lakeURL string) string {
	u, err := url.Parse(lakeURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return ""
	}
	root := "s3://" + u.Host
	if p := strings.Trim(u.Query().Get("prefix"), "/"); p != "" {
		root += "/" + p
	}
	return root
}
