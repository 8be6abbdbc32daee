package compact

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"

	"github.com/loglake/loglake"
)

// This file exports what the query stage needs to read a partition exactly
// as compaction would write it: the column logic that turns NDJSON lines
// into typed columns, and the mapping of Parquet leaf types to loglake
// types. Nothing here writes to the lake.

// LineBatch turns NDJSON lines of one partition into Arrow columns with
// compaction's column logic, so that raw records read the same before and
// after they are compacted: the timestamp field is a timestamp column
// (values that do not parse go to [UnfitColumn]), a tenant field equal to
// the partition's tenant is dropped, nested values are JSON text, and a
// column whose values disagree is widened (see [Union]).
//
// A LineBatch is used once: Add lines, then Finish. It is not safe for
// concurrent use.
type LineBatch struct {
	ch *chunk
	// short holds the kept members of the line being added (see
	// keptLine); used when fast is set.
	short []byte
	fast  bool
	names []string // the kept names when they are few; nil otherwise
	// gate and gateKeep: see Gate.
	gate     string
	gateKeep func([]byte) bool
	seen     []string // noteTypes' keys
}

// NewLineBatch returns a LineBatch for lines of partition p of lake. seed
// gives the types of the partition's compacted columns (a [View]'s
// Schema); a column named there starts with that type, as it would when
// compaction adds the raw objects to existing files. seed may be nil.
func NewLineBatch(lake *loglake.Lake, p loglake.Partition, seed Schema) *LineBatch {
	s := lake.Settings()
	cfg := &chunkConfig{tsField: s.TimestampField, tenantField: s.TenantField, tenant: p.Tenant,
		rules: newTimeRules(s), maxColumns: 1 << 20}
	if len(seed) > 0 {
		cfg.seed = make(map[string]Type, len(seed))
		for _, f := range seed {
			cfg.seed[f.Name] = f.Type
		}
	}
	return &LineBatch{ch: newChunk(cfg)}
}

// KeepColumns restricts b to the named columns, for readers that need only
// those: members of other columns are scanned over and dropped, so that
// Finish returns the named columns (those present in the lines) with the
// values they would have in a full batch, plus the timestamp column, which
// is always there and is null unless named (and UnfitColumn, for lines
// that are not JSON objects). A name list holding
// [UnfitColumn] keeps every column, since what lands there depends on the
// other columns. Call it before the first Add.
func (b *LineBatch) KeepColumns(names []string) {
	if slices.Contains(names, UnfitColumn) {
		b.ch.cfg.keep = nil
		return
	}
	keep := make(map[string]struct{}, len(names))
	b.fast = true
	for _, n := range names {
		keep[n] = struct{}{}
		// keptLine matches keys as written; the scanner turns invalid
		// UTF-8 in a key into U+FFFD, which such a name could equal.
		b.fast = b.fast && !strings.ContainsRune(n, utf8.RuneError)
	}
	b.ch.cfg.keep = keep
	b.names = nil
	if len(keep) <= 8 {
		b.names = make([]string, 0, len(keep))
		for n := range keep {
			b.names = append(b.names, n)
		}
	}
}

// Gate makes Add drop the lines whose row would hold, in column name, a
// string that keep rejects — for readers that would filter such rows out
// anyway, such as a search whose WHERE has name LIKE pattern as a
// conjunct. Only lines certain to fail are dropped: the line's first
// member name is a JSON string without escapes, in valid UTF-8, which the
// row holds as it is. Lines where name is missing, or another kind of
// value, or not checked (see KeepColumns) are added. A dropped line's
// values still widen the types of their columns, so that the rows added
// read as they would in a batch with every line. Gate takes effect only
// after KeepColumns with name among the names, and never for the
// timestamp field, whose strings are parsed, nor when the tenant field is
// kept. Call it before the first Add.
func (b *LineBatch) Gate(name string, keep func([]byte) bool) {
	if name == b.ch.cfg.tsField || name == UnfitColumn {
		return
	}
	if _, ok := b.ch.cfg.keep[b.ch.cfg.tenantField]; ok {
		return
	}
	if _, ok := b.ch.cfg.pinned[name]; ok {
		return
	}
	b.gate, b.gateKeep = name, keep
}

