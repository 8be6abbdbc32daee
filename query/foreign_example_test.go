package query_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake/projection"
	"github.com/loglake/loglake/query"
)

// ExampleNewForeign searches a bucket as Firehose's dynamic partitioning
// leaves it: gzip objects of envelopes concatenated without newlines,
// under logs/<tenant>/<yyyy>/<MM>/<dd>/.
func ExampleNewForeign() {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	fmt.Fprint(zw, `{"tenant_id":"acme","device_id":"pc-1","log":[`+
		`{"timestamp":"2026-11-20T09:30:00Z","file_path":"C:\\share\\社外秘\\plan.docx"},`+
		`{"timestamp":"2026-11-20T09:31:00Z","file_path":"C:\\tmp\\a.txt"}]}`+
		`{"tenant_id":"acme","device_id":"pc-2","log":[`+
		`{"timestamp":"2026-11-20T10:02:00Z","file_path":"D:\\社外秘.xlsx"}]}`)
	zw.Close()
	key := "logs/acme/2026/11/20/stream-1-2026-11-20-10-05-00-0f3c.gz"
	if err := bucket.WriteAll(ctx, key, body.Bytes(), nil); err != nil {
		fmt.Println(err)
		return
	}

	now := func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	cfg, err := projection.FromFirehosePrefix("",
		"logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/",
		&projection.FirehoseOptions{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := query.NewForeign(bucket, query.ForeignLayout{
		Projection:  cfg,
		CarryFields: []string{"device_id"},
	}, &query.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	q, err := query.Parse(`SELECT timestamp, device_id, file_path FROM logs
		WHERE tenant_id = 'acme' AND dt = '2026-11-20' AND file_path LIKE '%社外秘%'
		ORDER BY timestamp`)
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, err := eng.Query(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := query.WriteNDJSON(os.Stdout, rows); err != nil {
		fmt.Println(err)
	}
	rows.Close()
	// Output:
	// {"timestamp":"2026-11-20T09:30:00Z","device_id":"pc-1","file_path":"C:\\share\\社外秘\\plan.docx"}
	// {"timestamp":"2026-11-20T10:02:00Z","device_id":"pc-2","file_path":"D:\\社外秘.xlsx"}
}
