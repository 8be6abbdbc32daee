package query_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/query"
)

// exampleLake returns a mem:// lake with a few of acme's and globex's logs.
func exampleLake(ctx context.Context) (*loglake.Lake, error) {
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		return nil, err
	}
	ing, err := ingest.New(lake, &ingest.Options{})
	if err != nil {
		return nil, err
	}
	for _, env := range []string{
		`{"tenant_id":"acme","device_id":"pc-1","log":[
			{"timestamp":"2026-11-19T09:00:00Z","log_type":"file","file_path":"C:\\Users\\aoi\\社外秘\\plan.docx","size":120},
			{"timestamp":"2026-11-20T10:30:00Z","log_type":"file","file_path":"C:\\Users\\aoi\\memo.txt","size":4},
			{"timestamp":"2026-11-20T11:00:00Z","log_type":"window","window_title":"【社外秘】予算.xlsx - Excel"}]}`,
		`{"tenant_id":"globex","device_id":"pc-9","log":[
			{"timestamp":"2026-11-20T10:00:00Z","log_type":"file","file_path":"C:\\社外秘\\other-tenant.docx"}]}`,
	} {
		if err := ing.Add(ctx, []byte(env)); err != nil {
			return nil, err
		}
	}
	return lake, ing.Close(ctx)
}

// exampleNow is the engines' clock in the examples: the dt projection
// reaches back RetentionDays from it.
func exampleNow() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }

func ExampleEngine_Query() {
	ctx := context.Background()
	lake, err := exampleLake(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := query.New(lake, &query.Options{Now: exampleNow})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	q := query.Select("dt", "timestamp", "file_path").
		Where(query.And(
			query.Eq("tenant_id", "acme"),
			query.Between("dt", "2026-11-14", "2026-11-20"),
			query.Like("file_path", "%社外秘%"),
		))
	rows, err := eng.Query(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rows.Close()
	if err := query.WriteTable(os.Stdout, rows); err != nil {
		fmt.Println(err)
		return
	}
	st := rows.Stats()
	fmt.Println("partitions:", st.PartitionsConsidered, "considered,", st.PartitionsRead, "read; rows:", st.RowsScanned, "scanned,", st.RowsMatched, "matched")
	// Output:
	// dt          timestamp             file_path
	// 2026-11-19  2026-11-19T09:00:00Z  C:\Users\aoi\社外秘\plan.docx
	// (1 rows)
	// partitions: 7 considered, 2 read; rows: 3 scanned, 1 matched
}

func ExampleWriteNDJSON() {
	ctx := context.Background()
	lake, err := exampleLake(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := query.New(lake, &query.Options{Now: exampleNow})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	q, err := query.Parse(`SELECT log_type, count(*) AS n FROM logs
		WHERE tenant_id = 'acme' AND dt >= '2026-11-01'
		GROUP BY log_type ORDER BY n DESC`)
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, err := eng.Query(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rows.Close()
	if err := query.WriteNDJSON(os.Stdout, rows); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"log_type":"file","n":2}
	// {"log_type":"window","n":1}
}

func ExampleEngine_Query_unscoped() {
	ctx := context.Background()
	lake, err := exampleLake(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := query.New(lake, &query.Options{Now: exampleNow})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	q, _ := query.Parse("SELECT * FROM logs WHERE tenant_id = 'acme' OR file_path LIKE '%社外秘%'")
	_, err = eng.Query(ctx, q)
	fmt.Println(err)
	// Output:
	// query: WHERE must constrain tenant_id with = or IN at the top level: loglake: query is not scoped to tenants
}
