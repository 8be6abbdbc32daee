package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/envelope"
)

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

// Compile-time interface checks.
var (
	_ error        = (*FlushError)(nil)
	_ fmt.Stringer = InputRef{}
	_ fmt.Stringer = Policy(0)
	_ fmt.Stringer = Reason("")
)

// Ingestor splits envelopes into records, routes them to per-partition
// buffers and writes the buffers to the lake as compressed NDJSON objects.
// It is safe for concurrent use. Every goroutine it starts has ended when
// Close returns.
type Ingestor struct {
	lake        *loglake.Lake
	opts        Options
	settings    loglake.Settings
	loc         *time.Location
	scfg        envelope.Config
	formats     envelope.Formats
	ext         string
	contentType string
	writerID    string
	namePrefix  string

	seq  atomic.Uint64 // object names
	adds atomic.Int64  // Add calls

	locals sync.Pool // *local

	ctx    context.Context // uploads of buffered data; canceled when Close gives up
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines started by spawn
	ops    sync.WaitGroup // calls in progress

	mu       sync.Mutex
	closed   bool
	closing  chan struct{}
	tenants  map[string]*tenantState
	lru      buffer // sentinel of the active partitions, most recently written first
	active   int
	dead     map[deadKey]*buffer
	slotCh   chan struct{} // closed when a slot frees
	tick     uint64
	pending  map[*job]struct{}
	maxTotal int // MaxActivePartitions
	maxPerT  int

	stallEnds []StallInfo // OnStall calls to make once in.mu is released

	mem   atomic.Int64 // bytes buffered and in flight
	memMu sync.Mutex
	memCh chan struct{} // closed when mem drops

	qmu     sync.Mutex
	qcond   *sync.Cond
	queue   []*job
	qclosed bool

	freeMu    sync.Mutex
	free      map[int][][]byte // recycled buffers by capacity
	freeBytes int
	freeMax   int

	failMu   sync.Mutex
	failures []FailedInput

	st counters
}

type tenantState struct {
	name  string
	parts []*buffer // active partitions of the tenant
}

type deadKey struct {
	reason Reason
	day    loglake.Day
}

// buffer is a partition's (or a dead-letter folder's) buffered lines.
type buffer struct {
	part loglake.Partition
	ts   *tenantState
	dead bool
	dk   deadKey

	data      []byte
	records   int
	refs      []refCount
	created   time.Time
	lastWrite uint64
	prev      *buffer
	next      *buffer
}

type refCount struct {
	ref     InputRef
	records int
}

