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
	Err      error // the last attempt's error; nil unless Outcome is OutcomeFailed (or OutcomeLeased when the run was stopped)
	// LeasedBy is the CommitterID of the compactor that held the
	// partition's lease when this run first came to it, or "". Run tried
	// the partition again after its other work (see [Compactor.Run]).
	LeasedBy string

	leased *LeasedError
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
//
// Several Runs (processes, machines) may work on one lake at once: unless
// Options.DisableLeases, each partition is compacted under a lease (see
// [Compactor.TryLease]), so they split the partitions among themselves. A
// partition leased by another compactor is skipped (Hooks.OnLeased) and
// tried again after the tenant's other partitions, as soon as its lease is
// released or has expired — so when Run returns nil, every partition of
// the plan has been compacted, by this Run or another, even if the other
// died mid-partition. Its report then names the holder in LeasedBy and
// usually says OutcomeUnchanged (the holder did the work).
func (c *Compactor) Run(ctx context.Context, plan Plan) (Report, error) {
	rep := Report{Started: time.Now()}
	if c.closed.Load() {
		return rep, loglake.ErrClosed
	}
	defer c.hold()()
	tenants, err := c.planTenants(ctx, plan)
	if err != nil {
		return rep, err
	}
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

// planTenants checks plan and returns its tenants, sorted: plan.Tenants,
// or the tenants with raw data.
func (c *Compactor) planTenants(ctx context.Context, plan Plan) ([]string, error) {
	for _, d := range plan.Days {
		if !d.IsValid() {
			return nil, fmt.Errorf("%w: compact: plan day %v", loglake.ErrInvalidDay, d)
		}
	}
	for _, t := range plan.Tenants {
		if err := loglake.ValidateTenant(t); err != nil {
			return nil, err
		}
	}
	tenants := slices.Clone(plan.Tenants)
	if len(tenants) == 0 {
		var err error
		tenants, err = c.listTenants(ctx, loglake.AreaRaw)
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(tenants)
	return slices.Compact(tenants), nil
}

// selectDays keeps the days of a tenant's raw data that the plan selects.
func (plan Plan) selectDays(days []loglake.Day, today loglake.Day) []loglake.Day {
	return slices.DeleteFunc(days, func(d loglake.Day) bool {
		switch {
		case len(plan.Days) > 0:
			return !slices.Contains(plan.Days, d)
		case plan.All:
			return false
		}
		return !d.Before(today)
	})
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
		days = plan.selectDays(days, today)
	}
	slices.SortFunc(days, loglake.Day.Compare)
	days = slices.Compact(days)

	var out []PartitionReport
	var held []int // indexes in out of partitions leased elsewhere
	for _, d := range days {
		pr, leased := c.runPartition(ctx, loglake.Partition{Tenant: tenant, Day: d}, acquire, release, true)
		if leased {
			held = append(held, len(out))
		}
		out = append(out, pr)
	}
	// Partitions another compactor held are tried again once the others
	// are done: when the holder releases its lease (it finished: usually
	// nothing is left to do) or the lease expires (it died: take over).
	for _, i := range held {
		by := out[i].LeasedBy
		for leased := true; leased; {
			var pr PartitionReport
			pr, leased = c.runPartition(ctx, out[i].Partition, acquire, release, false)
			if leased && sleepCtx(ctx, c.leasePoll(pr.leased)) {
				continue
			}
			if leased { // ctx ended while waiting
				pr.Err = ctx.Err()
				leased = false
			}
			pr.LeasedBy = by
			out[i] = pr
		}
	}
	return out
}

// runPartition compacts p, retrying as Run does. With leases on it first
// takes p's lease (holding a slot of sem, as the lease costs a few
// requests); if another compactor holds it, it returns at once with
// OutcomeLeased and leased true, after calling Hooks.OnLeased if notify.
func (c *Compactor) runPartition(ctx context.Context, p loglake.Partition, acquire func() bool, release func(), notify bool) (PartitionReport, bool) {
	pr := PartitionReport{Result: Result{Partition: p}}
	if ctx.Err() != nil || !acquire() {
		pr.Err, pr.Outcome = ctx.Err(), OutcomeFailed
		return pr, false
	}
	if !c.opts.DisableLeases {
		lease, err := c.TryLease(ctx, p)
		var le *LeasedError
		switch {
		case errors.As(err, &le):
			release()
			if h := c.opts.Hooks.OnLeased; h != nil && notify {
				h(le)
			}
			pr.Outcome, pr.LeasedBy, pr.leased = OutcomeLeased, le.Owner, le
			return pr, true
		case err != nil && ctx.Err() == nil:
			// A lease is an efficiency measure, never a reason not to
			// compact: the commit protocol keeps concurrent work correct.
			c.opts.Logger.Warn("compact: could not take a lease; compacting without", "partition", p.String(), "err", err)
		}
		defer c.releaseLease(ctx, lease)
	}
	release()
	return c.attempts(ctx, pr, acquire, release), false
}

// attempts compacts pr.Partition up to Options.MaxAttempts times, with
// backoff, taking a slot per attempt.
func (c *Compactor) attempts(ctx context.Context, pr PartitionReport, acquire func() bool, release func()) PartitionReport {
	p := pr.Partition
	for {
		if ctx.Err() != nil {
			pr.Err, pr.Outcome = ctx.Err(), OutcomeFailed
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
	return pr
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
