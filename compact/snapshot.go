package compact

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// View is a reader's view of one partition at one moment: the Parquet files
// the newest manifest lists and the raw objects it does not cover. Reading
// exactly these objects returns each record of the partition once.
//
// If an object of a View is gone when it is read ([loglake.IsNotFound]) or
// its size differs from the View's, a compaction committed and cleaned up
// meanwhile (or a batch was redelivered): take a new View and read the
// partition again from the start, discarding what was read of it. This
// rule is what keeps long queries exact while compactions run (DESIGN.md,
// "Compaction commit"). [ReadAll] follows it.
type View struct {
	Partition loglake.Partition
	// Generation is the manifest generation, 0 when the partition was
	// never compacted.
	Generation int64
	// Parquet are the live Parquet files, in the manifest's order.
	Parquet []FileRef
	// Raw are the raw objects not covered by the manifest, in key order.
	Raw []ObjectRef
	// Schema is the union of the Parquet files' schemas: the type to read
	// each column as (a file may hold a column as a narrower type; see
	// the package doc, "Schema").
	Schema Schema

	man       *manifest // nil when Generation is 0
	rawAll    []rawObject
	coveredAt []rawObject // raw objects present and covered
	temps     []rawObject // temporary files of writers (see rawcodec.IsWriterTemp)
	gens      []int64     // manifest generations present, ascending
}

// rawObject is a listed raw object.
type rawObject struct {
	ObjectRef
	mod time.Time
}

// Snapshot returns the reader's view of partition p. It lists the raw
// objects first and reads the newest manifest second: in that order a
// compaction that commits in between can only make the view cover more,
// never lose a record. It lists only inside the partition.
func Snapshot(ctx context.Context, lake *loglake.Lake, p loglake.Partition) (*View, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	v := &View{Partition: p}
	prefix := p.Prefix(loglake.AreaRaw)
	for obj, err := range lake.List(ctx, prefix, "/") {
		if err != nil {
			return nil, err
		}
		if obj.IsDir {
			continue
		}
		if _, ok := rawcodec.FromKey(obj.Key); !ok {
			if rawcodec.IsWriterTemp(obj.Key) {
				v.temps = append(v.temps, rawObject{ObjectRef: ObjectRef{Key: obj.Key, Size: obj.Size}, mod: obj.ModTime})
			}
			continue
		}
		o := rawObject{ObjectRef: ObjectRef{Key: obj.Key, Size: obj.Size}, mod: obj.ModTime}
		if len(obj.MD5) > 0 {
			o.MD5 = hex.EncodeToString(obj.MD5)
		}
		v.rawAll = append(v.rawAll, o)
	}
	if err := v.readManifest(ctx, lake); err != nil {
		return nil, err
	}
	var idx map[string]ObjectRef
	if v.man != nil {
		idx = v.man.coverIndex()
		v.Generation = v.man.Generation
		v.Parquet = slices.Clone(v.man.Files)
		v.Schema = slices.Clone(v.man.Schema)
	}
	for _, o := range v.rawAll {
		if covered(idx, o.ObjectRef) {
			v.coveredAt = append(v.coveredAt, o)
		} else {
			v.Raw = append(v.Raw, o.ObjectRef)
		}
	}
	return v, nil
}

// readManifest finds and reads the newest manifest generation. A manifest
// that vanishes between the listing and the read was pruned by a newer
// commit: list again.
func (v *View) readManifest(ctx context.Context, lake *loglake.Lake) error {
	dir := v.Partition.Prefix(loglake.AreaCompacted) + manifestDir
	for attempt := 0; ; attempt++ {
		v.gens = v.gens[:0]
		for obj, err := range lake.List(ctx, dir, "/") {
			if err != nil {
				return err
			}
			if g, ok := parseManifestName(strings.TrimPrefix(obj.Key, dir)); ok && !obj.IsDir {
				v.gens = append(v.gens, g)
			}
		}
		if len(v.gens) == 0 {
			return nil
		}
		slices.Sort(v.gens)
		gen := v.gens[len(v.gens)-1]
		data, err := lake.ReadAll(ctx, manifestKey(v.Partition, gen))
		if loglake.IsNotFound(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		m, err := decodeManifest(data, v.Partition, gen)
		if err != nil {
			return err
		}
		v.man = m
		return nil
	}
}

// Record is one record as read back: column name → value, for non-null
// values only. Values are string, int64, float64, bool, time.Time (UTC) for
// timestamps, and json.RawMessage for JSON columns (UnfitColumn included).
// The tenant field is not among them: it is the partition's.
type Record map[string]any

// ReadAll reads every record of partition p: the Parquet files and the
// uncovered raw objects of a [View], with values converted to the View's
// schema. It follows the View retry rule. It holds the whole partition in
// memory and is meant for tests, tools and small partitions; the query
// package streams.
func ReadAll(ctx context.Context, lake *loglake.Lake, p loglake.Partition) ([]Record, *View, error) {
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		v, err := Snapshot(ctx, lake, p)
		if err != nil {
			return nil, nil, err
		}
		recs, err := v.ReadAll(ctx, lake)
		if err == nil {
			return recs, v, nil
		}
		if !loglake.IsNotFound(err) && !errors.Is(err, errStale) {
			return nil, nil, err
		}
		lastErr = err
	}
	return nil, nil, fmt.Errorf("compact: read %s: objects kept vanishing: %w", p, lastErr)
}

// ReadAll reads the records of v's objects, converted to v.Schema. An
// object gone since the View was taken gives an error for which
// [loglake.IsNotFound] is true: take a new View.
func (v *View) ReadAll(ctx context.Context, lake *loglake.Lake) ([]Record, error) {
	var out []Record
	schema := v.Schema
	for _, f := range v.Parquet {
		recs, err := ReadParquet(ctx, lake, f)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	// Raw records go through the same column logic as compaction, so they
	// read exactly as they will once compacted.
	s := lake.Settings()
	cfg := &chunkConfig{tsField: s.TimestampField, tenantField: s.TenantField, tenant: v.Partition.Tenant,
		rules: newTimeRules(s), maxColumns: 1 << 20}
	for _, o := range v.Raw {
		ch := newChunk(cfg)
		if err := readRaw(ctx, lake, o, ch.addLine); err != nil {
			return nil, err
		}
		sl := ch.seal(false)
		out = append(out, sl.records()...)
		schema = Union(schema, sl.schema)
		sl.release()
	}
	for _, r := range out {
		conform(r, schema)
	}
	return out, nil
}

// records converts a sealed chunk to Records, in input order.
func (s *sealed) records() []Record {
	out := make([]Record, s.rows)
	for i := range out {
		out[i] = Record{}
	}
	for c, f := range s.schema {
		arr := s.record.Column(c)
		for i := 0; i < s.rows; i++ {
			if arr.IsNull(i) {
				continue
			}
			m := valueAt(arr, f.Type, i)
			out[i][f.Name] = memberValue(&m)
		}
	}
	return out
}

var errStale = errors.New("compact: raw object changed while it was read")
