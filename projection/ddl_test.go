package projection

import (
	"errors"
	"strings"
	"testing"

	"github.com/loglake/loglake/internal/datadriven"
)

// TestDDL renders CREATE EXTERNAL TABLE statements against the golden
// outputs in testdata/ddl (rewrite with -rewrite, then review). The shape
// was checked by hand against Athena's documentation:
//
//   - Parquet tables, STORED AS PARQUET, and projection TBLPROPERTIES:
//     https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html
//   - the OpenX JSON SerDe with TextInputFormat and
//     HiveIgnoreKeyTextOutputFormat, as in the CloudFront JSON example:
//     https://docs.aws.amazon.com/athena/latest/ug/create-cloudfront-table-partition-json.html
//   - an injected column and storage.location.template:
//     https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html
//   - Zstandard text files are read by their .zst extension:
//     https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html
//
// Commands: "lake name=N root=R [raw]" (input: one "name type" line per
// column) and "firehose name=N root=R location=L [date=COL] [json]" (input:
// the prefix expression, then the columns).
func TestDDL(t *testing.T) {
	datadriven.Walk(t, "testdata/ddl", func(t *testing.T, d *datadriven.TestData) string {
		arg := func(k string) string {
			if a, ok := d.Arg(k); ok {
				return strings.Join(a.Vals, ",")
			}
			return ""
		}
		lines := strings.Split(d.Input, "\n")
		var cols []ColumnDef
		var rest []string
		for _, l := range lines {
			if name, typ, ok := strings.Cut(l, " "); ok && !strings.Contains(l, "=") {
				cols = append(cols, ColumnDef{Name: name, Type: typ})
			} else if l != "" {
				rest = append(rest, l)
			}
		}
		var tbl Table
		switch d.Cmd {
		case "lake":
			_, raw := d.Arg("raw")
			tbl = LakeTable(arg("name"), arg("root"), raw, cols, 0)
		case "firehose":
			c, err := FromFirehosePrefix(arg("root"), rest[0], &FirehoseOptions{DateColumn: arg("date"), DateRange: "2021/01/01,NOW", Years: [2]int{2021, 2030}})
			if err != nil {
				return "error: " + err.Error()
			}
			tbl = Table{Name: arg("name"), Columns: cols, Location: arg("location"), Projection: c}
			if _, ok := d.Arg("json"); ok {
				tbl.Format = NDJSON
			}
		default:
			t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		}
		s, err := tbl.DDL()
		if err != nil {
			return "error: " + strings.ReplaceAll(err.Error(), "\n", "\nerror: ")
		}
		return s
	})
}

func TestDDLRejectsInjection(t *testing.T) {
	good := LakeTable("logs", "s3://bucket/lake", false, []ColumnDef{{"message", "string"}}, 0)
	if _, err := good.DDL(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Table)
	}{
		{"column name with backquote", func(t *Table) { t.Columns = []ColumnDef{{"a` string) LOCATION 's3://evil/' --", "string"}} }},
		{"column name with quote", func(t *Table) { t.Columns = []ColumnDef{{"a'b", "string"}} }},
		{"column name with newline", func(t *Table) { t.Columns = []ColumnDef{{"a\nb", "string"}} }},
		{"column type", func(t *Table) { t.Columns = []ColumnDef{{"a", "string) LOCATION 's3://evil/' --"}} }},
		{"unknown type", func(t *Table) { t.Columns = []ColumnDef{{"a", "map<string,string>"}} }},
		{"table name", func(t *Table) { t.Name = "logs`; DROP TABLE x; --" }},
		{"three-part name", func(t *Table) { t.Name = "a.b.c" }},
		{"location quote", func(t *Table) { t.Location = "s3://bucket/x' TBLPROPERTIES ('a'='b" }},
		{"location backslash", func(t *Table) { t.Location = `s3://bucket/x\` }},
		{"template quote", func(t *Table) {
			c := *t.Projection
			c.LocationTemplate = "s3://b/'${tenant_id}/${dt}/"
			t.Projection = &c
		}},
		{"column repeats a partition column", func(t *Table) { t.Columns = []ColumnDef{{"tenant_id", "string"}} }},
		{"duplicate column", func(t *Table) { t.Columns = []ColumnDef{{"a", "string"}, {"A", "bigint"}} }},
		{"no columns", func(t *Table) { t.Columns = nil }},
		{"no location", func(t *Table) { t.Location = "" }},
		{"no projection", func(t *Table) { t.Projection = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tbl := good
			tc.edit(&tbl)
			s, err := tbl.DDL()
			if err == nil {
				t.Fatalf("DDL accepted it:\n%s", s)
			}
		})
	}
	// Everything wrong at once is reported at once.
	bad := Table{Name: "x y", Columns: []ColumnDef{{"a b", "int"}}}
	bad.Projection = Default("", 0, nil)
	_, err := bad.DDL()
	for _, want := range []string{"table name", "column name", "location is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a valid projection reported as invalid: %v", err)
	}
}