// New returns an Ingestor that writes to lake. It checks opts (every bad
// field is named in one error wrapping loglake.ErrInvalidOptions) and
// starts the upload workers. opts may be nil (all defaults); New works on a
// copy and never changes the caller's Options. The caller must Close the
// Ingestor; lake must stay open until then.
func New(lake *loglake.Lake, opts *Options) (*Ingestor, error) {
	if lake == nil {
		return nil, fmt.Errorf("%w: ingest: nil lake", loglake.ErrInvalidOptions)
	}
	var given Options
	if opts != nil {
		given = *opts
	}
	s := lake.Settings()
	o := given.withDefaults(lake)
	if err := o.validate(s); err != nil {
		return nil, err
	}
	in := &Ingestor{
		lake:     lake,
		opts:     o,
		settings: s,
		loc:      lake.Location(),
		scfg: envelope.Config{
			TenantField:    s.TenantField,
			TimestampField: s.TimestampField,
			LogField:       o.LogField,
			CarryFields:    o.CarryFields,
		},
		ext:      o.Compression.Ext(),
		closing:  make(chan struct{}),
		tenants:  map[string]*tenantState{},
		dead:     map[deadKey]*buffer{},
		slotCh:   make(chan struct{}),
		pending:  map[*job]struct{}{},
		memCh:    make(chan struct{}),
		maxTotal: o.MaxActivePartitions,
		maxPerT:  o.MaxActivePartitionsPerTenant,
	}
	for _, f := range s.TimestampFormats {
		switch f {
		case loglake.TimestampRFC3339:
			in.formats |= envelope.RFC3339
		case loglake.TimestampEpochSecond:
			in.formats |= envelope.EpochSeconds
		case loglake.TimestampEpochMilli:
			in.formats |= envelope.EpochMillis
		}
	}
	switch o.Compression {
	case loglake.CompressionZstd:
		in.contentType = "application/zstd"
	case loglake.CompressionGzip:
		in.contentType = "application/gzip"
	default:
		in.contentType = "application/x-ndjson"
	}
	run := randomHex(4)
	if o.WriterID == "" {
		in.writerID = "w" + randomHex(6)
		in.namePrefix = in.writerID + "-"
	} else {
		in.writerID = o.WriterID
		in.namePrefix = o.WriterID + "-" + run + "-"
	}
	in.lru.next, in.lru.prev = &in.lru, &in.lru
	in.free = map[int][][]byte{}
	in.freeMax = int(min(o.MaxBufferedBytes/4, 64<<20))
	in.qcond = sync.NewCond(&in.qmu)
	in.locals.New = func() any { return in.newLocal() }
	in.ctx, in.cancel = context.WithCancel(context.Background())
	for range o.MaxConcurrentUploads {
		in.spawn(in.worker)
	}
	if o.BufferInterval > 0 {
		in.spawn(in.ager)
	}
	return in, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// spawn starts a goroutine owned by the Ingestor; Close waits for it.
func (in *Ingestor) spawn(f func()) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		f()
	}()
}

// begin registers a call; it fails once the Ingestor is closed.
func (in *Ingestor) begin() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return loglake.ErrClosed
	}
	in.ops.Add(1)
	return nil
}

// Add ingests data: one envelope, one bare record, or a chunk of NDJSON
// (any whitespace-separated stream of JSON values) of either. Records are
// buffered; they are durable once a later Flush or Close returns nil.
// Bad input is dead-lettered, never returned as an error. Add returns a
// *FlushError naming the values it could not accept (the Reject policy, a
// ctx that ended while Add waited for memory or a slot), and
// loglake.ErrClosed after Close. Add does not keep data.
func (in *Ingestor) Add(ctx context.Context, data []byte) error {
	if err := in.begin(); err != nil {
		return err
	}
	defer in.ops.Done()
	ref := InputRef{Index: int(in.adds.Add(1))}
	in.st.inputs.Add(1)
	in.st.bytesIn.Add(int64(len(data)))
	l := in.locals.Get().(*local)
	defer in.locals.Put(l)
	l.reset()
	var failed []FailedInput
	var stop error
	flush := func() bool {
		if stop == nil {
			failed, stop = in.commit(ctx, l, failed)
		} else {
			// Add has stopped accepting (ctx ended, or closed): scan on,
			// so that the error names every input that did not land.
			failed = in.refuse(l, failed, stop)
		}
		l.reset()
		return true
	}
	in.feed(l, data, ref, flush)
	flush()
	return joinErr(failed, stop)
}

// refuse marks everything gathered in l as not accepted, because of err.
func (in *Ingestor) refuse(l *local, failed []FailedInput, err error) []FailedInput {
	for _, r := range l.deadRuns {
		failed = append(failed, FailedInput{Input: r.ref, Records: r.records, Err: err})
	}
	for _, r := range l.runs {
		failed = append(failed, FailedInput{Input: r.ref, Records: r.records, Err: err})
	}
	in.st.refused.Add(int64(l.accepted + l.deadCount))
	return failed
}

