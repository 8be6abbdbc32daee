package projection

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// StorageFormat is how a table's objects are encoded.
type StorageFormat uint8

const (
	// Parquet: loglake's compacted/ objects.
	Parquet StorageFormat = iota
	// NDJSON: loglake's raw/ objects, one JSON record per line, read with
	// the OpenX JSON SerDe. Athena decompresses them by file extension, so
	// the .ndjson.zst objects loglake writes are read as Zstandard.
	NDJSON
)

// ColumnDef is one data column of a table.
type ColumnDef struct {
	Name string
	// Type is one of ColumnTypes.
	Type string
}

// ColumnTypes are the data column types DDL accepts.
var ColumnTypes = []string{"string", "bigint", "double", "boolean", "timestamp"}

// Table describes an external table for Athena (or Trino's Hive
// connector) over a projected lake.
type Table struct {
	// Name is the table name, optionally "database.table". Required.
	Name string
	// Columns are the data columns, in order. Required. Their names must not
	// repeat a partition column.
	Columns []ColumnDef
	// Format is the objects' encoding. Default: Parquet.
	Format StorageFormat
	// Location is the table's LOCATION, e.g. "s3://bucket/prefix/compacted/".
	// Required.
	Location string
	// Projection gives the partition columns (all declared string, as the
	// values are path text) and the TBLPROPERTIES. Required.
	Projection *Config
}

// LakeTable is the Table of loglake's own layout under root (a URL such as
// "s3://bucket/prefix"): the compacted Parquet table, or with raw the NDJSON
// table, projected by Default or DefaultRaw with retentionDays.
func LakeTable(name, root string, raw bool, cols []ColumnDef, retentionDays int) Table {
	t := Table{Name: name, Columns: cols, Location: joinRoot(root, AreaCompacted), Projection: Default(root, retentionDays, time.UTC)}
	if raw {
		t.Format = NDJSON
		t.Location = joinRoot(root, AreaRaw)
		t.Projection = DefaultRaw(root, retentionDays, time.UTC)
	}
	return t
}

// DDL renders the CREATE EXTERNAL TABLE statement. Identifiers are checked
// against [A-Za-z_][A-Za-z0-9_]* and back-quoted; string literals
// (LOCATION, property values) may not contain quotes, backslashes or
// control characters. So no name or value can end a literal or an
// identifier early and inject DDL: such input is an error, never escaped.
// Every problem is reported.
func (t Table) DDL() (string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("projection: ddl: "+format, args...)) }

	var name string
	if t.Name == "" {
		bad("table name is required")
	}
	for i, part := range strings.Split(t.Name, ".") {
		if err := validIdent(part); err != nil && t.Name != "" {
			bad("table name: %v", err)
			break
		}
		if i > 1 {
			bad("table name %q: want table or database.table", t.Name)
			break
		}
		if i > 0 {
			name += "."
		}
		name += "`" + part + "`"
	}
	if t.Projection == nil {
		bad("projection is required")
		return "", errors.Join(errs...)
	}
	if err := t.Projection.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(t.Columns) == 0 {
		bad("at least one column is required")
	}
	seen := map[string]bool{}
	for _, c := range t.Projection.Columns {
		seen[strings.ToLower(c.Name)] = true
	}
	for _, c := range t.Columns {
		if err := validIdent(c.Name); err != nil {
			bad("column name: %v", err)
			continue
		}
		if seen[strings.ToLower(c.Name)] {
			bad("column %q repeats a partition column or another column", c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		if !validType(c.Type) {
			bad("column %q: type %q: want one of %s", c.Name, c.Type, strings.Join(ColumnTypes, ", "))
		}
	}
	if t.Location == "" {
		bad("location is required")
	} else if err := literalOK(t.Location); err != nil {
		bad("location: %v", err)
	}
	props := t.Projection.propertyList()
	for _, kv := range props {
		if err := literalOK(kv[1]); err != nil {
			bad("property %q: %v", kv[0], err)
		}
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
	for i, c := range t.Columns {
		fmt.Fprintf(&b, "  `%s` %s", c.Name, strings.ToLower(c.Type))
		if i < len(t.Columns)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")\nPARTITIONED BY (")
	for i, c := range t.Projection.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s` string", c.Name)
	}
	b.WriteString(")\n")
	switch t.Format {
	case NDJSON:
		b.WriteString("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n")
		b.WriteString("STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n")
		b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	default:
		b.WriteString("STORED AS PARQUET\n")
	}
	fmt.Fprintf(&b, "LOCATION '%s'\nTBLPROPERTIES (\n", t.Location)
	for i, kv := range props {
		fmt.Fprintf(&b, "  '%s'='%s'", kv[0], kv[1])
		if i < len(props)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")\n")
	return b.String(), nil
}

func validType(s string) bool {
	for _, t := range ColumnTypes {
		if strings.EqualFold(s, t) {
			return true
		}
	}
	return false
}

// literalOK rejects what could end or bend a single-quoted DDL literal.
func literalOK(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '\\' || c == '"' || c == '`' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("%q: quotes, backslashes and control characters are not allowed", s)
		}
	}
	return nil
}
