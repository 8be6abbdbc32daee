package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loglake/loglake"
)

// leaseDir is the folder of a partition's lease generations, under its
// compacted/ prefix.
const leaseDir = "_lease/"

// leaseVersion is the format version of lease objects.
const leaseVersion = 1

// OutcomeLeased is the outcome of a partition that another compactor held
// for the whole of a [Compactor.Run] that was stopped (its context ended)
// before the lease was released or expired.
const OutcomeLeased Outcome = "leased"

// leaseRecord is the content of one lease generation.
type leaseRecord struct {
	Version    int       `json:"version"`
	Partition  string    `json:"partition"`
	Generation int64     `json:"generation"`
	Owner      string    `json:"owner"`    // the CommitterID, for people
	Token      string    `json:"token"`    // random per lease: who holds it
	Acquired   time.Time `json:"acquired"` // when the holder first took it
	Expires    time.Time `json:"expires"`  // in the holder's clock
	Released   bool      `json:"released,omitempty"`
}

func leaseKey(p loglake.Partition, gen int64) string {
	return p.Prefix(loglake.AreaCompacted) + leaseDir + fmt.Sprintf("%0*d", genDigits, gen) + ".json"
}

// decodeLease parses and checks a lease generation of p. Every failure is
// marked [loglake.ErrCorrupt].
func decodeLease(data []byte, p loglake.Partition, gen int64) (*leaseRecord, error) {
	what := "compact: lease " + leaseKey(p, gen)
	var r leaseRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, loglake.MarkCorrupt(what, err)
	}
	switch {
	case r.Version != leaseVersion:
		return nil, loglake.MarkCorrupt(what, fmt.Errorf("version %d, want %d", r.Version, leaseVersion))
	case r.Partition != p.Key():
		return nil, loglake.MarkCorrupt(what, fmt.Errorf("names partition %q", r.Partition))
	case r.Generation != gen:
		return nil, loglake.MarkCorrupt(what, fmt.Errorf("names generation %d", r.Generation))
	case r.Token == "":
		return nil, loglake.MarkCorrupt(what, errors.New("no token"))
	}
	return &r, nil
}

// LeasedError is returned by [Compactor.TryLease] when another compactor
// holds the partition's lease. It wraps [loglake.ErrConflict], so
// errors.Is(err, loglake.ErrConflict) holds; errors.As gives the holder.
type LeasedError struct {
	Partition loglake.Partition
	Owner     string    // the holder's CommitterID
	Expires   time.Time // when the lease lapses unless renewed, in the holder's clock
}

func (e *LeasedError) Error() string {
	return fmt.Sprintf("compact: %s: leased by %s until %s: %v", e.Partition, e.Owner,
		e.Expires.UTC().Format(time.RFC3339), loglake.ErrConflict)
}

// Unwrap returns [loglake.ErrConflict].
func (e *LeasedError) Unwrap() error { return loglake.ErrConflict }

