package compact

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loglake/loglake"
)

// Plan selects the partitions [Compactor.Run] compacts.
type Plan struct {
	// Days are the days to compact. Empty means the default: every day
	// before today (in the lake's time zone) that has raw data — the
	// finished days, plus any older day that received late raw data.
	Days []loglake.Day
	// All compacts every partition that has raw data, today's included
	// (today's partition then takes further raw data as late data).
	All bool
	// Tenants limits the run to these tenants. Empty means every tenant
	// with raw data.
	Tenants []string
}

// PartitionReport is the outcome of one partition in a Run.
type PartitionReport struct {
	Result
	Attempts int
	Err      error // the last attempt's error; nil unless Outcome is OutcomeFailed
}

// Report lists every partition a Run touched, by tenant and day.
type Report struct {
	Partitions []PartitionReport
	Started    time.Time
	Duration   time.Duration
}

// Count returns how many partitions ended with outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, p := range r.Partitions {
		if p.Outcome == o {
			n++
		}
	}
	return n
}

// Err returns the errors of the failed partitions, joined, or nil.
func (r *Report) Err() error {
	var errs []error
	for _, p := range r.Partitions {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("compact: %d of %d partitions failed: %w", len(errs), len(r.Partitions), errors.Join(errs...))
}

// Run compacts the partitions plan selects. Tenants run in parallel, up to
// Options.Concurrency at a time, one partition of a tenant at a time,
// oldest day first. A partition that fails is retried with backoff up to
// Options.MaxAttempts times; while it waits it holds no slot, so a failing
// tenant neither stops nor slows the others. The report lists every
// partition; the error is the report's Err (or the context's).
//
// Finding the partitions that have raw data lists raw/ by tenant, with
// delimiter "/" — the compactor's job, never a query's. With both Days and
// Tenants given, nothing is listed.
func (c *Compactor) Run(ctx context.Context, plan Plan) (Report, error) {
	rep := Report{Started: time.Now()}
	if c.closed.Load() {
		return rep, loglake.ErrClosed
	}
	for _, d := range plan.Days {
		if !d.IsValid() {
			return rep, fmt.Errorf("%w: compact: plan day %v", loglake.ErrInvalidDay, d)
		}
	}
	for _, t := range plan.Tenants {
		if err := loglake.ValidateTenant(t); err != nil {
			return rep, err
		}
	}
	tenants := slices.Clone(plan.Tenants)
	if len(tenants) == 0 {
		var err error
		tenants, err = c.listTenants(ctx, loglake.AreaRaw)
		if err != nil {
			return rep, err
		}
	}
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	today := loglake.DayOf(c.opts.Clock(), c.lake.Location())

	sem := make(chan struct{}, c.opts.Concurrency)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps := c.runTenant(ctx, t, plan, today, sem)
			mu.Lock()
			rep.Partitions = append(rep.Partitions, reps...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(rep.Partitions, func(a, b PartitionReport) int {
		if c := strings.Compare(a.Partition.Tenant, b.Partition.Tenant); c != 0 {
			return c
		}
		return a.Partition.Day.Compare(b.Partition.Day)
	})
	rep.Duration = time.Since(rep.Started)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, rep.Err()
}

// runTenant compacts one tenant's partitions, taking a slot of sem per
// attempt.
func (c *Compactor) runTenant(ctx context.Context, tenant string, plan Plan, today loglake.Day, sem chan struct{}) []PartitionReport {
	acquire := func() bool {
		select {
		case sem <- struct{}{}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	release := func() { <-sem }

	var days []loglake.Day
	if len(plan.Days) > 0 && len(plan.Tenants) > 0 {
		days = slices.Clone(plan.Days)
	} else {
		var err error
		attempts := 0
		for {
			attempts++
			if !acquire() {
				return nil
			}
			days, err = c.listDays(ctx, tenant)
			release()
			if err == nil || attempts >= c.opts.MaxAttempts || !c.backoff(ctx, attempts) {
				break
			}
		}
		if err != nil {
			return []PartitionReport{{Result: Result{Partition: loglake.Partition{Tenant: tenant}, Outcome: OutcomeFailed}, Attempts: attempts, Err: err}}
		}
		days = slices.DeleteFunc(days, func(d loglake.Day) bool {
			switch {
			case len(plan.Days) > 0:
				return !slices.Contains(plan.Days, d)
			case plan.All:
				return false
			}
			return !d.Before(today)
		})
	}
	slices.SortFunc(days, loglake.Day.Compare)
	days = slices.Compact(days)

	var out []PartitionReport
	for _, d := range days {
		p := loglake.Partition{Tenant: tenant, Day: d}
		pr := PartitionReport{Result: Result{Partition: p}}
		for {
			if ctx.Err() != nil {
				pr.Err = ctx.Err()
				pr.Outcome = OutcomeFailed
				break
			}
			pr.Attempts++
			if !acquire() {
				pr.Err, pr.Outcome = ctx.Err(), OutcomeFailed
				break
			}
			res, err := c.CompactPartition(ctx, p)
			release()
			pr.Result, pr.Err = res, err
			if err == nil {
				break
			}
			if pr.Attempts >= c.opts.MaxAttempts || !c.backoff(ctx, pr.Attempts) {
				pr.Outcome = OutcomeFailed
				break
			}
			c.opts.Logger.Warn("compact: partition failed; retrying", "partition", p.String(), "attempt", pr.Attempts, "err", err)
		}
		out = append(out, pr)
	}
	return out
}

// backoff sleeps before attempt+1 and reports whether ctx is still live.
func (c *Compactor) backoff(ctx context.Context, attempt int) bool {
	d := c.opts.RetryBackoff << (attempt - 1)
	if d > 30*time.Second || d <= 0 {
		d = 30 * time.Second
	}
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// listTenants lists the tenants of an area ("raw/tenant_id=T/").
func (c *Compactor) listTenants(ctx context.Context, area string) ([]string, error) {
	prefix := area + "/tenant_id="
	var out []string
	for obj, err := range c.lake.List(ctx, area+"/", "/") {
		if err != nil {
			return nil, err
		}
		if !obj.IsDir {
			continue
		}
		t, ok := strings.CutPrefix(strings.TrimSuffix(obj.Key, "/"), prefix)
		if !ok || loglake.ValidateTenant(t) != nil {
			c.opts.Logger.Warn("compact: ignoring a folder that is not a tenant", "key", obj.Key)
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// listDays lists the days of a tenant that have raw data.
func (c *Compactor) listDays(ctx context.Context, tenant string) ([]loglake.Day, error) {
	return c.listDaysIn(ctx, loglake.AreaRaw, tenant)
}

func (c *Compactor) listDaysIn(ctx context.Context, area, tenant string) ([]loglake.Day, error) {
	prefix := loglake.TenantPrefix(area, tenant)
	var out []loglake.Day
	for obj, err := range c.lake.List(ctx, prefix, "/") {
		if err != nil {
			return nil, err
		}
		if !obj.IsDir {
			continue
		}
		s, ok := strings.CutPrefix(strings.TrimSuffix(obj.Key, "/"), prefix+"dt=")
		if !ok {
			continue
		}
		d, err := loglake.ParseDay(s)
		if err != nil {
			c.opts.Logger.Warn("compact: ignoring a folder that is not a day", "key", obj.Key)
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
