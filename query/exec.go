package query

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

// Query runs q and returns its rows as a stream of Arrow record batches.
// It checks q (validity, pattern lengths, tenant scope), waits for a slot
// of its tenants' concurrency limit, plans the partitions to read, and
// starts reading them; errors of planning come back here, errors of
// reading from [Rows.Err]. The caller must Close the Rows. ctx bounds the
// whole query, the reading of rows included.
func (e *Engine) Query(ctx context.Context, q Query) (*Rows, error) {
	ctr := &counters{start: time.Now()}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, loglake.ErrClosed
	}
	// Check the query before queueing, so a bad one fails fast.
	if err := q.Validate(); err != nil {
		return nil, err
	}
	scope, err := q.Scope(e.opts.AllowCrossTenant)
	if err != nil {
		return nil, err
	}
	keys := scope.Tenants
	if scope.All {
		keys = []string{crossTenantKey}
	}
	release, err := e.acquire(ctx, keys)
	if err != nil {
		return nil, err
	}
	ctr.queue.Store(int64(time.Since(ctr.start)))
	p, err := e.newPlan(ctx, q)
	if err != nil {
		release()
		return nil, err
	}
	ctr.partitionsConsidered.Store(int64(len(p.parts)))

	qctx, cancel := context.WithCancel(ctx)
	r := &Rows{
		ch:     make(chan arrow.RecordBatch, 1),
		done:   make(chan struct{}),
		ctr:    ctr,
		cancel: cancel,
		cols:   p.resultColumns(),
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		release()
		return nil, loglake.ErrClosed
	}
	e.running[r] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	x := &execution{e: e, p: p, ctr: ctr, out: r.ch, tsPrunable: e.settings.TimestampField == TimeColumn}
	go func() {
		defer e.wg.Done()
		err := x.run(qctx)
		var le *LimitError
		if errors.As(err, &le) {
			le.Stats = ctr.snapshot()
		}
		ctr.finish()
		r.err = err
		close(r.ch)
		release()
		cancel()
		e.mu.Lock()
		delete(e.running, r)
		e.mu.Unlock()
		close(r.done)
	}()
	return r, nil
}

// execution is one running query.
type execution struct {
	e   *Engine
	p   *plan
	ctr *counters
	out chan<- arrow.RecordBatch

	tasks chan func() // work for the object readers
	// tsPrunable: the lake's event-time field is the timestamp column, so
	// its statistics and the files' time ranges may prune.
	tsPrunable bool

	mu     sync.Mutex // guards global and the threshold
	global sink
	thr    time.Time
	hasThr bool
}

// partResult is a partition's complete result.
type partResult struct {
	part    loglake.Partition
	s       sink // nil for an empty partition
	err     error
	release func() // gives back the read slot; called once the result is merged
}

// run reads the plan's partitions and sends the result batches to out.
//
// Structure: Parallelism reader goroutines take object tasks from one
// channel. A scheduler walks the partitions in plan order. Each partition
// first takes its Snapshot — a probe: two LISTs on S3, and for most
// partitions of a long window the answer "empty" — with at most
// ProbeParallelism probes at once, ahead of the reading. Partitions that
// hold data then take a read slot, in plan order (each waits for its
// predecessor's turn), at most 2×Parallelism at a time, hand their
// objects to the readers and wait for them. A read slot is given back
// only once the main loop has merged the partition's result, so that the
// ORDER BY timestamp LIMIT threshold the scheduler checks before the next
// read is up to date.
//
// A partition's rows are held (in its sink) until all its objects are
// read, and only then merged into the result or streamed: if an object
// vanished mid-way (a compaction committed and deleted it), the
// partition's rows are dropped and the partition read again from a fresh
// Snapshot, so no row is ever sent twice or lost. This bounds memory by
// the rows a partition contributes (LIMIT, MaxResultRows), not by its
// size.
func (x *execution) run(ctx context.Context) error {
	p := x.p
	if p.empty || len(p.parts) == 0 {
		return x.finish(ctx)
	}
	scanCtx, stopScan := context.WithCancel(ctx)
	defer stopScan()
	n := x.e.opts.Parallelism
	x.tasks = make(chan func())
	var workers sync.WaitGroup
	for range n {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for t := range x.tasks {
				t()
			}
		}()
	}
	results := make(chan partResult)
	var sched sync.WaitGroup
	sched.Add(1)
	go func() { // the scheduler
		defer sched.Done()
		var parts sync.WaitGroup
		probes := make(chan struct{}, x.e.opts.ProbeParallelism)
		inflight := make(chan struct{}, 2*n)
		loc := x.e.loc
		turn := make(chan struct{}) // closed when the previous partition has its read slot (or needs none)
		close(turn)
	loop:
		for i, part := range p.parts {
			if thr, ok := x.threshold(); ok && p.partitionDone(part, thr, loc) {
				break
			}
			select {
			case probes <- struct{}{}:
			case <-scanCtx.Done():
				break loop
			}
			myTurn, next := turn, make(chan struct{})
			turn = next
			parts.Add(1)
			go func() {
				defer parts.Done()
				v, err := x.snapshot(scanCtx, i)
				// Wait for the previous partition's turn, so that reads
				// start in plan order whatever order the probes end in.
				select {
				case <-myTurn:
				case <-scanCtx.Done():
					close(next)
					<-probes
					return
				}
				empty := err == nil && len(v.Parquet) == 0 && len(v.Raw) == 0
				if empty {
					x.ctr.partitionsEmpty.Add(1)
				}
				if empty || err == nil && x.done(part) {
					close(next)
					<-probes
					return
				}
				select {
				case inflight <- struct{}{}:
				case <-scanCtx.Done():
					close(next)
					<-probes
					return
				}
				close(next)
				<-probes
				release := func() { <-inflight }
				var s sink
				if err == nil {
					if x.done(part) { // the threshold moved while we waited for the slot
						release()
						return
					}
					s, err = x.readPartition(scanCtx, i, v)
				}
				select {
				case results <- partResult{part: part, s: s, err: err, release: release}:
				case <-scanCtx.Done():
					release()
				}
			}()
		}
		parts.Wait()
		close(x.tasks)
		close(results)
	}()
	defer func() {
		stopScan()
		for res := range results { // let the scheduler finish
			res.release()
		}
		sched.Wait()
		workers.Wait()
	}()

	x.global = p.newSink(x.e.opts.MaxResultRows)
	streamed := int64(0)
	for res := range results {
		err := x.merge(ctx, res, &streamed)
		res.release()
		if err == errLimitMet {
			stopScan()
			return nil
		}
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return x.finish(ctx)
}

