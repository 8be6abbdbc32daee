package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/loglake/loglake"
)

func init() {
	register(&command{
		name:    "ls",
		usage:   "--lake URL [--tenant T]... [--json]",
		summary: "list partitions with their raw and compacted objects and bytes, newest day first",
		help: `ls lists the objects under raw/ and compacted/ (one tenant's, with --tenant)
and prints one line per partition. It is an inventory tool: unlike queries, it
lists the bucket, so on a large lake name the tenants you want.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			var tenants stringList
			fs.Var(&tenants, "tenant", "only this tenant (repeatable)")
			asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				for _, t := range tenants {
					if err := loglake.ValidateTenant(t); err != nil {
						return err
					}
				}
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				defer lake.Close()
				parts, err := inventory(ctx, lake, tenants)
				if err != nil {
					return err
				}
				return printInventory(e.stdout, parts, *asJSON)
			}
		},
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// partitionInfo is one line of ls.
type partitionInfo struct {
	Tenant         string `json:"tenant_id"`
	Day            string `json:"dt"`
	RawObjects     int    `json:"raw_objects"`
	RawBytes       int64  `json:"raw_bytes"`
	ParquetFiles   int    `json:"parquet_files"`
	CompactedBytes int64  `json:"compacted_bytes"`
}

// inventory lists raw/ and compacted/ (or the named tenants' parts of them)
// and sums objects per partition.
func inventory(ctx context.Context, lake *loglake.Lake, tenants []string) ([]*partitionInfo, error) {
	byKey := map[loglake.Partition]*partitionInfo{}
	for _, area := range []string{loglake.AreaRaw, loglake.AreaCompacted} {
		prefixes := []string{area + "/"}
		if len(tenants) > 0 {
			prefixes = prefixes[:0]
			for _, t := range tenants {
				prefixes = append(prefixes, loglake.TenantPrefix(area, t))
			}
		}
		for _, prefix := range prefixes {
			for obj, err := range lake.List(ctx, prefix, "") {
				if err != nil {
					return nil, err
				}
				k, err := loglake.ParseObjectKey(obj.Key)
				if err != nil {
					continue // not a partition object: skip, ls is an inventory
				}
				pi := byKey[k.Partition]
				if pi == nil {
					pi = &partitionInfo{Tenant: k.Partition.Tenant, Day: k.Partition.Day.String()}
					byKey[k.Partition] = pi
				}
				switch {
				case area == loglake.AreaRaw && isNDJSON(k.Name):
					pi.RawObjects++
					pi.RawBytes += obj.Size
				case area == loglake.AreaCompacted && strings.HasSuffix(k.Name, ".parquet"):
					pi.ParquetFiles++
					pi.CompactedBytes += obj.Size
				}
			}
		}
	}
	out := make([]*partitionInfo, 0, len(byKey))
	for _, pi := range byKey {
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day > out[j].Day // newest first
		}
		return out[i].Tenant < out[j].Tenant
	})
	return out, nil
}

func isNDJSON(name string) bool {
	return strings.HasSuffix(name, ".ndjson") || strings.HasSuffix(name, ".ndjson.gz") || strings.HasSuffix(name, ".ndjson.zst")
}

func printInventory(w io.Writer, parts []*partitionInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, p := range parts {
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "TENANT\tDT\tRAW OBJECTS\tRAW BYTES\tPARQUET FILES\tPARQUET BYTES\t\n")
	var ro, pf int
	var rb, pb int64
	for _, p := range parts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t\n", p.Tenant, p.Day, p.RawObjects, humanBytes(p.RawBytes), p.ParquetFiles, humanBytes(p.CompactedBytes))
		ro, pf, rb, pb = ro+p.RawObjects, pf+p.ParquetFiles, rb+p.RawBytes, pb+p.CompactedBytes
	}
	fmt.Fprintf(tw, "%d partitions\t\t%d\t%s\t%d\t%s\t\n", len(parts), ro, humanBytes(rb), pf, humanBytes(pb))
	return tw.Flush()
}

// humanBytes renders n in binary units: 512 B, 1.5 KiB, 3.2 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