// A Lease lets many compactors — several `loglake compact` processes, one per
// Lambda invocation, queue [Worker]s — share a lake without doing the same
// partition twice at once. Leases are an efficiency measure only: invariant 2
// (nothing counted twice) rests on the manifest commit, which makes a
// repeated or concurrent compaction of a partition harmless. A compactor
// that loses its lease mid-work (it stalled past the TTL, or clocks are
// badly skewed) keeps going; at worst two compactors write the same files
// and one of them gets [OutcomeConflict] and removes its own.
//
// # Protocol
//
// A partition's lease is a series of generations, each an object written
// with [loglake.Lake.CreateOnly] (S3 If-None-Match: *, link(2) on file://):
//
//	compacted/tenant_id=<T>/dt=<D>/_lease/<gen>.json   {owner, token, expires, released}
//
// The newest generation is the lease. To take a partition, a compactor
// lists _lease/, reads the newest generation n and, if it is absent,
// released or expired, creates n+1: of any number of takers exactly one
// wins. It then lists again and gives up if a newer generation exists
// (possible only when it read a stale listing and created a generation the
// owner had already passed and cleaned up). The owner renews by creating
// n+2 every TTL/3 — a renewal that finds its generation taken means the
// lease was lost — and releases by creating a generation marked released.
// After each of these it deletes the generations below its own, so a
// partition keeps one or two lease objects. Objects starting with "_" are
// skipped by Hive, Athena, Spark and DuckDB.
//
// # Clocks
//
// expires is written in the owner's clock and compared with the taker's.
// Leases assume the clocks of compactors agree to well within a third of
// the TTL (NTP keeps them within milliseconds); the default TTL of 2
// minutes, renewed every 40 s, tolerates tens of seconds of skew. Larger
// skew only lets a second compactor start early: wasted work, never a
// wrong read.
//
// # Clean-up
//
// Nothing but a crash leaves more than the newest one or two generations.
// [Compactor.CollectGarbage] deletes lease objects older than its grace
// period like any unreferenced object (a live lease is at most TTL/3 old,
// far below the default grace of an hour), and [Compactor.Expire] deletes
// them with their partition.
//
// # The type
//
// A Lease is a held claim on one partition. It is renewed in the
// background until [Lease.Release] or until the context given to
// [Compactor.TryLease] ends — then it lapses after the TTL, as if its
// holder had died. A Lease is safe for concurrent use.
type Lease struct {
	c     *Compactor
	p     loglake.Partition
	token string
	ttl   time.Duration

	mu       sync.Mutex
	gen      int64
	acquired time.Time
	expires  time.Time
	released bool

	lost     chan struct{} // closed when another compactor took the lease
	lostOnce sync.Once
	stop     chan struct{} // closed by Release
	done     chan struct{} // closed when the renewal goroutine has ended
}

// Partition returns the leased partition.
func (l *Lease) Partition() loglake.Partition { return l.p }

// Lost returns a channel closed when the lease was lost: another compactor
// took it over after a renewal failed to land in time. Work under a lost
// lease stays correct (see [Lease]); it may be wasted.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Expires returns when the lease lapses unless renewed.
func (l *Lease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

func (l *Lease) markLost() { l.lostOnce.Do(func() { close(l.lost) }) }

// Release stops renewing the lease and marks it released, so another
// compactor may take the partition at once. It waits for the renewal
// goroutine to end. A second Release returns [loglake.ErrClosed]. If the
// lease was lost meanwhile, Release leaves the new holder's lease alone and
// returns nil.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return loglake.ErrClosed
	}
	l.released = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	select {
	case <-l.lost:
		return nil
	default:
	}
	l.mu.Lock()
	gen, acquired := l.gen, l.acquired
	l.mu.Unlock()
	now := l.c.opts.Clock()
	rec := l.record(gen+1, acquired, now)
	rec.Released = true
	err := l.c.createLease(ctx, l.p, rec)
	if errors.Is(err, loglake.ErrConflict) {
		l.markLost()
		return nil
	}
	if err != nil {
		return err // the lease lapses after the TTL
	}
	l.c.deleteLeases(ctx, l.p, gen)
	return nil
}

func (l *Lease) record(gen int64, acquired, now time.Time) *leaseRecord {
	return &leaseRecord{
		Version:    leaseVersion,
		Partition:  l.p.Key(),
		Generation: gen,
		Owner:      l.c.opts.CommitterID,
		Token:      l.token,
		Acquired:   acquired.UTC(),
		Expires:    now.Add(l.ttl).UTC(),
	}
}