// commit routes the records and dead letters gathered in l to the shared
// buffers. It returns the refused runs appended to failed, and an error
// that stops Add (ctx ended, or closed) after marking the rest refused.
func (in *Ingestor) commit(ctx context.Context, l *local, failed []FailedInput) ([]FailedInput, error) {
	in.st.records.Add(int64(l.accepted))
	in.st.deadLettered.Add(int64(l.deadCount))
	in.mu.Lock()
	defer in.unlock()
	var err error
	for k := 0; k < len(l.deadRuns); k++ {
		r := &l.deadRuns[k]
		dk := deadKey{r.reason, in.arrivalDay(l)}
		var b *buffer
		for err == nil {
			if b = in.dead[dk]; b == nil {
				b = &buffer{dead: true, dk: dk}
				in.dead[dk] = b
			}
			if err = in.reserve(ctx, b, r.end-r.start); err == nil && in.dead[dk] == b {
				break
			}
		}
		if err != nil {
			failed = append(failed, FailedInput{Input: r.ref, Records: r.records, Err: err})
			in.st.deadLettered.Add(-int64(r.records))
			in.st.refused.Add(int64(r.records))
			continue
		}
		in.appendTo(b, l.dead[r.start:r.end], r.ref, r.records)
		if len(b.data) >= in.opts.BufferBytes {
			in.detach(b)
		}
	}
	for k := 0; k < len(l.runs); k++ {
		r := &l.runs[k]
		var b *buffer
		for err == nil {
			if b, err = in.slot(ctx, r); err != nil || b == nil {
				break
			}
			// reserve may wait, or flush b itself: then take a slot again.
			if err = in.reserve(ctx, b, r.end-r.start); err == nil && b.ts != nil {
				break
			}
		}
		if err != nil || b == nil {
			cause := err
			if b == nil && err == nil {
				cause = fmt.Errorf("%w: %s (policy Reject)", loglake.ErrTooManyActivePartitions, loglake.Partition{Tenant: r.tenant, Day: r.day})
			}
			failed = append(failed, FailedInput{Input: r.ref, Records: r.records, Err: cause})
			in.st.records.Add(-int64(r.records))
			in.st.refused.Add(int64(r.records))
			continue
		}
		in.appendTo(b, l.out[r.start:r.end], r.ref, r.records)
		in.tick++
		b.lastWrite = in.tick
		if in.lru.next != b { // move to the front
			b.prev.next, b.next.prev = b.next, b.prev
			b.next, b.prev = in.lru.next, &in.lru
			in.lru.next.prev = b
			in.lru.next = b
		}
		if len(b.data) >= in.opts.BufferBytes {
			in.detach(b)
		}
	}
	return failed, err
}

// appendTo appends lines to b, accounting for memory. in.mu is held.
func (in *Ingestor) appendTo(b *buffer, lines []byte, ref InputRef, records int) {
	if len(b.data) == 0 {
		b.created = in.opts.now()
	}
	if g := in.growth(b, len(lines)); g > 0 {
		grown := append(in.getBuf(cap(b.data)+g), b.data...)
		in.putBuf(b.data)
		in.mem.Add(int64(g))
		b.data = grown
	}
	b.data = append(b.data, lines...)
	b.records += records
	if n := len(b.refs); n > 0 && b.refs[n-1].ref == ref {
		b.refs[n-1].records += records
	} else {
		b.refs = append(b.refs, refCount{ref, records})
	}
}

// growth returns how many bytes b's capacity must grow to take n more.
func (in *Ingestor) growth(b *buffer, n int) int {
	need := len(b.data) + n
	if need <= cap(b.data) {
		return 0
	}
	return in.classSize(need) - cap(b.data)
}

// Buffers come in size classes — 16 KiB, 32 KiB, … doubling up to
// BufferBytes+64 KiB — and are recycled through one pool per class: fresh
// multi-megabyte allocations cost page faults and zeroing on every flush,
// which profiles showed to be a third of the routing time.
const minClass = 16 << 10

func (in *Ingestor) classSize(need int) int {
	limit := in.opts.BufferBytes + runBytes
	c := minClass
	for c < need && c < limit {
		c *= 2
	}
	return max(min(c, limit), need)
}

func (in *Ingestor) isClass(c int) bool {
	limit := in.opts.BufferBytes + runBytes
	if c == limit {
		return true
	}
	return c >= minClass && c < limit && c&(c-1) == 0
}

