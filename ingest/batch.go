package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loglake/loglake"
)

// batchState collects the jobs of one AddBatch call.
type batchState struct {
	jobs []*job
}

// BatchResult tells what became of a batch.
type BatchResult struct {
	Items        int      // items handed in
	Records      int      // records accepted (written to raw/ or spill/, or failed)
	Written      int      // records written to raw/
	Spilled      int      // records written to spill/ (Recover moves them)
	DeadLettered int      // records (or unparseable values) written to errors/
	Objects      int      // objects written: raw, errors and spill
	Keys         []string // the raw keys written, in order
}

// AddBatch ingests items — each one envelope, one bare record or an NDJSON
// chunk — as one batch named batchID (e.g. a Kinesis shard id and sequence
// range), and writes it before it returns: unlike Add, it does not buffer
// across calls. Records that did not land are named, item by item, in a
// *FlushError.
//
// # Idempotence
//
// The keys of a batch's objects derive from a hash of batchID, the
// partition and a chunk index, so delivering the same batch again
// overwrites its objects instead of adding copies. This holds when the
// redelivery has the same batchID and the same items in the same order,
// the Ingestor has the same options that shape output (CarryFields,
// LogField, BufferBytes, MaxRecordBytes, MissingTime, Compression) and the
// lake the same settings, and — for records routed by arrival time because
// they have no usable time, and for dead letters, which are filed under
// their arrival day — the redelivery arrives on the same day ([AddBatchAt]
// removes this last condition). If the
// compactor has committed and deleted the first delivery's raw objects in
// the meantime, the redelivered objects have keys that its manifest lists
// as covered, and readers skip them (see the compact package). Two
// different batches must not share a batch id.
//
// A batch's partitions are written while AddBatch runs and are not held
// in the shared buffers; under the Reject policy a batch may open at most
// MaxActivePartitions partitions (and MaxActivePartitionsPerTenant per
// tenant) and the records of the rest are refused; the other policies
// write any number. A batch's memory counts against MaxBufferedBytes while
// it is written (a batch larger than the budget alone waits until nothing
// else is in flight).
func (in *Ingestor) AddBatch(ctx context.Context, batchID string, items [][]byte) (BatchResult, error) {
	return in.addBatch(ctx, batchID, time.Time{}, items, nil)
}

// AddBatchAt is [Ingestor.AddBatch] with the batch's arrival time given by
// the caller instead of read from the clock: the time the source first
// received the batch, which stays the same on every redelivery (Kinesis's
// ApproximateArrivalTimestamp, an SQS message's SentTimestamp, a
// Firehose record's approximateArrivalTimestamp). Records without a usable
// time (under [ArrivalTime]) and dead letters are filed under the day of
// arrived in the lake's zone, so a batch redelivered after midnight lands
// on the keys of its first delivery instead of beside them. A zero arrived
// means now, as in AddBatch.
func (in *Ingestor) AddBatchAt(ctx context.Context, batchID string, arrived time.Time, items [][]byte) (BatchResult, error) {
	return in.addBatch(ctx, batchID, arrived, items, nil)
}

