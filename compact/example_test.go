package compact_test

import (
	"context"
	"fmt"
	"log"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

func Example() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()
	// A raw object, as ingest writes it.
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}
	raw := `{"tenant_id":"acme","timestamp":"2026-11-20T09:00:02Z","file_path":"C:\\社外秘\\a.docx","size":10}
{"tenant_id":"acme","timestamp":"2026-11-20T09:00:01Z","file_path":"C:\\b.txt","size":20}
`
	if err := lake.WriteAll(ctx, p.Prefix(loglake.AreaRaw)+"w1-000001.ndjson", []byte(raw), nil); err != nil {
		log.Fatal(err)
	}

	c, err := compact.New(lake, nil)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := c.Run(ctx, compact.Plan{All: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, pr := range rep.Partitions {
		fmt.Println(pr.Partition, pr.Outcome, "generation", pr.Generation, "records", pr.Records)
	}

	v, err := compact.Snapshot(ctx, lake, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("parquet files:", len(v.Parquet), "raw objects:", len(v.Raw))
	fmt.Println("schema:", v.Schema)
	recs, err := compact.ReadParquet(ctx, lake, v.Parquet[0])
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs { // sorted by time
		fmt.Println(r["timestamp"], r["file_path"], r["size"])
	}
	// Output:
	// tenant_id=acme/dt=2026-11-20 compacted generation 1 records 2
	// parquet files: 1 raw objects: 0
	// schema: [{file_path string} {size int64} {timestamp timestamp}]
	// 2026-11-20 09:00:01 +0000 UTC C:\b.txt 20
	// 2026-11-20 09:00:02 +0000 UTC C:\社外秘\a.docx 10
}
