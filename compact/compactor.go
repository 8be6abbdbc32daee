package compact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
)

// Compactor compacts partitions of one lake. It is safe for concurrent use;
// it starts no goroutine that outlives a call.
type Compactor struct {
	lake        *loglake.Lake
	opts        Options
	tsField     string
	tenantField string
	rules       timeRules
	pinned      map[string]Type
	stats       stats
	closed      atomic.Bool
	codec       *zstdCodec         // Parquet page codec, at opts.ZstdLevel
	decoders    chan *zstd.Decoder // free raw-object decoders
	encoders    chan *chunkEncoder // free column-chunk encoders
	dictMax     int                // dictMaxBytes; tests make it small
	blocks      chan []byte        // free parse blocks (blockSize bytes), shared by compactions
	bufws       chan *bufio.Writer // free file write buffers
	running     atomic.Int64       // Run and CompactPartition calls under way
	// hints holds the column sizes of the last chunk sealed, which the
	// chunks of the next partition start from (see newChunkLike).
	hints atomic.Pointer[map[string]colSize]
}

// New returns a Compactor for lake. opts may be nil (all defaults). Every
// invalid option is reported in one error wrapping
// [loglake.ErrInvalidOptions].
func New(lake *loglake.Lake, opts *Options) (*Compactor, error) {
	if lake == nil {
		return nil, fmt.Errorf("%w: compact: nil lake", loglake.ErrInvalidOptions)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	s := lake.Settings()
	c := &Compactor{lake: lake, opts: o, tsField: s.TimestampField, tenantField: s.TenantField, rules: newTimeRules(s), pinned: map[string]Type{}}
	c.codec = newZstdCodec(o.ZstdLevel)
	c.decoders = make(chan *zstd.Decoder, max(o.Concurrency, 2))
	c.encoders = make(chan *chunkEncoder, runtime.GOMAXPROCS(0))
	c.dictMax = dictMaxBytes
	c.bufws = make(chan *bufio.Writer, o.Concurrency)
	// Blocks in flight, about 2×workers+1 per compaction, stay within
	// half of BufferBytes (blockSize); the free list keeps that many for
	// each of Concurrency compactions.
	c.blocks = make(chan []byte, (2*runtime.GOMAXPROCS(0)+2)*o.Concurrency)
	for _, f := range o.Pin {
		if f.Name == s.TimestampField && f.Type != TypeTimestamp {
			return nil, fmt.Errorf("%w: compact: Pin: the timestamp field %q must be a timestamp", loglake.ErrInvalidOptions, f.Name)
		}
		if f.Name == s.TenantField {
			return nil, fmt.Errorf("%w: compact: Pin: the tenant field %q lives in the path and cannot be a column", loglake.ErrInvalidOptions, f.Name)
		}
		c.pinned[f.Name] = f.Type
	}
	return c, nil
}

// Stats returns a snapshot of the compactor's counters.
func (c *Compactor) Stats() Stats { return c.stats.snapshot() }

// Close marks the compactor closed; calls after it return
// [loglake.ErrClosed]. It does not wait for running calls (they end with
// their contexts) and does not close the lake.
func (c *Compactor) Close() error {
	if c.closed.Swap(true) {
		return loglake.ErrClosed
	}
	return nil
}

// Outcome is how a partition's compaction ended.
type Outcome string

// Outcomes.
const (
	// OutcomeCompacted: a new manifest generation was committed.
	OutcomeCompacted Outcome = "compacted"
	// OutcomeUnchanged: there was nothing new to compact (leftovers of an
	// earlier interrupted commit may have been cleaned up).
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeConflict: another compactor committed first; this one
	// removed the files it wrote. The partition is compacted by the other.
	OutcomeConflict Outcome = "conflict"
	// OutcomeFailed: the compaction returned an error (in a [Report]).
	OutcomeFailed Outcome = "failed"
)

// Result describes one partition's compaction.
type Result struct {
	Partition  loglake.Partition
	Outcome    Outcome
	Generation int64 // the newest generation after the compaction
	Rewrite    bool  // existing files were merged into the new ones
	RawObjects int   // raw objects compacted
	InputBytes int64 // their decoded NDJSON bytes
	Records    int64 // rows written
	Files      []FileRef
	Deleted    int // raw objects, files and manifests deleted
	Duration   time.Duration
}

// errCrash is returned when a Hooks.AfterStep hook stops a compaction.
type crashError struct{ err error }

func (e *crashError) Error() string { return e.err.Error() }
func (e *crashError) Unwrap() error { return e.err }

func (c *Compactor) step(p loglake.Partition, s Step, key string) error {
	if h := c.opts.Hooks.AfterStep; h != nil {
		if err := h(p, s, key); err != nil {
			return &crashError{err}
		}
	}
	return nil
}

// CompactPartition compacts the raw objects of partition p into Parquet
// and commits them with the protocol of DESIGN.md ("Compaction commit"):
//
//  1. take a [View] (raw listing, then the newest manifest, generation N)
//     and finish the clean-up of generation N if a crash interrupted it;
//  2. write the new Parquet files under fresh names;
//  3. create manifest N+1 with a create-only write;
//  4. only then delete the raw objects it covers, the files it
//     supersedes, and manifests older than Options.KeepManifests.
//
// Each step leaves a lake that reads every record once. If another
// compactor commits N+1 first, this one deletes its files and returns
// OutcomeConflict with a nil error. An error after the commit (a failed
// delete) comes with OutcomeCompacted: the data is committed, and the next
// compaction finishes the clean-up.
func (c *Compactor) CompactPartition(ctx context.Context, p loglake.Partition) (res Result, err error) {
	res = Result{Partition: p}
	if c.closed.Load() {
		return res, loglake.ErrClosed
	}
	if err := p.Validate(); err != nil {
		return res, err
	}
	defer c.hold()()
	start := time.Now()
	c.stats.partitions.Add(1)
	if h := c.opts.Hooks.OnStart; h != nil {
		h(p)
	}
	defer func() {
		res.Duration = time.Since(start)
		switch {
		case err != nil && res.Outcome != OutcomeCompacted:
			c.stats.failed.Add(1)
		case res.Outcome == OutcomeCompacted:
			c.stats.compacted.Add(1)
		case res.Outcome == OutcomeConflict:
			c.stats.conflicts.Add(1)
		default:
			c.stats.unchanged.Add(1)
		}
		if h := c.opts.Hooks.OnDone; h != nil {
			h(res, err)
		}
	}()
	res, err = c.compact(ctx, p, res)
	if err != nil {
		err = fmt.Errorf("compact: %s: %w", p, err)
	}
	return res, err
}

func (c *Compactor) compact(ctx context.Context, p loglake.Partition, res Result) (Result, error) {
	v, err := Snapshot(ctx, c.lake, p)
	if err != nil {
		return res, err
	}
	res.Generation = v.Generation
	mkey := ""
	if v.man != nil {
		mkey = manifestKey(p, v.Generation)
	}
	if err := c.step(p, StepReadManifest, mkey); err != nil {
		return res, err
	}

	// 1. Finish generation N's clean-up: its covered raw objects and its
	// superseded files. Safe: manifest N covers or drops them. And the
	// temporary files of raw writes that died: no reader reads them, and a
	// write in progress is not DefaultGrace old.
	if err := c.removeTemps(ctx, p, v.temps); err != nil {
		return res, err
	}
	if v.man != nil {
		n, err := c.cleanup(ctx, p, v.coveredAt, v.man.Superseded, nil)
		res.Deleted += n
		if err != nil {
			return res, err
		}
	}
	if len(v.Raw) == 0 {
		res.Outcome = OutcomeUnchanged
		return res, nil
	}

	// 2. Write the new files.
	gen := v.Generation + 1
	var old []FileRef
	var rewrite []FileRef
	if v.man != nil {
		old = v.man.Files
		old, rewrite = c.pickRewrite(old)
	}
	res.Rewrite = len(rewrite) > 0
	files, st, err := c.writeFiles(ctx, p, v, gen, rewrite)
	res.RawObjects, res.InputBytes = len(v.Raw), st.inputBytes
	for _, f := range files {
		res.Records += f.Rows
	}
	if err != nil {
		var ce *crashError
		if !errors.As(err, &ce) {
			c.removeFiles(p, files)
		}
		if errors.Is(err, errStale) || loglake.IsNotFound(err) {
			// A raw object vanished or changed under us: another compactor
			// committed it. Our files are gone; nothing is lost.
			res.Outcome = OutcomeConflict
			return res, nil
		}
		return res, err
	}
	res.Files = files

	// 3. Commit generation N+1.
	m := &manifest{
		Version:    ManifestVersion,
		Generation: gen,
		Partition:  p.Key(),
		Created:    c.opts.Clock().UTC(),
		Committer:  c.opts.CommitterID,
		Files:      append(slices.Clone(old), files...),
	}
	for _, f := range rewrite {
		m.Superseded = append(m.Superseded, f.Key)
	}
	if v.man != nil {
		m.Schema = v.man.Schema
	}
	for _, f := range files {
		m.Schema = Union(m.Schema, f.Schema)
	}
	m.Covered = c.carryCovered(v, m.Created)
	data, err := encodeManifest(m)
	if err != nil {
		c.removeFiles(p, files)
		return res, err
	}
	key := manifestKey(p, gen)
	if err := c.lake.CreateOnly(ctx, key, data); err != nil {
		if errors.Is(err, loglake.ErrConflict) {
			c.removeFiles(p, files)
			res.Outcome, res.Files = OutcomeConflict, nil
			return res, nil
		}
		// The create may or may not have happened (a timeout after the
		// store applied it): look before removing anything.
		got, rerr := c.lake.ReadAll(context.WithoutCancel(ctx), key)
		switch {
		case rerr == nil && string(got) == string(data):
			// It did: go on as committed.
		case rerr == nil || loglake.IsNotFound(rerr):
			c.removeFiles(p, files)
			return res, err
		default:
			return res, err // unknown: leave the files to CollectGarbage
		}
	}
	res.Outcome, res.Generation = OutcomeCompacted, gen
	c.stats.records.Add(res.Records)
	if err := c.step(p, StepCommitted, key); err != nil {
		return res, err
	}

	// A stale compactor could create a generation that pruning removed
	// long ago. Then N (the one it read) is gone too; if so, delete
	// nothing and leave the files to CollectGarbage — harmless if the
	// suspicion is wrong, as the next compaction deletes what we leave.
	if v.Generation > 0 {
		if _, err := c.lake.Attributes(ctx, manifestKey(p, v.Generation)); loglake.IsNotFound(err) {
			c.opts.Logger.Warn("compact: generation read is gone after commit; skipping clean-up", "partition", p.String(), "generation", gen)
			res.Outcome = OutcomeConflict
			return res, nil
		}
	}

	// 4. Clean up: covered raw objects, superseded files, old manifests.
	toDelete := make([]rawObject, 0, len(v.rawAll))
	idx := m.coverIndex()
	for _, o := range v.rawAll {
		if covered(idx, o.ObjectRef) {
			toDelete = append(toDelete, o)
		}
	}
	n, err := c.cleanup(ctx, p, toDelete, m.Superseded, append(v.gens, gen))
	res.Deleted += n
	return res, err
}

// pickRewrite splits the live files into those kept and those rewritten
// with the new raw data. While another file fits under MaxFiles, none is
// rewritten. Past it, the small files — under half the rows of the largest
// — are merged, so that the count stays near MaxFiles plus the files
// filled to a whole BufferBytes run, which are never rewritten.
func (c *Compactor) pickRewrite(files []FileRef) (keep, rewrite []FileRef) {
	if len(files)+1 <= c.opts.MaxFiles {
		return files, nil
	}
	var most int64
	for _, f := range files {
		most = max(most, f.Rows)
	}
	for _, f := range files {
		if f.Rows*2 < most || len(files) == 1 {
			rewrite = append(rewrite, f)
		} else {
			keep = append(keep, f)
		}
	}
	if len(rewrite) < 2 { // merging nothing or one file gains nothing: merge all
		return nil, files
	}
	return keep, rewrite
}

// carryCovered returns the covered list of the next manifest: the raw
// objects compacted now, and the previous entries still present or
// covered less than RedeliveryWindow ago.
func (c *Compactor) carryCovered(v *View, now time.Time) []coveredRef {
	present := map[string]bool{}
	for _, o := range v.rawAll {
		present[o.Key] = true
	}
	var out []coveredRef
	seen := map[string]bool{}
	for _, o := range v.Raw {
		out = append(out, coveredRef{ObjectRef: o, Since: now})
		seen[o.Key] = true
	}
	if v.man != nil {
		for _, e := range v.man.Covered {
			if seen[e.Key] {
				continue // replaced by a different object under the same key
			}
			if present[e.Key] || now.Sub(e.Since) < c.opts.RedeliveryWindow {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b coveredRef) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// removeTemps deletes the writers' temporary files among temps that are
// older than DefaultGrace.
func (c *Compactor) removeTemps(ctx context.Context, p loglake.Partition, temps []rawObject) error {
	cutoff := c.opts.Clock().Add(-DefaultGrace)
	for _, o := range temps {
		if !o.mod.Before(cutoff) {
			continue
		}
		if err := c.lake.Delete(ctx, o.Key); err != nil {
			return err
		}
		c.opts.Logger.Info("compact: deleted a dead writer's temporary file", "partition", p.String(), "key", o.Key, "modified", o.mod)
	}
	return nil
}

// cleanup deletes covered raw objects, superseded files and manifests
// beyond KeepManifests (of gens, the generations present). Deletes are
// idempotent.
func (c *Compactor) cleanup(ctx context.Context, p loglake.Partition, raw []rawObject, superseded []string, gens []int64) (int, error) {
	n := 0
	for _, o := range raw {
		if err := c.lake.Delete(ctx, o.Key); err != nil {
			return n, err
		}
		n++
		c.stats.rawDeleted.Add(1)
		if err := c.step(p, StepDeletedRaw, o.Key); err != nil {
			return n, err
		}
	}
	for _, k := range superseded {
		if err := c.lake.Delete(ctx, k); err != nil {
			return n, err
		}
		n++
		c.stats.filesDeleted.Add(1)
		if err := c.step(p, StepDeletedFile, k); err != nil {
			return n, err
		}
	}
	if len(gens) > c.opts.KeepManifests {
		slices.Sort(gens)
		for _, g := range gens[:len(gens)-c.opts.KeepManifests] {
			key := manifestKey(p, g)
			if err := c.lake.Delete(ctx, key); err != nil {
				return n, err
			}
			n++
			if err := c.step(p, StepPruned, key); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// removeFiles deletes files this compaction wrote but did not commit. It
// runs even when ctx is canceled; what it cannot delete, CollectGarbage
// will.
func (c *Compactor) removeFiles(p loglake.Partition, files []FileRef) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, f := range files {
		if err := c.lake.Delete(ctx, f.Key); err != nil {
			c.opts.Logger.Warn("compact: could not remove an uncommitted file", "partition", p.String(), "key", f.Key, "err", err)
			continue
		}
		c.stats.filesDeleted.Add(1)
	}
}

func (c *Compactor) partitionOf(key string) string {
	if ok, err := loglake.ParseObjectKey(key); err == nil {
		return ok.Partition.Key()
	}
	return ""
}

// blockSize is the size of a parse block: blockBytes, less when
// BufferBytes is small, so that the blocks in flight of a compaction
// (about 2×GOMAXPROCS+1) stay within half of BufferBytes.
func (c *Compactor) blockSize() int {
	return int(min(blockBytes, max(c.opts.BufferBytes/int64(4*runtime.GOMAXPROCS(0)+2), 16<<10)))
}

// wholeMax is the most decoded bytes of a raw object read whole (see
// objectDecoder): with wholeInFlight of them per compaction, they hold at
// most half of BufferBytes, as blocks of streamed objects do. 0 (stream
// every object) when that is below the size of the buffers they are read
// into.
func (c *Compactor) wholeMax() int64 {
	m := c.opts.BufferBytes / (2 * wholeInFlight)
	if m < bigmem.Min {
		return 0
	}
	return m
}

// drain empties the free list ch.
func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// hold marks a compaction under way; the returned function ends it. Once
// none is, the idle zstd encoders and decoders and the column-chunk
// encoders are let go, so that an idle Compactor holds no codec memory.
func (c *Compactor) hold() func() {
	c.running.Add(1)
	return func() {
		if c.running.Add(-1) != 0 {
			return
		}
		c.codec.drop()
		drain(c.encoders)
		drain(c.blocks)
		drain(c.bufws)
		for {
			select {
			case d := <-c.decoders:
				d.Close()
			default:
				return
			}
		}
	}
}
