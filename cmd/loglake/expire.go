package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

func init() {
	register(&command{
		name:    "expire",
		usage:   "--lake URL --keep-days N [--dry-run]",
		summary: "delete partitions older than the retention window",
		help: `expire deletes every partition (raw objects, manifests, Parquet files) whose
day is N or more days before today in the lake's time zone. With --dry-run it
only prints what it would delete. Each partition is printed on stdout.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			keep := fs.Int("keep-days", 0, "days to keep, today included (required; 1825 is five years)")
			dry := fs.Bool("dry-run", false, "print what would be deleted, delete nothing")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if *keep <= 0 {
					return usagef("--keep-days must be a positive number of days")
				}
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				defer lake.Close()
				c, err := compact.New(lake, nil)
				if err != nil {
					return err
				}
				defer c.Close()
				rep, err := c.Expire(ctx, *keep, *dry)
				verb := "deleted"
				if *dry {
					verb = "would delete"
				}
				var objs int
				var bytes int64
				for _, p := range rep.Partitions {
					fmt.Fprintf(e.stdout, "%s %s: %d objects, %s\n", verb, p.Partition, p.Objects, humanBytes(p.Bytes))
					objs += p.Objects
					bytes += p.Bytes
				}
				fmt.Fprintf(e.stderr, "%s %d partitions before %s: %d objects, %s\n", verb, len(rep.Partitions), rep.Cutoff, objs, humanBytes(bytes))
				return err
			}
		},
	})
}
