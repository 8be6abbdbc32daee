package main

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

func init() {
	register(&command{
		name:    "compact",
		usage:   "--lake URL [--day YYYY-MM-DD]... [--all] [--tenant T]... [--concurrency N] [--lease-ttl D | --no-leases] [--dispatch TOPIC_URL]",
		summary: "compact raw NDJSON partitions into Parquet, committed by manifest",
		help: `compact turns raw/ objects into sorted Parquet files under compacted/ and
commits them per partition. Without --day or --all it compacts every day before
today (in the lake's time zone) that has raw data, late data included. --all
compacts today's partition too. Tenants run in parallel (--concurrency); a
failing partition is retried and reported without holding up the others.
Progress goes to stderr, one line per partition, then a summary; the exit
status is 1 if any partition failed.

Several compact processes (and loglake worker processes) may run on one lake
at once, on one machine or many: each partition is compacted under a lease
object in the lake, so they split the partitions among themselves. A partition
leased by another process is skipped and tried again at the end, once the
other has finished or its lease has expired (it died); when compact exits 0,
every selected partition is compacted. --no-leases turns this off (still
correct, as commits are atomic, but processes then repeat each other's work).

--dispatch TOPIC_URL compacts nothing: it publishes one message per selected
partition to a gocloud.dev pubsub topic, for loglake worker processes to
consume: awssns:///arn:aws:sns:REGION:ACCOUNT:TOPIC?region=REGION or
awssqs://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE?region=REGION on AWS (the
usual AWS environment variables apply), mem://NAME within one process.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			var days, tenants stringList
			fs.Var(&days, "day", "compact this day, YYYY-MM-DD (repeatable)")
			fs.Var(&tenants, "tenant", "only this tenant (repeatable)")
			all := fs.Bool("all", false, "compact every partition with raw data, today's included")
			concurrency := fs.Int("concurrency", 0, "tenants compacted at once (default 2)")
			bufferMB := fs.Int("buffer-mb", 0, "MiB of decoded NDJSON held per partition before a file is written (default 128)")
			leaseTTL := fs.Duration("lease-ttl", 0, "how long a partition's lease lasts unless renewed (default 2m); a dead process holds its partition this long")
			noLeases := fs.Bool("no-leases", false, "compact without leases (other compactors on the lake repeat the work)")
			dispatch := fs.String("dispatch", "", "publish one message per partition to this pubsub topic URL instead of compacting")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *all && len(days) > 0 {
					return usagef("--all and --day exclude each other")
				}
				if *noLeases && *leaseTTL != 0 {
					return usagef("--no-leases and --lease-ttl exclude each other")
				}
				var plan compact.Plan
				plan.All = *all
				for _, d := range days {
					day, err := loglake.ParseDay(d)
					if err != nil {
						return usagef("--day: %v", err)
					}
					plan.Days = append(plan.Days, day)
				}
				for _, t := range tenants {
					if err := loglake.ValidateTenant(t); err != nil {
						return usagef("--tenant: %v", err)
					}
				}
				plan.Tenants = tenants
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				defer lake.Close()
				var mu sync.Mutex
				opts := &compact.Options{
					Concurrency:   *concurrency,
					BufferBytes:   int64(*bufferMB) << 20,
					LeaseTTL:      *leaseTTL,
					DisableLeases: *noLeases,
					Hooks: compact.Hooks{OnLeased: func(le *compact.LeasedError) {
						mu.Lock()
						defer mu.Unlock()
						fmt.Fprintf(e.stderr, "%-44s leased by %s until %s: trying again later\n", le.Partition, le.Owner, le.Expires.Local().Format(time.TimeOnly))
					}, OnDone: func(r compact.Result, err error) {
						mu.Lock()
						defer mu.Unlock()
						line := fmt.Sprintf("%-44s %-9s gen %-3d raw %4d  %8s in  %9d rows  %2d files  %v", r.Partition, r.Outcome,
							r.Generation, r.RawObjects, humanBytes(r.InputBytes), r.Records, len(r.Files), r.Duration.Round(time.Millisecond))
						if err != nil {
							line += "  error: " + err.Error()
						}
						fmt.Fprintln(e.stderr, line)
					}},
				}
				c, err := compact.New(lake, opts)
				if err != nil {
					return err
				}
				defer c.Close()
				if *dispatch != "" {
					return dispatchPartitions(ctx, e, c, *dispatch, plan)
				}
				rep, runErr := c.Run(ctx, plan)
				st := c.Stats()
				leased := 0
				for _, p := range rep.Partitions {
					if p.LeasedBy != "" {
						leased++
					}
				}
				fmt.Fprintf(e.stderr, "compacted %d, unchanged %d, conflicts %d, failed %d of %d partitions (%d found leased elsewhere) in %v; %s in, %d records, %d files (%s) written, %d raw objects deleted\n",
					rep.Count(compact.OutcomeCompacted), rep.Count(compact.OutcomeUnchanged), rep.Count(compact.OutcomeConflict),
					rep.Count(compact.OutcomeFailed), len(rep.Partitions), leased, rep.Duration.Round(time.Millisecond),
					humanBytes(st.InputBytes), st.Records, st.FilesWritten, humanBytes(st.BytesWritten), st.RawDeleted)
				return runErr
			}
		},
	})
}