// addBatch ingests a batch with the caller's l (which keeps its buffers
// from batch to batch), or with a pooled one if l is nil.
func (in *Ingestor) addBatch(ctx context.Context, batchID string, arrived time.Time, items [][]byte, l *local) (BatchResult, error) {
	res := BatchResult{Items: len(items)}
	if batchID == "" {
		return res, fmt.Errorf("%w: ingest: AddBatch needs a batch id", loglake.ErrInvalidOptions)
	}
	if err := in.begin(); err != nil {
		return res, err
	}
	defer in.ops.Done()

	if l == nil {
		l = in.locals.Get().(*local)
		defer func() { l.reset(); in.locals.Put(l) }()
	}
	l.reset()
	var size int
	for _, item := range items {
		size += len(item)
	}
	if need := size + size/4; cap(l.out) < need { // envelopes' records gain their tenant
		l.out = make([]byte, 0, need)
	}
	if !arrived.IsZero() {
		l.arrival, l.arrivalSet = loglake.DayOf(arrived, in.loc), true
	}
	for k, item := range items {
		in.st.bytesIn.Add(int64(len(item)))
		in.feed(l, item, InputRef{BatchID: batchID, Index: k}, nil)
	}
	in.st.inputs.Add(int64(len(items)))
	in.st.records.Add(int64(l.accepted))
	in.st.deadLettered.Add(int64(l.deadCount))

	// Group the runs by partition, in order of first appearance.
	type group struct {
		part loglake.Partition
		runs []int
	}
	var groups []*group
	index := map[loglake.Partition]*group{}
	for k, r := range l.runs {
		p := loglake.Partition{Tenant: r.tenant, Day: r.day}
		g := index[p]
		if g == nil {
			g = &group{part: p}
			index[p] = g
			groups = append(groups, g)
		}
		g.runs = append(g.runs, k)
	}
	var failedInputs []FailedInput
	if in.opts.Policy == Reject {
		perTenant := map[string]int{}
		kept := groups[:0]
		for _, g := range groups {
			if len(kept) >= in.maxTotal || perTenant[g.part.Tenant] >= in.maxPerT {
				in.st.rejected.Add(1)
				cause := fmt.Errorf("%w: %s (policy Reject)", loglake.ErrTooManyActivePartitions, g.part)
				for _, k := range g.runs {
					r := l.runs[k]
					failedInputs = append(failedInputs, FailedInput{Input: r.ref, Records: r.records, Err: cause})
					in.st.records.Add(-int64(r.records))
					in.st.refused.Add(int64(r.records))
				}
				continue
			}
			perTenant[g.part.Tenant]++
			kept = append(kept, g)
		}
		groups = kept
	}

	// Reserve the batch's memory, then cut it into objects.
	total := int64(len(l.out) + len(l.dead))
	if err := in.reserveBytes(ctx, total); err != nil {
		for _, r := range l.runs {
			failedInputs = append(failedInputs, FailedInput{Input: r.ref, Records: r.records, Err: err})
		}
		for _, r := range l.deadRuns {
			failedInputs = append(failedInputs, FailedInput{Input: r.ref, Records: r.records, Err: err})
		}
		in.st.refused.Add(int64(l.accepted + l.deadCount))
		in.st.records.Add(-int64(l.accepted))
		in.st.deadLettered.Add(-int64(l.deadCount))
		return res, joinErr(failedInputs, nil)
	}
	bs := &batchState{}
	var used int64
	newJob := func(key, spillKey string, part loglake.Partition, reason Reason) *job {
		return &job{ctx: ctx, key: key, spillKey: spillKey, part: part, reason: reason, done: make(chan struct{}), batch: bs}
	}
	// Jobs' data are cut from one slab, which outlives them: the jobs end
	// before addBatch returns. A job is filled at the end of the slab; one
	// that is added to again after another (a dead-letter job) moves there.
	if cap(l.slab) < int(total) {
		l.slab = make([]byte, 0, total)
	}
	slab := l.slab[:0]
	defer func() { l.slab = slab[:0] }()
	var open *job
	var openStart int
	addChunk := func(j *job, lines []byte, ref InputRef, records int) {
		if j != open {
			open, openStart = j, len(slab)
			slab = append(slab, j.data...)
		}
		slab = append(slab, lines...)
		j.data = slab[openStart:len(slab):len(slab)]
		j.records += records
		if n := len(j.refs); n > 0 && j.refs[n-1].ref == ref {
			j.refs[n-1].records += records
		} else {
			j.refs = append(j.refs, refCount{ref, records})
		}
	}
	for _, g := range groups {
		base := "b-" + batchHash(batchID, g.part.Key()) + "-"
		var j *job
		chunk := 0
		for _, k := range g.runs {
			r := l.runs[k]
			if j != nil && len(j.data)+(r.end-r.start) > in.opts.BufferBytes {
				bs.jobs = append(bs.jobs, j)
				j = nil
			}
			if j == nil {
				name := base + chunkString(chunk)
				chunk++
				j = newJob(g.part.Prefix(loglake.AreaRaw)+name+in.ext, in.spillKey(g.part, name), g.part, "")
			}
			addChunk(j, l.out[r.start:r.end], r.ref, r.records)
		}
		if j != nil {
			bs.jobs = append(bs.jobs, j)
		}
	}
	deadJobs := map[deadKey]*job{}
	deadChunks := map[deadKey]int{}
	for _, r := range l.deadRuns {
		dk := deadKey{r.reason, in.arrivalDay(l)}
		j := deadJobs[dk]
		if j != nil && len(j.data)+(r.end-r.start) > in.opts.BufferBytes {
			j = nil
		}
		if j == nil {
			name := "b-" + batchHash(batchID, "errors/"+string(dk.reason)+"/"+dk.day.String()) + "-" + chunkString(deadChunks[dk])
			deadChunks[dk]++
			j = newJob(errorsPrefix(dk.reason, dk.day)+name+in.ext, "", loglake.Partition{}, dk.reason)
			deadJobs[dk] = j
			bs.jobs = append(bs.jobs, j)
		}
		addChunk(j, l.dead[r.start:r.end], r.ref, r.records)
	}
	for _, j := range bs.jobs {
		j.mem = int64(len(j.data))
		used += j.mem
	}
	in.release(total - used) // refused runs
	for _, j := range bs.jobs {
		in.push(j)
	}
	for _, j := range bs.jobs {
		<-j.done // jobs end on their own when ctx ends
	}
	for _, j := range bs.jobs {
		switch j.outcome {
		case landed, spilled:
			res.Objects++
			if j.spillKey == "" {
				res.DeadLettered += j.records
				continue
			}
			res.Records += j.records
			if j.outcome == spilled {
				res.Spilled += j.records
			} else {
				res.Written += j.records
				res.Keys = append(res.Keys, j.key)
			}
		default:
			if j.spillKey != "" {
				res.Records += j.records
			}
			for _, r := range j.refs {
				failedInputs = append(failedInputs, FailedInput{Input: r.ref, Records: r.records, Key: j.key, Err: j.err})
			}
		}
	}
	return res, joinErr(failedInputs, nil)
}

// batchHash is 96 bits of SHA-256 over the batch id and what the object
// holds, in hex: deterministic, and collision-free in practice.
func batchHash(batchID, what string) string {
	h := sha256.New()
	h.Write([]byte(batchID))
	h.Write([]byte{0})
	h.Write([]byte(what))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func chunkString(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return s
}

// reserveBytes adds n bytes to the memory budget, flushing the largest
// shared buffers and waiting as reserve does.
func (in *Ingestor) reserveBytes(ctx context.Context, n int64) error {
	in.mu.Lock()
	defer in.unlock()
	var start time.Time
	defer func() { in.endStall(start, "memory") }()
	for {
		in.memMu.Lock()
		ch := in.memCh
		in.memMu.Unlock()
		if m := in.mem.Load(); m+n <= in.opts.MaxBufferedBytes || m == 0 {
			in.mem.Add(n)
			return nil
		}
		if v := in.largest(); v != nil {
			in.st.memoryFlushes.Add(1)
			in.detach(v)
			continue
		}
		if err := in.waitMemory(ctx, ch, &start); err != nil {
			return err
		}
	}
}
