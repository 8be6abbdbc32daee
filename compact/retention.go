package compact

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loglake/loglake"
)

// DefaultKeepDays is the retention [Compactor.Expire] applies when asked
// for 0 days: five years, as the lake's users keep logs.
const DefaultKeepDays = 1825

// DefaultGrace is the age below which [Compactor.CollectGarbage] leaves an
// unreferenced file alone when asked for a zero grace: longer than any
// compaction runs, so files being written are never collected.
const DefaultGrace = time.Hour

// ExpiredPartition is one partition Expire deleted (or would delete).
type ExpiredPartition struct {
	Partition loglake.Partition
	Objects   int
	Bytes     int64
}

// ExpireReport lists what Expire deleted, or would delete in a dry run.
type ExpireReport struct {
	DryRun     bool
	Cutoff     loglake.Day // partitions before this day are expired
	Partitions []ExpiredPartition
}

// Expire deletes every partition whose day is keepDays or more days before
// today (in the lake's zone): its raw objects, manifests and Parquet files.
// keepDays 0 means [DefaultKeepDays]. With dryRun it only reports what it
// would delete. It lists raw/ and compacted/ by tenant to find partitions.
//
// Deletion order keeps every moment readable: raw objects first (the
// manifest still stands for what it covers), then manifests from oldest to
// newest (so the newest left is always one whose files exist), then files.
func (c *Compactor) Expire(ctx context.Context, keepDays int, dryRun bool) (ExpireReport, error) {
	if c.closed.Load() {
		return ExpireReport{}, loglake.ErrClosed
	}
	if keepDays < 0 {
		return ExpireReport{}, fmt.Errorf("%w: compact: keepDays %d: want >= 0", loglake.ErrInvalidOptions, keepDays)
	}
	if keepDays == 0 {
		keepDays = DefaultKeepDays
	}
	today := loglake.DayOf(c.opts.Clock(), c.lake.Location())
	rep := ExpireReport{DryRun: dryRun, Cutoff: today.AddDays(-keepDays + 1)}
	parts, err := c.partitionsIn(ctx, func(d loglake.Day) bool { return d.Before(rep.Cutoff) })
	if err != nil {
		return rep, err
	}
	for _, p := range parts {
		ep := ExpiredPartition{Partition: p}
		var raw, mans, rest []string
		for _, area := range []string{loglake.AreaRaw, loglake.AreaCompacted} {
			for obj, err := range c.lake.List(ctx, p.Prefix(area), "") {
				if err != nil {
					return rep, err
				}
				ep.Objects++
				ep.Bytes += obj.Size
				switch {
				case area == loglake.AreaRaw:
					raw = append(raw, obj.Key)
				case strings.Contains(obj.Key, "/"+manifestDir):
					mans = append(mans, obj.Key)
				default:
					rest = append(rest, obj.Key)
				}
			}
		}
		if !dryRun {
			slices.Sort(mans) // oldest generation first
			for _, group := range [][]string{raw, mans, rest} {
				for _, k := range group {
					if err := c.lake.Delete(ctx, k); err != nil {
						return rep, err
					}
				}
			}
		}
		rep.Partitions = append(rep.Partitions, ep)
	}
	return rep, nil
}

// partitionsIn lists the partitions of raw/ and compacted/ whose day
// passes keep.
func (c *Compactor) partitionsIn(ctx context.Context, keep func(loglake.Day) bool) ([]loglake.Partition, error) {
	seen := map[loglake.Partition]bool{}
	var out []loglake.Partition
	for _, area := range []string{loglake.AreaRaw, loglake.AreaCompacted} {
		tenants, err := c.listTenants(ctx, area)
		if err != nil {
			return nil, err
		}
		for _, t := range tenants {
			days, err := c.listDaysIn(ctx, area, t)
			if err != nil {
				return nil, err
			}
			for _, d := range days {
				p := loglake.Partition{Tenant: t, Day: d}
				if keep(d) && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b loglake.Partition) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return a.Day.Compare(b.Day)
	})
	return out, nil
}

// GCReport lists what CollectGarbage deleted.
type GCReport struct {
	Partitions int      // compacted partitions examined
	Deleted    []string // keys deleted
	Bytes      int64
}

// CollectGarbage deletes, in every compacted partition, the files that the
// newest manifest does not reference and that are older than grace
// (Parquet files of compactions that crashed or lost a race and could not
// clean up, temporary files), and manifest generations beyond
// Options.KeepManifests. grace 0 means [DefaultGrace]; it must exceed the
// longest compaction, whose files are unreferenced until it commits.
func (c *Compactor) CollectGarbage(ctx context.Context, grace time.Duration) (GCReport, error) {
	var rep GCReport
	if c.closed.Load() {
		return rep, loglake.ErrClosed
	}
	if grace < 0 {
		return rep, fmt.Errorf("%w: compact: grace %v: want >= 0", loglake.ErrInvalidOptions, grace)
	}
	if grace == 0 {
		grace = DefaultGrace
	}
	cutoff := c.opts.Clock().Add(-grace)
	tenants, err := c.listTenants(ctx, loglake.AreaCompacted)
	if err != nil {
		return rep, err
	}
	for _, t := range tenants {
		days, err := c.listDaysIn(ctx, loglake.AreaCompacted, t)
		if err != nil {
			return rep, err
		}
		for _, d := range days {
			p := loglake.Partition{Tenant: t, Day: d}
			rep.Partitions++
			if err := c.collectPartition(ctx, p, cutoff, &rep); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

func (c *Compactor) collectPartition(ctx context.Context, p loglake.Partition, cutoff time.Time, rep *GCReport) error {
	v := &View{Partition: p}
	if err := v.readManifest(ctx, c.lake); err != nil {
		return err
	}
	live := map[string]bool{}
	if v.man != nil {
		for _, f := range v.man.Files {
			live[f.Key] = true
		}
	}
	// Generations below the KeepManifests newest ones go; a generation
	// committed after the listing is newer still, and stays.
	var pruneBelow int64
	if len(v.gens) > c.opts.KeepManifests {
		pruneBelow = v.gens[len(v.gens)-c.opts.KeepManifests]
	}
	prefix := p.Prefix(loglake.AreaCompacted)
	for obj, err := range c.lake.List(ctx, prefix, "") {
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(obj.Key, prefix)
		del := false
		if m, ok := strings.CutPrefix(name, manifestDir); ok {
			if g, ok := parseManifestName(m); ok {
				del = g < pruneBelow
			} else {
				del = obj.ModTime.Before(cutoff) // a temporary file
			}
		} else {
			del = !live[obj.Key] && obj.ModTime.Before(cutoff)
		}
		if !del {
			continue
		}
		if err := c.lake.Delete(ctx, obj.Key); err != nil {
			return err
		}
		rep.Deleted = append(rep.Deleted, obj.Key)
		rep.Bytes += obj.Size
		c.stats.filesDeleted.Add(1)
	}
	return nil
}