// getBuf returns an empty buffer of capacity c, recycled if one is free.
func (in *Ingestor) getBuf(c int) []byte {
	if in.isClass(c) {
		in.freeMu.Lock()
		if l := in.free[c]; len(l) > 0 {
			b := l[len(l)-1]
			l[len(l)-1] = nil
			in.free[c] = l[:len(l)-1]
			in.freeBytes -= c
			in.freeMu.Unlock()
			return b
		}
		in.freeMu.Unlock()
	}
	return make([]byte, 0, c)
}

// putBuf keeps b for reuse while the free list holds less than its cap
// (a quarter of MaxBufferedBytes, at most 64 MiB): the free list is the
// "small constant" above MaxBufferedBytes. A sync.Pool would not do: every
// garbage collection empties it, and the buffers are what the GC sees most.
func (in *Ingestor) putBuf(b []byte) {
	c := cap(b)
	if !in.isClass(c) {
		return
	}
	in.freeMu.Lock()
	if in.freeBytes+c <= in.freeMax {
		in.free[c] = append(in.free[c], b[:0])
		in.freeBytes += c
	}
	in.freeMu.Unlock()
}

// slot returns the active buffer of r's partition, opening it if there is
// a slot (making one under FlushOldest, waiting under Block). It returns
// nil, nil when the Reject policy refuses. in.mu is held (and released
// while waiting).
func (in *Ingestor) slot(ctx context.Context, r *run) (*buffer, error) {
	var start time.Time
	for {
		ts := in.tenants[r.tenant]
		if ts == nil {
			ts = &tenantState{name: r.tenant}
			in.tenants[r.tenant] = ts
		}
		for _, b := range ts.parts {
			if b.part.Day == r.day {
				in.endStall(start, "partitions")
				return b, nil
			}
		}
		if in.active < in.maxTotal && len(ts.parts) < in.maxPerT {
			b := &buffer{part: loglake.Partition{Tenant: ts.name, Day: r.day}, ts: ts}
			ts.parts = append(ts.parts, b)
			in.active++
			b.next, b.prev = in.lru.next, &in.lru
			in.lru.next.prev = b
			in.lru.next = b
			in.st.opened.Add(1)
			in.endStall(start, "partitions")
			return b, nil
		}
		switch in.opts.Policy {
		case Reject:
			in.st.rejected.Add(1)
			return nil, nil
		case FlushOldest:
			var victim *buffer
			if len(ts.parts) >= in.maxPerT {
				for _, b := range ts.parts {
					if victim == nil || b.lastWrite < victim.lastWrite {
						victim = b
					}
				}
			} else {
				victim = in.lru.prev
			}
			in.st.evicted.Add(1)
			in.detach(victim)
			continue
		}
		// Block.
		first := start.IsZero()
		if first {
			start = time.Now()
			in.st.stalls.Add(1)
		}
		ch := in.slotCh
		in.mu.Unlock()
		if h := in.opts.Hooks.OnStall; h != nil && first {
			h(StallInfo{Cause: "partitions"}) // outside the lock: hooks may call Stats
		}
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-in.closing:
			err = loglake.ErrClosed
		}
		in.mu.Lock()
		if err != nil {
			in.endStall(start, "partitions")
			return nil, err
		}
	}
}

func (in *Ingestor) endStall(start time.Time, cause string) {
	if start.IsZero() {
		return
	}
	d := time.Since(start)
	in.st.stallNanos.Add(int64(d))
	if in.opts.Hooks.OnStall != nil {
		// in.mu is held: the hook runs when the caller lets go of it.
		in.stallEnds = append(in.stallEnds, StallInfo{Cause: cause, Wait: d})
	}
}