// renew runs until Release or until ctx ends, creating the next generation
// every TTL/3. A renewal that fails for a storage error is retried sooner;
// one that finds its generation taken loses the lease.
func (l *Lease) renew(ctx context.Context) {
	defer close(l.done)
	interval := l.ttl / 3
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		gen, acquired, expires := l.gen, l.acquired, l.expires
		l.mu.Unlock()
		now := l.c.opts.Clock()
		err := l.c.createLease(ctx, l.p, l.record(gen+1, acquired, now))
		switch {
		case err == nil:
			l.mu.Lock()
			l.gen, l.expires = gen+1, now.Add(l.ttl)
			l.mu.Unlock()
			l.c.deleteLeases(ctx, l.p, gen)
			t.Reset(interval)
		case errors.Is(err, loglake.ErrConflict):
			l.c.opts.Logger.Warn("compact: lease lost to another compactor", "partition", l.p.String())
			l.markLost()
			return
		case ctx.Err() != nil:
			return
		default:
			if now.After(expires) {
				l.c.opts.Logger.Warn("compact: lease lapsed: renewals failed", "partition", l.p.String(), "err", err)
			}
			t.Reset(interval / 4)
		}
	}
}

// readLease lists the lease generations of p and reads the newest. It
// returns the generations present, ascending, and the newest record (nil
// when there is none, or when the newest is corrupt: a lease is never a
// reason not to compact).
func (c *Compactor) readLease(ctx context.Context, p loglake.Partition) ([]int64, *leaseRecord, error) {
	for attempt := 0; ; attempt++ {
		gens, err := c.listLeases(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		if len(gens) == 0 {
			return nil, nil, nil
		}
		gen := gens[len(gens)-1]
		data, err := c.lake.ReadAll(ctx, leaseKey(p, gen))
		if loglake.IsNotFound(err) && attempt < 3 {
			continue // cleaned up between the listing and the read
		}
		if err != nil {
			return nil, nil, err
		}
		rec, err := decodeLease(data, p, gen)
		if err != nil {
			c.opts.Logger.Warn("compact: ignoring a corrupt lease", "partition", p.String(), "err", err)
			return gens, nil, nil
		}
		return gens, rec, nil
	}
}

// listLeases returns the lease generations of p, ascending.
func (c *Compactor) listLeases(ctx context.Context, p loglake.Partition) ([]int64, error) {
	dir := p.Prefix(loglake.AreaCompacted) + leaseDir
	for attempt := 0; ; attempt++ {
		var gens []int64
		var lerr error
		for obj, err := range c.lake.List(ctx, dir, "/") {
			if err != nil {
				lerr = err
				break
			}
			if g, ok := parseManifestName(strings.TrimPrefix(obj.Key, dir)); ok && !obj.IsDir {
				gens = append(gens, g)
			}
		}
		// On file://, a listing can trip over the temporary file of a
		// concurrent create-only write, removed between the directory
		// read and its stat (fileblob reports NotFound): list again.
		if loglake.IsNotFound(lerr) && attempt < 5 && ctx.Err() == nil {
			continue
		}
		if lerr != nil {
			return nil, lerr
		}
		slices.Sort(gens)
		return gens, nil
	}
}

func (c *Compactor) createLease(ctx context.Context, p loglake.Partition, r *leaseRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("compact: encode lease: %w", err)
	}
	return c.lake.CreateOnly(ctx, leaseKey(p, r.Generation), append(data, '\n'))
}

// deleteLeases deletes lease generations that are no longer the newest,
// best effort: what it misses, the next holder or CollectGarbage deletes.
func (c *Compactor) deleteLeases(ctx context.Context, p loglake.Partition, gens ...int64) {
	for _, g := range gens {
		if err := c.lake.Delete(ctx, leaseKey(p, g)); err != nil {
			c.opts.Logger.Debug("compact: could not delete an old lease", "partition", p.String(), "generation", g, "err", err)
			return
		}
	}
}

