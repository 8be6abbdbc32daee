package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
)

func Example() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()

	in, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
	if err != nil {
		log.Fatal(err)
	}
	envelope := `{"tenant_id":"acme","device_id":"pc-1","log":[` +
		`{"timestamp":"2026-11-20T09:30:00+09:00","app":"EXCEL.EXE"},` +
		`{"timestamp":1795224600,"file_path":"C:\\共有\\社外秘.docx"}]}`
	if err := in.Add(ctx, []byte(envelope)); err != nil {
		log.Fatal(err)
	}
	if err := in.Add(ctx, []byte(`{"log":[{"no":"tenant"}]}`)); err != nil { // a dead letter
		log.Fatal(err)
	}
	if err := in.Close(ctx); err != nil {
		log.Fatal(err)
	}
	for obj, err := range lake.List(ctx, "", "") {
		if err != nil {
			log.Fatal(err)
		}
		k, err := loglake.ParseObjectKey(obj.Key)
		if err == nil {
			fmt.Println(k.Area, k.Partition)
		} else if obj.Key != loglake.SettingsKey {
			fmt.Println("dead letter in", obj.Key[:len("errors/missing_tenant/")])
		}
	}
	st := in.Stats()
	fmt.Printf("%d records, %d dead letter\n", st.Written, st.DeadWritten)
	// Output:
	// dead letter in errors/missing_tenant/
	// raw tenant_id=acme/dt=2026-11-20
	// raw tenant_id=acme/dt=2026-11-21
	// 2 records, 1 dead letter
}

// AddBatch gives a Kinesis-style batch deterministic object keys: the same
// batch delivered twice writes the same objects.
func ExampleIngestor_AddBatch() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()
	in, err := ingest.New(lake, &ingest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close(ctx)

	items := [][]byte{[]byte(`{"tenant_id":"acme","log":[{"timestamp":"2026-11-20T00:00:00Z","n":1}]}`)}
	first, err := in.AddBatch(ctx, "shardId-000000000001:100-199", items)
	if err != nil {
		log.Fatal(err)
	}
	again, err := in.AddBatch(ctx, "shardId-000000000001:100-199", items)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Written, len(first.Keys), first.Keys[0] == again.Keys[0])
	// Output: 1 1 true
}

// Under the Reject policy, records past the active-partition quota are
// refused, as Firehose does; the error says which inputs.
func ExampleFlushError() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()
	in, err := ingest.New(lake, &ingest.Options{MaxActivePartitions: 1, Policy: ingest.Reject})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close(ctx)

	err = in.Add(ctx, []byte(`{"tenant_id":"a","timestamp":"2026-11-20T00:00:00Z"}
{"tenant_id":"b","timestamp":"2026-11-20T00:00:00Z"}`))
	var fe *ingest.FlushError
	if errors.As(err, &fe) && errors.Is(err, loglake.ErrTooManyActivePartitions) {
		for _, f := range fe.Failed {
			fmt.Println(f.Input, f.Records)
		}
	}
	// Output: add #1 line 1 1
}

// AddStream ingests a file or any stream of NDJSON in batches named by their
// content: ingesting the same stream again, after a crash or on a retried
// invocation, rewrites the same objects instead of adding copies.
func ExampleIngestor_AddStream() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()
	in, err := ingest.New(lake, &ingest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close(ctx)

	stream := `{"tenant_id":"acme","log":[{"timestamp":"2026-11-20T00:00:00Z","n":1},{"timestamp":"2026-11-21T00:00:00Z","n":2}]}
{"tenant_id":"beta","timestamp":"2026-11-20T00:00:00Z","n":3}
`
	for range 2 { // the second run writes the same keys
		res, err := in.AddStream(ctx, strings.NewReader(stream), ingest.StreamOptions{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Batches, res.Written, res.Objects)
	}
	n := 0
	for _, err := range lake.List(ctx, "raw/", "") {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n, "objects in raw/")
	// Output:
	// 1 3 3
	// 1 3 3
	// 3 objects in raw/
}
