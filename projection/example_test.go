package projection_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/loglake/loglake/projection"
)

// A fixed clock keeps NOW-relative ranges deterministic.
var now = func() time.Time { return time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC) }

// The query planner's view of loglake's own layout: one tenant, the last
// three days of a time range, newest first.
func Example() {
	cfg := projection.Default("s3://bucket/lake", 0, nil)
	cons := map[string]projection.Constraint{
		"tenant_id": projection.Eq("acme"),
		"dt":        projection.Overlapping(time.Date(2024, 3, 8, 6, 0, 0, 0, time.UTC), time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)),
	}
	for p, err := range cfg.Enumerate(cons, &projection.EnumerateOptions{Now: now, Descending: true}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Values, p.Location)
	}
	// Output:
	// [acme 2024-03-10] s3://bucket/lake/compacted/tenant_id=acme/dt=2024-03-10/
	// [acme 2024-03-09] s3://bucket/lake/compacted/tenant_id=acme/dt=2024-03-09/
	// [acme 2024-03-08] s3://bucket/lake/compacted/tenant_id=acme/dt=2024-03-08/
}

// Parse reads the TBLPROPERTIES of any table Athena can project, here the
// "datehour" table of Athena's Firehose example.
func ExampleParse() {
	cfg, err := projection.Parse(map[string]string{
		"projection.enabled":                "true",
		"projection.datehour.type":          "date",
		"projection.datehour.range":         "2021/01/01/00,NOW",
		"projection.datehour.format":        "yyyy/MM/dd/HH",
		"projection.datehour.interval":      "1",
		"projection.datehour.interval.unit": "HOURS",
		"storage.location.template":         "s3://amzn-s3-demo-bucket/prefix/${datehour}/",
		"classification":                    "json", // not a projection property: ignored
	}, []string{"datehour"})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := cfg.Count(nil, &projection.EnumerateOptions{Now: now})
	fmt.Println(n, "hourly partitions")
	// Output:
	// 27949 hourly partitions
}

// Errors name the property at fault.
func ExampleParse_error() {
	_, err := projection.Parse(map[string]string{
		"projection.enabled":    "true",
		"projection.day.type":   "date",
		"projection.day.range":  "2024-01-01,NOW",
		"projection.day.format": "EEE yyyy-MM-dd",
	}, []string{"day"})
	var pe *projection.PropertyError
	fmt.Println(errors.As(err, &pe), pe.Property)
	fmt.Println(err)
	// Output:
	// true projection.day.format
	// projection: property "projection.day.format" = "EEE yyyy-MM-dd": unsupported pattern letter 'E' in "EEE yyyy-MM-dd"
}

// Injected values come from the query and are checked before they reach a
// location.
func ExampleConfig_Enumerate_injected() {
	cfg := projection.Default("", 0, nil)
	for _, err := range cfg.Enumerate(map[string]projection.Constraint{"tenant_id": projection.Eq("../other")}, nil) {
		fmt.Println(errors.Is(err, projection.ErrInvalidValue), err)
	}
	for _, err := range cfg.Enumerate(nil, nil) {
		fmt.Println(errors.Is(err, projection.ErrInvalidConstraint))
	}
	// Output:
	// true column "tenant_id": projection: invalid partition value "../other": contains "..": loglake: invalid tenant id
	// true
}

// The guard fails before enumerating anything.
func ExampleEnumerateOptions_maxPartitions() {
	cfg := projection.Default("", 0, nil)
	cons := map[string]projection.Constraint{"tenant_id": projection.In("a", "b", "c")}
	_, err := cfg.Count(cons, &projection.EnumerateOptions{Now: now, MaxPartitions: 1000})
	fmt.Println(err)
	// Output:
	// projection: too many partitions: the constraints select 5478 partitions, more than the limit of 1000; constrain more columns or narrow the ranges
}

// A lake written by Firehose dynamic partitioning, described from its
// prefix expression.
func ExampleFromFirehosePrefix() {
	cfg, err := projection.FromFirehosePrefix("s3://bucket",
		"logs/!{partitionKeyFromQuery:tenant}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/",
		&projection.FirehoseOptions{DateColumn: "day"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.LocationTemplate)
	cons := map[string]projection.Constraint{"tenant": projection.Eq("t1"), "day": projection.In("2024/03/09")}
	for p := range cfg.Enumerate(cons, &projection.EnumerateOptions{Now: now}) {
		fmt.Println(p.Location)
	}
	// Output:
	// s3://bucket/logs/${tenant}/${day}/
	// s3://bucket/logs/t1/2024/03/09/
}

// DDL for Athena over loglake's compacted table.
func ExampleTable_DDL() {
	t := projection.LakeTable("pc_logs", "s3://bucket/lake", false, []projection.ColumnDef{
		{Name: "timestamp", Type: "timestamp"},
		{Name: "file_path", Type: "string"},
	}, 0)
	ddl, err := t.DDL()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(ddl)
	// Output:
	// CREATE EXTERNAL TABLE IF NOT EXISTS `pc_logs` (
	//   `timestamp` timestamp,
	//   `file_path` string
	// )
	// PARTITIONED BY (`tenant_id` string, `dt` string)
	// STORED AS PARQUET
	// LOCATION 's3://bucket/lake/compacted/'
	// TBLPROPERTIES (
	//   'projection.enabled'='true',
	//   'projection.tenant_id.type'='injected',
	//   'projection.dt.type'='date',
	//   'projection.dt.range'='NOW-1825DAYS,NOW',
	//   'projection.dt.format'='yyyy-MM-dd',
	//   'projection.dt.interval'='1',
	//   'projection.dt.interval.unit'='DAYS',
	//   'storage.location.template'='s3://bucket/lake/compacted/tenant_id=${tenant_id}/dt=${dt}/'
	// )
}
