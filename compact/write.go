package compact

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/loglake/loglake"
)

type writeStats struct {
	inputBytes int64
}

// writeFiles reads the files to rewrite and the uncovered raw objects of v
// into chunks of at most BufferBytes, and writes each chunk, sorted by
// time, as a Parquet file of generation gen. On error it returns the files
// it completed, for the caller to remove.
func (c *Compactor) writeFiles(ctx context.Context, p loglake.Partition, v *View, gen int64, rewrite []FileRef) (files []FileRef, st writeStats, err error) {
	cfg := &chunkConfig{
		tsField: c.tsField, tenantField: c.tenantField, tenant: p.Tenant, rules: c.rules,
		pinned: c.pinned, maxColumns: c.opts.MaxColumns, seed: map[string]Type{},
		arenas: c.wholeMax() > 0, // the same threshold: buffers of the same pool
	}
	if v.man != nil {
		for _, f := range v.man.Schema {
			if f.Name != UnfitColumn {
				cfg.seed[f.Name] = f.Type
			}
		}
	}
	nonce := randomHex(4)
	workers := runtime.GOMAXPROCS(0)
	if workers > 1 {
		// Chunks filled side by side share one column limit.
		cfg.shared = &columnBudget{}
	}
	var hints map[string]colSize
	if h := c.hints.Load(); h != nil {
		hints = *h
	}
	pool := newParsePool(workers, cfg, c.blockSize(), c.blocks, hints)
	defer pool.stop()
	defer func() {
		if pool.hints != nil {
			c.hints.Store(&pool.hints)
		}
	}()
	// runBytes is what the current run holds, counted as the chunks count.
	var runBytes int64
	defer func() {
		st.inputBytes = pool.rawBytes.Load()
		c.stats.inputBytes.Add(st.inputBytes)
	}()
	flush := func() error {
		pool.drain()
		runBytes = 0
		parts := pool.take(&c.stats)
		if len(parts) == 0 {
			return nil
		}
		rd := mergeSealed(parts)
		defer rd.release()
		key := fmt.Sprintf("%spart-%0*d-%s-%s-%03d.parquet", p.Prefix(loglake.AreaCompacted), genDigits, gen, c.opts.CommitterID, nonce, len(files))
		ref, err := c.writeParquet(ctx, key, rd)
		if err != nil {
			return err
		}
		files = append(files, ref)
		c.stats.filesWritten.Add(1)
		c.stats.bytesOut.Add(ref.Size)
		return c.step(p, StepWroteFile, key)
	}

	// Inputs in the order most likely to be in time order already: old
	// files by their first time, then raw objects by arrival. Rows of old
	// files go to the first chunk directly, before any block is handed
	// out; their rows come first in input order (block 0).
	slices.SortFunc(rewrite, func(a, b FileRef) int { return a.MinTime.Compare(b.MinTime) })
	for _, f := range rewrite {
		err := scanParquet(ctx, c.lake, f, func(ms []member) error {
			ch := pool.chunks[0]
			before := ch.bytes
			for k := range ms {
				ch.bytes += int64(len(ms[k].key) + len(ms[k].str) + 8)
				ch.put(k, &ms[k])
			}
			ch.endRow()
			runBytes += ch.bytes - before
			if runBytes >= c.opts.BufferBytes {
				return flush()
			}
			return nil
		})
		if err != nil {
			return files, st, err
		}
	}
	dec := &objectDecoder{free: c.decoders, wholeMax: c.wholeMax(), block: c.blockSize(), slots: make(chan struct{}, wholeInFlight)}
	defer dec.close()
	for _, o := range v.rawObjects() {
		if err := ctx.Err(); err != nil {
			return files, st, err
		}
		err := dec.eachBlock(ctx, c.lake, o.ObjectRef, pool.get, func(own blockOwner, data []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for len(data) > 0 {
				if runBytes >= c.opts.BufferBytes {
					if err := flush(); err != nil {
						return err
					}
				}
				n := cutAt(data, runBytes, c.opts.BufferBytes)
				if n == len(data) {
					pool.dispatch(own, data)
					runBytes += int64(n) // blank lines count here, not in chunks: close enough
					return nil
				}
				pool.dispatch(own.shared(), data[:n]) // the rest still uses the memory
				runBytes = c.opts.BufferBytes
				data = data[n:]
			}
			pool.put(own.buf)
			return nil
		})
		c.stats.rawObjects.Add(1)
		if err != nil {
			pool.drain()
			return files, st, err
		}
	}
	if err := flush(); err != nil {
		return files, st, err
	}
	return files, st, nil
}

// rawObjects returns the uncovered raw objects of v with their listing
// times, by arrival: writers flush in time order, so this order makes the
// runs nearly sorted already and their time ranges overlap little.
func (v *View) rawObjects() []rawObject {
	want := map[string]bool{}
	for _, o := range v.Raw {
		want[o.Key] = true
	}
	var out []rawObject
	for _, o := range v.rawAll {
		if want[o.Key] {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b rawObject) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}