// waitMemory waits, with in.mu released, until ch says memory was freed,
// ctx ends or the Ingestor closes. The first wait of a stall (*start zero)
// starts it: it is counted and reported to Hooks.OnStall. in.mu is held
// again on return.
func (in *Ingestor) waitMemory(ctx context.Context, ch <-chan struct{}, start *time.Time) error {
	first := start.IsZero()
	if first {
		*start = time.Now()
		in.st.stalls.Add(1)
	}
	in.mu.Unlock()
	if h := in.opts.Hooks.OnStall; h != nil && first {
		h(StallInfo{Cause: "memory"})
	}
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	case <-in.closing:
		err = loglake.ErrClosed
	}
	in.mu.Lock()
	return err
}

// unlock releases in.mu and then runs the stall-end hooks queued under it.
func (in *Ingestor) unlock() {
	ends := in.stallEnds
	in.stallEnds = nil
	in.mu.Unlock()
	for _, e := range ends {
		in.opts.Hooks.OnStall(e)
	}
}

// reserve makes room under MaxBufferedBytes for b to take n more bytes: it
// flushes the largest buffers first (b among them) and, when everything is
// in flight already, waits for uploads to finish. in.mu is held (and
// released while waiting); callers check that b is still live afterwards.
func (in *Ingestor) reserve(ctx context.Context, b *buffer, n int) error {
	var start time.Time
	defer func() { in.endStall(start, "memory") }()
	for {
		in.memMu.Lock()
		ch := in.memCh
		in.memMu.Unlock()
		g := int64(in.growth(b, n))
		if g == 0 || in.mem.Load()+g <= in.opts.MaxBufferedBytes {
			return nil
		}
		if v := in.largest(); v != nil {
			in.st.memoryFlushes.Add(1)
			in.detach(v)
			if v == b {
				return nil // the caller takes a new buffer
			}
			continue
		}
		if in.mem.Load() == 0 {
			return nil // b alone is over the budget: let it through
		}
		if err := in.waitMemory(ctx, ch, &start); err != nil {
			return err
		}
	}
}

// largest returns the buffer holding the most memory, or nil.
func (in *Ingestor) largest() *buffer {
	var best *buffer
	for b := in.lru.next; b != &in.lru; b = b.next {
		if best == nil || cap(b.data) > cap(best.data) {
			best = b
		}
	}
	for _, b := range in.dead {
		if cap(b.data) > 0 && (best == nil || cap(b.data) > cap(best.data)) {
			best = b
		}
	}
	if best != nil && cap(best.data) == 0 {
		return nil
	}
	return best
}

// detach turns b's data into an upload job, frees its slot and queues the
// job. in.mu is held.
func (in *Ingestor) detach(b *buffer) {
	if b.dead {
		delete(in.dead, b.dk)
	} else {
		ts := b.ts
		for k, p := range ts.parts {
			if p == b {
				ts.parts[k] = ts.parts[len(ts.parts)-1]
				ts.parts[len(ts.parts)-1] = nil
				ts.parts = ts.parts[:len(ts.parts)-1]
				break
			}
		}
		if len(ts.parts) == 0 {
			delete(in.tenants, ts.name)
		}
		b.ts = nil
		b.prev.next, b.next.prev = b.next, b.prev
		b.prev, b.next = nil, nil
		in.active--
		close(in.slotCh)
		in.slotCh = make(chan struct{})
	}
	if len(b.data) == 0 {
		in.release(int64(cap(b.data)))
		return
	}
	name := in.namePrefix + seqString(in.seq.Add(1))
	j := &job{
		ctx:     in.ctx,
		data:    b.data,
		mem:     int64(cap(b.data)),
		records: b.records,
		refs:    b.refs,
		done:    make(chan struct{}),
	}
	if b.dead {
		j.reason = b.dk.reason
		j.key = errorsPrefix(b.dk.reason, b.dk.day) + name + in.ext
	} else {
		j.part = b.part
		j.key = b.part.Prefix(loglake.AreaRaw) + name + in.ext
		j.spillKey = in.spillKey(b.part, name)
	}
	b.data, b.refs, b.records = nil, nil, 0
	in.pending[j] = struct{}{}
	in.push(j)
}

