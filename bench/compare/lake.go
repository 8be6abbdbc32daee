package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/query"
)

// lakeRun runs one loglake measurement.
func lakeRun(ctx context.Context, t task) (result, error) {
	switch t.Op {
	case opIngest:
		return lakeIngest(ctx, t)
	case opCompact:
		return lakeCompact(ctx, t)
	case opQuery:
		return lakeQuery(ctx, t)
	}
	return result{}, fmt.Errorf("unknown op %q", t.Op)
}

// lakeIngest reads the envelope file and hands it to an Ingestor in chunks
// of about 1 MiB from one goroutine per thread, as a service receiving
// uploads would; the time ends when Close has written every object.
func lakeIngest(ctx context.Context, t task) (result, error) {
	var res result
	var written int64
	var err error
	res.Seconds, err = timed(func() error {
		data, err := os.ReadFile(t.Input)
		if err != nil {
			return err
		}
		chunks := splitChunks(data, 1<<20)
		lake, err := loglake.Open(ctx, t.Output)
		if err != nil {
			return err
		}
		defer lake.Close()
		ing, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
		if err != nil {
			return err
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, t.Threads)
		for w := range t.Threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1)) - 1
					if k >= len(chunks) {
						return
					}
					if err := ing.Add(ctx, chunks[k]); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		cerr := ing.Close(ctx)
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		if cerr != nil {
			return cerr
		}
		st := ing.Stats()
		if st.DeadLettered != 0 || st.Spilled != 0 {
			return fmt.Errorf("loglake ingest: %d records dead-lettered, %d spilled", st.DeadLettered, st.Spilled)
		}
		written = st.Written
		return nil
	})
	res.Count = written
	return res, err
}

// splitChunks cuts NDJSON into chunks of about size bytes at line ends.
func splitChunks(data []byte, size int) [][]byte {
	var chunks [][]byte
	for len(data) > 0 {
		cut := min(len(data), size)
		for cut < len(data) && data[cut-1] != '\n' {
			cut++
		}
		chunks = append(chunks, data[:cut])
		data = data[cut:]
	}
	return chunks
}

// lakeCompact compacts every partition of the lake that has raw data.
func lakeCompact(ctx context.Context, t task) (result, error) {
	var res result
	var rows int64
	var err error
	res.Seconds, err = timed(func() error {
		lake, err := loglake.Open(ctx, t.Input, loglake.WithMustExist())
		if err != nil {
			return err
		}
		defer lake.Close()
		c, err := compact.New(lake, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		rep, err := c.Run(ctx, compact.Plan{All: true})
		if err != nil {
			return err
		}
		for _, p := range rep.Partitions {
			rows += p.Records
		}
		return nil
	})
	res.Count = rows
	if err == nil {
		res.OutBytes, res.OutFiles, err = parquetOutput(filepath.Join(t.Input, "compacted"))
	}
	return res, err
}

// lakeQuery counts the rows a query matches with loglake's query engine:
// over raw objects on the raw fixture, over Parquet on the compacted lake.
func lakeQuery(ctx context.Context, t task) (result, error) {
	var res result
	var n int64
	var err error
	res.Seconds, err = timed(func() error {
		lake, err := loglake.Open(ctx, t.Input, loglake.WithMustExist())
		if err != nil {
			return err
		}
		defer lake.Close()
		eng, err := query.New(lake, &query.Options{
			AllowCrossTenant: len(t.Query.Tenants) == 0,
			// The dt projection runs up to NOW: pin it past the data.
			Now: func() time.Time { return dataEnd.AddDate(0, 0, 2) },
		})
		if err != nil {
			return err
		}
		defer eng.Close()
		q, err := query.Parse("SELECT count(*) FROM logs WHERE " + t.Query.sqlWhere())
		if err != nil {
			return err
		}
		rows, err := eng.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			b := rows.RecordBatch()
			col, ok := b.Column(0).(*array.Int64)
			if !ok {
				return fmt.Errorf("count(*) is a %s column", b.Column(0).DataType())
			}
			for i := range col.Len() {
				n += col.Value(i)
			}
		}
		return rows.Err()
	})
	res.Count = n
	return res, err
}