// TryLease takes partition p's lease if no other compactor holds it, and
// renews it in the background until [Lease.Release] or until ctx ends. If
// another holds it, TryLease returns a [*LeasedError] (which wraps
// [loglake.ErrConflict]) at once. Storage errors are returned wrapped.
//
// Two TryLease calls on one partition never both succeed while the first
// is held (one Compactor, goroutines or processes alike), assuming the
// clocks of [Lease] (section "Clocks").
func (c *Compactor) TryLease(ctx context.Context, p loglake.Partition) (*Lease, error) {
	if c.closed.Load() {
		return nil, loglake.ErrClosed
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	token := randomHex(8)
	var last *LeasedError
	for attempt := 0; attempt < 4; attempt++ {
		gens, cur, err := c.readLease(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("compact: %s: lease: %w", p, err)
		}
		now := c.opts.Clock()
		if cur != nil && !cur.Released && now.Before(cur.Expires) {
			return nil, &LeasedError{Partition: p, Owner: cur.Owner, Expires: cur.Expires}
		}
		var gen int64 = 1
		if len(gens) > 0 {
			gen = gens[len(gens)-1] + 1
		}
		l := &Lease{c: c, p: p, token: token, ttl: c.opts.LeaseTTL, gen: gen, acquired: now,
			expires: now.Add(c.opts.LeaseTTL), lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
		err = c.createLease(ctx, p, l.record(gen, now, now))
		if errors.Is(err, loglake.ErrConflict) {
			continue // another taker won this generation: look again
		}
		if err != nil {
			return nil, fmt.Errorf("compact: %s: lease: %w", p, err)
		}
		// INVARIANT: a generation we created is the lease only if no newer
		// one exists. A newer one can exist only if our listing was stale
		// and the generation we created had been passed and cleaned up.
		after, err := c.listLeases(ctx, p)
		if err != nil {
			c.deleteLeases(context.WithoutCancel(ctx), p, gen)
			return nil, fmt.Errorf("compact: %s: lease: %w", p, err)
		}
		if len(after) > 0 && after[len(after)-1] > gen {
			c.deleteLeases(context.WithoutCancel(ctx), p, gen)
			last = &LeasedError{Partition: p, Owner: "?", Expires: now.Add(c.opts.LeaseTTL)}
			continue
		}
		c.deleteLeases(ctx, p, gens...)
		go l.renew(ctx)
		return l, nil
	}
	if last == nil {
		last = &LeasedError{Partition: p, Owner: "?", Expires: c.opts.Clock().Add(c.opts.LeaseTTL)}
	}
	return nil, last
}

// WaitLease takes partition p's lease, waiting while another compactor
// holds it: it looks again every quarter of the lease TTL, and right after
// the holder's lease would expire. It returns when it holds the lease, or
// with ctx's error. onLeased, if not nil, is called the first time the
// lease is found held elsewhere.
func (c *Compactor) WaitLease(ctx context.Context, p loglake.Partition, onLeased func(*LeasedError)) (*Lease, error) {
	first := true
	for {
		l, err := c.TryLease(ctx, p)
		var le *LeasedError
		if !errors.As(err, &le) {
			return l, err
		}
		if first && onLeased != nil {
			onLeased(le)
		}
		first = false
		if !sleepCtx(ctx, c.leasePoll(le)) {
			return nil, ctx.Err()
		}
	}
}

// leasePoll is how long to wait before looking at a held lease again.
func (c *Compactor) leasePoll(le *LeasedError) time.Duration {
	d := c.opts.LeaseTTL / 4
	if until := le.Expires.Sub(c.opts.Clock()) + 20*time.Millisecond; until > 0 && until < d {
		d = until
	}
	d = max(d, 50*time.Millisecond)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1)) // jitter: spread the takers
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// releaseLease releases l, if not nil, on a context that outlives ctx's
// cancellation (a canceled run still hands its partitions back at once).
func (c *Compactor) releaseLease(ctx context.Context, l *Lease) {
	if l == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := l.Release(rctx); err != nil {
		c.opts.Logger.Warn("compact: could not release a lease; it lapses after the TTL", "partition", l.p.String(), "err", err)
	}
}