func seqString(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for d := 0; d < 8 || n > 0; d++ {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}

func errorsPrefix(reason Reason, day loglake.Day) string {
	return loglake.AreaErrors + "/" + string(reason) + "/dt=" + day.String() + "/"
}

// spillKey is spill/<writer>/<YYYY-MM-DD>.<name>.<tenant><ext>: names and
// days hold no '.', so Recover can split it back into the partition and
// the raw object's name.
func (in *Ingestor) spillKey(p loglake.Partition, name string) string {
	return loglake.AreaSpill + "/" + in.writerID + "/" + p.Day.String() + "." + name + "." + p.Tenant + in.ext
}

// release returns n bytes to the memory budget.
func (in *Ingestor) release(n int64) {
	if n == 0 {
		return
	}
	in.mem.Add(-n)
	in.memMu.Lock()
	close(in.memCh)
	in.memCh = make(chan struct{})
	in.memMu.Unlock()
}

// ager flushes buffers whose oldest record has waited BufferInterval.
func (in *Ingestor) ager() {
	every := min(max(in.opts.BufferInterval/10, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-in.closing:
			return
		case <-t.C:
		}
		in.mu.Lock()
		deadline := in.opts.now().Add(-in.opts.BufferInterval)
		for b := in.lru.next; b != &in.lru; {
			next := b.next
			if len(b.data) > 0 && !b.created.After(deadline) {
				in.st.agedFlushes.Add(1)
				in.detach(b)
			}
			b = next
		}
		for _, b := range in.dead {
			if !b.created.After(deadline) {
				in.detach(b)
			}
		}
		in.mu.Unlock()
	}
}

// Flush writes every buffered record and waits for every upload started
// before it, including those started by size, age or memory. It returns
// nil when all of them landed in raw/, errors/ or, after failed retries,
// spill/; otherwise a *FlushError naming the inputs that did not land
// (each failure is reported once, by the Flush or Close that follows it).
// If ctx ends first, Flush returns ctx's error; the uploads go on.
func (in *Ingestor) Flush(ctx context.Context) error {
	if err := in.begin(); err != nil {
		return err
	}
	defer in.ops.Done()
	return in.flush(ctx)
}

func (in *Ingestor) flush(ctx context.Context) error {
	in.mu.Lock()
	for b := in.lru.next; b != &in.lru; {
		next := b.next
		in.detach(b)
		b = next
	}
	for _, b := range in.dead {
		in.detach(b)
	}
	wait := make([]*job, 0, len(in.pending))
	for j := range in.pending {
		wait = append(wait, j)
	}
	in.mu.Unlock()
	for _, j := range wait {
		select {
		case <-j.done:
		case <-ctx.Done():
			return fmt.Errorf("ingest: flush: %w", ctx.Err())
		}
	}
	in.failMu.Lock()
	failed := in.failures
	in.failures = nil
	in.failMu.Unlock()
	return newFlushError(failed)
}

// Close flushes, waits for every upload, stops the Ingestor's goroutines
// and returns what Flush would. If ctx ends first, uploads in flight are
// canceled and reported in the *FlushError with ctx's error. Close does not
// close the lake. Afterwards every method returns loglake.ErrClosed, a
// second Close included.
func (in *Ingestor) Close(ctx context.Context) error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return loglake.ErrClosed
	}
	in.closed = true
	close(in.closing)
	in.mu.Unlock()
	in.ops.Wait() // waiting calls wake up on closing
	err := in.flush(ctx)
	if ctx.Err() != nil {
		in.cancel()
	}
	in.qmu.Lock()
	in.qclosed = true
	in.qcond.Broadcast()
	in.qmu.Unlock()
	in.wg.Wait()
	in.cancel()
	in.failMu.Lock()
	failed := in.failures
	in.failures = nil
	in.failMu.Unlock()
	if len(failed) > 0 {
		var fe *FlushError
		if e, ok := err.(*FlushError); ok {
			fe = e
			fe.Failed = append(fe.Failed, failed...)
			return newFlushError(fe.Failed)
		}
		return joinErr(failed, err)
	}
	return err
}