// errLimitMet tells run that a streamed query has its LIMIT rows.
var errLimitMet = errors.New("query: limit met")

// merge takes one partition's result into the query's: streams its rows
// (plain queries; errLimitMet once LIMIT rows are sent) or merges them
// into the global sink and updates the ORDER BY threshold.
func (x *execution) merge(ctx context.Context, res partResult, streamed *int64) error {
	p := x.p
	if res.err != nil {
		return res.err
	}
	if res.s == nil {
		return nil
	}
	if p.mode == modeStream {
		recs := res.s.(*rowSink).recs
		if lim := p.limit; lim > 0 && *streamed+int64(len(recs)) > lim {
			recs = recs[:lim-*streamed]
		}
		if max := x.e.opts.MaxResultRows; max >= 0 && *streamed+int64(len(recs)) > max && (p.limit == 0 || p.limit > max) {
			return &LimitError{Limit: max, What: "result rows", Err: ErrTooManyRows}
		}
		if err := x.emitRecords(ctx, recs); err != nil {
			return err
		}
		*streamed += int64(len(recs))
		if p.limit > 0 && *streamed >= p.limit {
			return errLimitMet
		}
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	err := x.global.merge(res.s)
	if rs, ok := x.global.(*rowSink); ok && err == nil {
		x.thr, x.hasThr = rs.threshold()
	}
	return err
}

// done reports whether no row of part can enter the result any more (see
// plan.partitionDone).
func (x *execution) done(part loglake.Partition) bool {
	thr, ok := x.threshold()
	return ok && x.p.partitionDone(part, thr, x.e.loc)
}

func (x *execution) threshold() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.thr, x.hasThr
}

// finish emits the result of an ordered or aggregated query.
func (x *execution) finish(ctx context.Context) error {
	p := x.p
	if x.global == nil {
		x.global = p.newSink(x.e.opts.MaxResultRows)
	}
	switch s := x.global.(type) {
	case *rowSink:
		if p.mode == modeStream {
			return nil
		}
		s.finish()
		return x.emitRecords(ctx, s.recs)
	case *aggSink:
		return x.emitRows(ctx, s.a.result())
	}
	return nil
}

