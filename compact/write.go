package compact

import (
	"context"
	"fmt"
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
func (c *Compactor) writeFiles(ctx context.Context, p loglake.Partition, v *View, gen int64, rewrite []FileRef) ([]FileRef, writeStats, error) {
	var st writeStats
	cfg := &chunkConfig{
		tsField: c.tsField, tenantField: c.tenantField, tenant: p.Tenant, rules: c.rules,
		pinned: c.pinned, maxColumns: c.opts.MaxColumns, seed: map[string]Type{},
	}
	if v.man != nil {
		for _, f := range v.man.Schema {
			if f.Name != UnfitColumn {
				cfg.seed[f.Name] = f.Type
			}
		}
	}
	var files []FileRef
	nonce := randomHex(4)
	ch := newChunk(cfg)
	flush := func() error {
		if ch.rows == 0 {
			return nil
		}
		c.stats.unfit.Add(ch.nUnfit)
		c.stats.malformed.Add(ch.nMalformed)
		c.stats.badUTF8.Add(ch.nBadUTF8)
		s := ch.seal(true)
		ch = newChunk(cfg)
		defer s.release()
		key := fmt.Sprintf("%spart-%0*d-%s-%s-%03d.parquet", p.Prefix(loglake.AreaCompacted), genDigits, gen, c.opts.CommitterID, nonce, len(files))
		ref, err := c.writeParquet(ctx, key, s)
		if err != nil {
			return err
		}
		files = append(files, ref)
		c.stats.filesWritten.Add(1)
		c.stats.bytesOut.Add(ref.Size)
		return c.step(p, StepWroteFile, key)
	}

	// Inputs in the order most likely to be in time order already: old
	// files by their first time, then raw objects by arrival.
	slices.SortFunc(rewrite, func(a, b FileRef) int { return a.MinTime.Compare(b.MinTime) })
	for _, f := range rewrite {
		err := scanParquet(ctx, c.lake, f, func(ms []member) error {
			for k := range ms {
				ch.bytes += int64(len(ms[k].key) + len(ms[k].str) + 8)
				ch.put(k, &ms[k])
			}
			ch.endRow()
			if ch.bytes >= c.opts.BufferBytes {
				return flush()
			}
			return nil
		})
		if err != nil {
			return files, st, err
		}
	}
	raw := v.rawObjects()
	for _, o := range raw {
		if err := ctx.Err(); err != nil {
			return files, st, err
		}
		var ferr error
		before := ch.bytes
		total := int64(0)
		err := readRaw(ctx, c.lake, o.ObjectRef, func(line []byte) {
			if ferr != nil {
				return
			}
			ch.addLine(line)
			if ch.bytes >= c.opts.BufferBytes {
				total += ch.bytes - before
				ferr = flush()
				before = 0
			}
		})
		total += ch.bytes - before
		st.inputBytes += total
		c.stats.inputBytes.Add(total)
		c.stats.rawObjects.Add(1)
		if err == nil {
			err = ferr
		}
		if err != nil {
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
