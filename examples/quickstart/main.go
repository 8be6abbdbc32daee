// Quickstart runs loglake's main job on an embedded file:// lake: it
// generates PC operation logs from several tenants (skewed sizes, a few days,
// Japanese window titles, long Windows paths, some marked 社外秘), ingests
// them into tenant/day partitions and prints the partitions it made.
//
//	go run ./examples/quickstart            # a lake in a temp dir, removed at the end
//	go run ./examples/quickstart -dir lake  # keep the lake in ./lake
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/query"
)

func main() {
	dir := flag.String("dir", "", "lake directory (default: a temp dir, removed at exit)")
	records := flag.Int("records", 200_000, "number of log records to generate")
	tenants := flag.Int("tenants", 8, "number of tenants")
	days := flag.Int("days", 3, "number of days")
	flag.Parse()
	if err := run(context.Background(), *dir, *records, *tenants, *days); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, records, tenants, days int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "loglake-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "lake")
	}
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer lake.Close()
	fmt.Printf("lake: file://%s\n\n", filepath.ToSlash(dir))

	// 1. Ingest: clients upload envelopes; the Ingestor splits them into
	// records and buffers them per tenant and day.
	g := gen.New(gen.Config{Tenants: tenants, Days: days, End: time.Now().UTC().AddDate(0, 0, -1)})
	// device_id and agent_version are envelope fields every record keeps.
	ing, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id", "agent_version"}})
	if err != nil {
		return err
	}
	start := time.Now()
	var buf []byte
	var inBytes int
	for g.Records < records {
		buf, _ = g.AppendEnvelope(buf[:0])
		inBytes += len(buf)
		if err := ing.Add(ctx, buf); err != nil {
			return err
		}
	}
	if err := ing.Close(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	st := ing.Stats()
	fmt.Printf("ingested %d records (%d envelopes, %.1f MiB) in %v: %.0f records/s\n",
		g.Records, g.Envelopes, float64(inBytes)/(1<<20), el.Round(time.Millisecond), float64(g.Records)/el.Seconds())
	fmt.Printf("%d raw objects (%.1f MiB zstd), %d dead letters\n\n", st.Objects, float64(st.BytesWritten)/(1<<20), st.DeadLettered)

	if err := printPartitions(ctx, lake); err != nil {
		return err
	}
	if err := compactAndShow(ctx, lake); err != nil {
		return err
	}
	return searchWeek(ctx, lake, g.Tenants()[0])
}

// printPartitions lists raw/ and prints one line per partition.
func printPartitions(ctx context.Context, lake *loglake.Lake) error {
	type info struct {
		objects int
		bytes   int64
	}
	parts := map[loglake.Partition]*info{}
	for obj, err := range lake.List(ctx, loglake.AreaRaw+"/", "") {
		if err != nil {
			return err
		}
		k, err := loglake.ParseObjectKey(obj.Key)
		if err != nil {
			continue
		}
		in := parts[k.Partition]
		if in == nil {
			in = &info{}
			parts[k.Partition] = in
		}
		in.objects++
		in.bytes += obj.Size
	}
	keys := make([]loglake.Partition, 0, len(parts))
	for p := range parts {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c := keys[i].Day.Compare(keys[j].Day); c != 0 {
			return c > 0
		}
		return keys[i].Tenant < keys[j].Tenant
	})
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tRAW OBJECTS\tBYTES (zstd)")
	for _, p := range keys {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", p.Prefix(loglake.AreaRaw), parts[p].objects, parts[p].bytes)
	}
	tw.Flush()
	fmt.Printf("\n%d partitions. Browse them with: go run ./cmd/loglake ls --lake <dir>\n", len(keys))
	return nil
}

// compactAndShow compacts every partition to Parquet (what a daily job
// does) and prints the Parquet files each manifest commits.
func compactAndShow(ctx context.Context, lake *loglake.Lake) error {
	c, err := compact.New(lake, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	rep, err := c.Run(ctx, compact.Plan{All: true})
	if err != nil {
		return err
	}
	st := c.Stats()
	fmt.Printf("\ncompacted %d partitions in %v: %.1f MiB of NDJSON became %.1f MiB of Parquet (%d files)\n\n",
		rep.Count(compact.OutcomeCompacted), time.Since(start).Round(time.Millisecond),
		float64(st.InputBytes)/(1<<20), float64(st.BytesWritten)/(1<<20), st.FilesWritten)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARQUET FILE\tROWS\tBYTES\tFIRST\tLAST")
	for _, pr := range rep.Partitions {
		v, err := compact.Snapshot(ctx, lake, pr.Partition)
		if err != nil {
			return err
		}
		for _, f := range v.Parquet {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", f.Key, f.Rows, f.Size,
				f.MinTime.Format(time.TimeOnly), f.MaxTime.Format(time.TimeOnly))
		}
	}
	tw.Flush()
	if len(rep.Partitions) > 0 {
		v, err := compact.Snapshot(ctx, lake, rep.Partitions[0].Partition)
		if err != nil {
			return err
		}
		fmt.Printf("\ncolumns of %s: %v\n", rep.Partitions[0].Partition, v.Schema)
	}
	return nil
}

// searchWeek runs the hard case of the workload — an infix LIKE on long
// Windows paths — over one tenant's last week, and prints the newest
// matches and what the query read.
func searchWeek(ctx context.Context, lake *loglake.Lake, tenant string) error {
	eng, err := query.New(lake, nil)
	if err != nil {
		return err
	}
	defer eng.Close()
	today := lake.Today()
	q, err := query.Parse(fmt.Sprintf(`SELECT timestamp, user, file_path FROM logs
		WHERE tenant_id = '%s' AND dt BETWEEN '%s' AND '%s'
		  AND file_path LIKE '%%社外秘%%'
		ORDER BY timestamp DESC LIMIT 5`, tenant, today.AddDays(-6), today))
	if err != nil {
		return err
	}
	fmt.Printf("\nquery: %s\n\n", q)
	rows, err := eng.Query(ctx, q)
	if err != nil {
		return err
	}
	if err := query.WriteTable(os.Stdout, rows); err != nil {
		rows.Close()
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fmt.Printf("\nstats: %v\n", rows.Stats())
	return nil
}