// readPartition reads plan partition i completely from its view v,
// following the View retry rule, and returns its sink (nil when it holds
// no data).
func (x *execution) readPartition(ctx context.Context, i int, v *compact.View) (sink, error) {
	part := x.p.parts[i]
	var lastErr error
	for attempt := 0; attempt < maxPartitionAttempts; attempt++ {
		if attempt > 0 {
			var err error
			if v, err = x.snapshot(ctx, i); err != nil {
				return nil, err
			}
		}
		if len(v.Parquet) == 0 && len(v.Raw) == 0 {
			return nil, nil
		}
		if attempt == 0 {
			x.ctr.partitionsRead.Add(1)
		} else {
			x.ctr.partitionRetries.Add(1)
		}
		s, err := x.readView(ctx, v)
		if err == nil {
			return s, nil
		}
		if !loglake.IsNotFound(err) || ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("query: read %s: objects kept vanishing: %w", part, lastErr)
}

// snapshot returns the view of plan partition i: compact.Snapshot on a
// lake, the listing of its location on a foreign layout.
func (x *execution) snapshot(ctx context.Context, i int) (*compact.View, error) {
	if x.e.src != nil {
		return x.foreignView(ctx, i)
	}
	v, err := compact.Snapshot(ctx, x.e.lake, x.p.parts[i])
	if err != nil {
		return nil, fmt.Errorf("query: snapshot %s: %w", x.p.parts[i], err)
	}
	return v, nil
}

// readView reads a View's objects in parallel on the readers.
func (x *execution) readView(ctx context.Context, v *compact.View) (sink, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ps := x.p.newSink(x.e.opts.MaxResultRows)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	pt := &partTask{x: x, v: v, tenant: v.Partition.Tenant, day: v.Partition.Day.String()}
	done := func(fs sink, err error) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || ps.full() {
			return
		}
		if err == nil {
			err = ps.merge(fs)
		}
		if err != nil {
			first = err
			cancel()
			return
		}
		if ps.full() {
			cancel() // LIMIT reached: the other objects are not needed
		}
	}
	submit := func(t func()) bool {
		wg.Add(1)
		select {
		case x.tasks <- func() { defer wg.Done(); t() }:
			return true
		case <-pctx.Done():
			wg.Done()
			return false
		}
	}
	// Parquet files are opened (their footers read) on the readers; each
	// opened file comes back here and its row groups become tasks of their
	// own, so that one large file keeps every reader busy. opened is
	// buffered so that readers never wait on this goroutine.
	type openResult struct {
		pf  *pqFile
		err error
	}
	opened := make(chan openResult, len(v.Parquet))
	submitted := 0
	for _, f := range v.Parquet {
		if !submit(func() {
			pf, err := pt.openParquet(pctx, f)
			opened <- openResult{pf, err}
		}) {
			break
		}
		submitted++
	}
	for i := 0; i < len(v.Raw); {
		// A run of small objects is one task (see rawGroupBytes).
		j, size := i+1, v.Raw[i].Size
		for j < len(v.Raw) && x.e.src == nil && size+v.Raw[j].Size <= rawGroupBytes {
			size += v.Raw[j].Size
			j++
		}
		group := v.Raw[i:j]
		i = j
		if !submit(func() {
			fs := x.p.newSink(x.e.opts.MaxResultRows)
			if x.e.src != nil {
				done(fs, pt.scanForeign(pctx, group[0], fs))
				return
			}
			var rb rawBatch
			var err error
			for _, o := range group {
				if err = pt.scanRaw(pctx, o, fs, &rb); err != nil || fs.full() {
					break
				}
			}
			if err == nil && !fs.full() {
				err = pt.flushRaw(&rb, fs)
			}
			done(fs, err)
		}) {
			break
		}
	}
	for range submitted {
		res := <-opened
		if res.err != nil {
			done(nil, res.err)
			continue
		}
		if res.pf == nil {
			continue
		}
	rowGroups:
		for rgi := range res.pf.f.RowGroups() {
			pf := res.pf
			// A large row group is read in parts, by several readers.
			var sp *rgSplit
			if k := pt.rowGroupParts(pf, rgi); k > 1 {
				sp = &rgSplit{parts: k}
			}
			for part := range max(1, pt.rowGroupParts(pf, rgi)) {
				if !submit(func() {
					fs := x.p.newSink(x.e.opts.MaxResultRows)
					done(fs, pt.scanRowGroup(pctx, pf, rgi, sp, part, fs))
				}) {
					break rowGroups
				}
			}
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		return nil, first
	}
	if ps.full() {
		return ps, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ps, nil
}

// partTask is what an object reader knows about its partition.
type partTask struct {
	x      *execution
	v      *compact.View
	tenant string
	day    string
}

// scanned counts uncompressed bytes and enforces MaxBytesScanned.
func (x *execution) scanned(n int64) error {
	total := x.ctr.bytesScanned.Add(n)
	if max := x.e.opts.MaxBytesScanned; max > 0 && total > max {
		return &LimitError{Limit: max, What: "bytes scanned", Err: loglake.ErrScanLimitExceeded}
	}
	return nil
}

// filter runs the WHERE clause over the rows of b (all, or the candidates
// cand) and adds the matches to s.
func (pt *partTask) filter(b *block, cand []int32, s sink) error {
	return pt.filterCand(b, cand, pt.x.p.pred, s)
}

// filterWith is filter over every row of b with pr in place of WHERE
// (nil: every row matches).
func (pt *partTask) filterWith(b *block, pr pred, s sink) error {
	return pt.filterCand(b, nil, pr, s)
}

func (pt *partTask) filterCand(b *block, cand []int32, pr pred, s sink) error {
	r := &rowCtx{blk: b, tenant: pt.tenant, day: pt.day}
	get := r.get
	matched := int64(0)
	defer func() { pt.x.ctr.rowsMatched.Add(matched) }()
	one := func(i int) error {
		r.i = i
		if pr != nil && pr(get) != triTrue {
			return nil
		}
		matched++
		return s.add(r)
	}
	if cand != nil {
		for _, i := range cand {
			if err := one(int(i)); err != nil {
				return err
			}
			if s.full() {
				return nil
			}
		}
		return nil
	}
	for i := 0; i < b.n; i++ {
		if err := one(i); err != nil {
			return err
		}
		if s.full() {
			return nil
		}
	}
	return nil
}