// Add appends one NDJSON line (without its newline) as a row, and reports
// whether it did: it drops only lines a Gate rules out. A line that is not
// a JSON object becomes a row whose only value is {"_line": text} in
// UnfitColumn.
func (b *LineBatch) Add(line []byte) bool {
	if b.fast {
		var ok bool
		if b.short, ok = keptLine(b.short[:0], line, b.ch.cfg.keep, b.names); ok {
			if b.gateKeep != nil && gateDrops(b.short, b.gate, b.gateKeep) {
				b.noteTypes(b.short)
				return false
			}
			b.ch.addLine(b.short)
			return true
		}
	}
	b.ch.addLine(line)
	return true
}

// noteTypes widens the columns of the members of short, a line keptLine
// made, to their values' types, as adding it would (only a key's first
// member is stored; the timestamp column is pinned).
func (b *LineBatch) noteTypes(short []byte) {
	seen := b.seen[:0]
	for i := 1; ; {
		key, v, next, ok := nextMember(short, i)
		if !ok {
			break
		}
		i = next
		k := unsafeString(key)
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		var t Type
		switch c := v[0]; {
		case c == '"':
			t = TypeString
		case c == '{' || c == '[':
			t = TypeJSON
		case c == 't' || c == 'f':
			t = TypeBool
		case c == 'n':
			continue
		default:
			_, isInt, _ := scanNumber(v, 0)
			t = TypeFloat64
			if _, ok := atoi64(v); isInt && ok {
				t = TypeInt64
			}
		}
		b.ch.noteType(key, t)
	}
	clear(seen)
	b.seen = seen[:0]
}

// nextMember returns the key and the value of the member of short, a line
// keptLine made (a JSON object whose keys have no escapes), that starts at
// or after short[i] (1 for the first), and where the next one starts; ok
// is false past the last.
func nextMember(short []byte, i int) (key, v []byte, next int, ok bool) {
	i = skipWS(short, i)
	if i >= len(short) || short[i] != '"' {
		return nil, nil, 0, false
	}
	j := bytes.IndexByte(short[i+1:], '"')
	if j < 0 {
		return nil, nil, 0, false
	}
	key = short[i+1 : i+1+j]
	i = skipWS(short, i+j+2)
	if i >= len(short) || short[i] != ':' {
		return nil, nil, 0, false
	}
	i = skipWS(short, i+1)
	end, ok := skipValue(short, i, 0)
	if !ok {
		return nil, nil, 0, false
	}
	next = skipWS(short, end)
	if next < len(short) && short[next] == ',' {
		next++
	}
	return key, short[i:end], next, true
}

// gateDrops reports whether the first member name of short, a line
// keptLine made, is a string without escapes, in valid UTF-8, that keep
// rejects.
func gateDrops(short []byte, name string, keep func([]byte) bool) bool {
	for i := 1; ; {
		key, v, next, ok := nextMember(short, i)
		if !ok {
			return false
		}
		if unsafeString(key) == name {
			if v[0] != '"' {
				return false
			}
			v = v[1 : len(v)-1]
			return bytes.IndexByte(v, '\\') < 0 && !keep(v) && utf8.Valid(v)
		}
		i = next
	}
}

// Len returns the number of rows added.
func (b *LineBatch) Len() int { return b.ch.rows }

// Finish returns the rows as an Arrow record batch, in input order, with
// its schema (columns sorted by name; columns that held only nulls are
// left out, except the timestamp column). The caller releases the batch.
// Column types: TypeString and TypeJSON are arrow.String, TypeInt64 Int64,
// TypeFloat64 Float64, TypeBool Boolean, TypeTimestamp Timestamp(µs,
// UTC).
func (b *LineBatch) Finish() (arrow.RecordBatch, Schema) {
	s := b.ch.seal(false)
	return s.record, s.schema
}

// LeafType returns the loglake type of a Parquet leaf column written by
// loglake (or a compatible writer) and, for timestamps, the factor that
// converts its unit to microseconds: positive to multiply, negative to
// divide (-1000 for nanoseconds), 1 for microseconds. ok is false for a
// type loglake does not read.
func LeafType(n parquet.Node) (t Type, scale int64, ok bool) {
	return leafType(n)
}
