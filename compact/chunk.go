package compact

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// vTime is a member kind used only when rows come from Parquet: a timestamp
// in microseconds, in member.i.
const vTime valKind = 100

// chunkConfig is what a chunk needs to know about the lake and partition.
type chunkConfig struct {
	tsField     string
	tenantField string
	tenant      string
	rules       timeRules
	pinned      map[string]Type
	seed        map[string]Type // types of the partition's existing files
	maxColumns  int
	// shared, when set, admits columns for all the chunks of one run, so
	// that chunks filled in parallel stay within maxColumns together.
	shared *columnBudget
	// keep, when not nil, names the only columns stored: members of other
	// columns are scanned over and dropped, UnfitColumn included. Set by
	// query-time readers that need a few columns ([LineBatch.KeepColumns]);
	// never when compacting.
	keep map[string]struct{}
	// arenas: chunks take their column buffers from arenas (see arena).
	arenas bool
}

// columnBudget admits column names for chunks filled in parallel: the first
// maxColumns names any of them sees. It is consulted only when a chunk
// meets a name it has not seen, so its lock is rarely taken.
type columnBudget struct {
	mu    sync.Mutex
	names map[string]struct{}
}

// admit reports whether name may be a column, admitting it if there is room.
func (b *columnBudget) admit(name []byte, max int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.names[string(name)]; ok {
		return true
	}
	if len(b.names) >= max {
		return false
	}
	if b.names == nil {
		b.names = make(map[string]struct{})
	}
	b.names[string(name)] = struct{}{}
	return true
}

// column accumulates one column of a chunk in a buffer of its current
// type. Rows in which the column is absent are padded with nulls lazily,
// when the next value arrives or when the chunk is sealed.
type column struct {
	name    string
	typ     Type // "" while only nulls were seen
	pinned  bool
	lastRow int
	// hint is the size of the same column in the chunk this one follows:
	// its buffers start at that capacity rather than doubling up to it.
	hint colSize
	// arena is where the buffers come from (nil: the Go heap).
	arena *arena

	sb *strBuf          // TypeString, TypeJSON
	ib *numBuf[int64]   // TypeInt64, TypeTimestamp
	fb *numBuf[float64] // TypeFloat64
	bb *array.BooleanBuilder
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func (c *column) len() int {
	switch {
	case c.sb != nil:
		return c.sb.len()
	case c.ib != nil:
		return c.ib.len()
	case c.fb != nil:
		return c.fb.len()
	case c.bb != nil:
		return c.bb.Len()
	}
	return 0
}

// colSize is the number of values of a column and, for strings, their
// bytes.
type colSize struct{ vals, bytes int }

func (c *column) setType(mem memory.Allocator, t Type) {
	c.typ = t
	c.sb, c.ib, c.fb, c.bb = nil, nil, nil, nil
	switch t {
	case TypeString, TypeJSON:
		c.sb = newStrBuf(c.arena, c.hint)
	case TypeInt64, TypeTimestamp:
		c.ib = newNumBuf[int64](c.arena, c.hint)
	case TypeFloat64:
		c.fb = newNumBuf[float64](c.arena, c.hint)
	case TypeBool:
		c.bb = array.NewBooleanBuilder(mem)
		if c.hint.vals > 0 {
			c.bb.Reserve(c.hint.vals)
		}
	}
}

// size returns the column's size once padded to rows.
func (c *column) size(rows int) colSize {
	var n colSize
	if c.typ != "" {
		n.vals = max(c.len(), rows)
	}
	if c.sb != nil {
		n.bytes = len(c.sb.data)
	}
	return n
}

// pad appends nulls up to row.
func (c *column) pad(row int) {
	n := row - c.len()
	if n <= 0 {
		return
	}
	switch {
	case c.sb != nil:
		c.sb.appendNulls(n)
	case c.ib != nil:
		c.ib.appendNulls(n)
	case c.fb != nil:
		c.fb.appendNulls(n)
	case c.bb != nil:
		c.bb.AppendNulls(n)
	}
}

// newArray returns the column's values as an Arrow array and empties the
// column; nil for a column without type.
func (c *column) newArray() arrow.Array {
	var a arrow.Array
	switch {
	case c.sb != nil:
		a = c.sb.newArray()
	case c.ib != nil && c.typ == TypeTimestamp:
		a = c.ib.newArray(tsType)
	case c.ib != nil:
		a = c.ib.newArray(arrow.PrimitiveTypes.Int64)
	case c.fb != nil:
		a = c.fb.newArray(arrow.PrimitiveTypes.Float64)
	case c.bb != nil:
		a = c.bb.NewArray()
		c.bb.Release()
	}
	c.sb, c.ib, c.fb, c.bb = nil, nil, nil, nil
	return a
}

// chunk is the in-memory, columnar (Arrow) form of a run of records: the
// unit that is sorted and written as one Parquet file.
type chunk struct {
	cfg   *chunkConfig
	mem   memory.Allocator
	cols  []*column
	index map[string]int
	pred  []int // column of the k-th member in the previous row
	rows  int
	bytes int64 // decoded input bytes (the memory budget's measure)

	sc scanner
	// segs records, for a chunk filled from numbered blocks of input, the
	// block each run of rows came from: merging chunks by time breaks ties
	// by input order with it.
	segs []blockSeg

	// arena holds the column buffers; it passes to the sealed chunk.
	arena    *arena
	unfit    []byte // the current row's UnfitColumn object
	unfitCol *column
	tsCol    *column
	scratch  []byte

	nUnfit, nMalformed, nBadUTF8 int64

	// hints: column sizes of the chunk this one follows (nil: none).
	hints map[string]colSize
}

func newChunk(cfg *chunkConfig) *chunk {
	return newChunkLike(cfg, nil)
}

// newChunkLike returns a new chunk whose columns start with the capacity
// that hints (from sizeHints of the previous chunk of the same worker)
// gives them: the next run is usually much like the last, and buffers
// doubled up from nothing cost a copy and a clearing of every column
// about twice over.
func newChunkLike(cfg *chunkConfig, hints map[string]colSize) *chunk {
	c := &chunk{cfg: cfg, mem: memory.DefaultAllocator, index: make(map[string]int), hints: hints}
	if cfg.arenas {
		c.arena = &arena{}
	}
	c.tsCol = c.addColumn(cfg.tsField)
	for name := range cfg.pinned { // pinned columns exist even when all null
		if name != cfg.tsField {
			c.addColumn(name)
		}
	}
	return c
}

func (c *chunk) addColumn(name string) *column {
	col := &column{name: name, lastRow: -1, hint: c.hints[name], arena: c.arena}
	if name == c.cfg.tsField {
		col.pinned = true
		col.setType(c.mem, TypeTimestamp)
	} else if t, ok := c.cfg.pinned[name]; ok {
		col.pinned = true
		col.setType(c.mem, t)
	} else if t, ok := c.cfg.seed[name]; ok {
		col.setType(c.mem, t)
	}
	c.index[name] = len(c.cols)
	c.cols = append(c.cols, col)
	return col
}

// sizeHints returns the sizes of the chunk's columns, for newChunkLike.
func (c *chunk) sizeHints() map[string]colSize {
	h := make(map[string]colSize, len(c.cols))
	for _, col := range c.cols {
		if n := col.size(c.rows); n.vals > 0 {
			// A quarter more: runs vary, and one that outgrows the
			// hint copies its columns once more.
			h[col.name] = colSize{vals: n.vals + n.vals/4, bytes: n.bytes + n.bytes/4}
		}
	}
	return h
}

// lookup returns the column for the k-th member of a row, or nil when the
// column limit is reached. Fast path: the same key as in the previous row.
func (c *chunk) lookup(k int, key []byte) *column {
	if k < len(c.pred) {
		if col := c.cols[c.pred[k]]; col.name == unsafeString(key) {
			return col
		}
	}
	i, ok := c.columnIndex(key)
	if !ok {
		return nil
	}
	for len(c.pred) <= k {
		c.pred = append(c.pred, 0)
	}
	c.pred[k] = i
	return c.cols[i]
}

// columnIndex returns the index of key's column, adding the column if the
// column limit admits it; false when it does not.
func (c *chunk) columnIndex(key []byte) (int, bool) {
	if i, ok := c.index[unsafeString(key)]; ok {
		return i, true
	}
	if sh := c.cfg.shared; sh != nil {
		if !sh.admit(key, c.cfg.maxColumns) {
			return 0, false
		}
	} else if len(c.cols) >= c.cfg.maxColumns+1 { // +1: the timestamp column
		return 0, false
	}
	c.addColumn(string(key))
	return len(c.cols) - 1, true
}

// addLine appends one NDJSON line as a row. A line that is not a JSON
// object becomes a row whose only value is {"_line": "<text>"} in
// UnfitColumn.
func (c *chunk) addLine(line []byte) {
	c.bytes += int64(len(line)) + 1
	if err := c.sc.scan(line); err != nil {
		c.nMalformed++
		c.unfit = append(c.unfit[:0], `{"_line":`...)
		c.unfit = appendJSONString(c.unfit, line)
		c.unfit = append(c.unfit, '}')
		c.endRow()
		return
	}
	c.unfit = c.unfit[:0]
	for k := range c.sc.members {
		c.put(k, &c.sc.members[k])
	}
	c.endRow()
}

func (c *chunk) endRow() {
	if len(c.unfit) > 0 {
		if c.unfitCol == nil {
			c.unfitCol = c.addColumn(UnfitColumn)
			c.unfitCol.pinned = true
			c.unfitCol.setType(c.mem, TypeJSON)
		}
		if c.unfit[0] == ',' { // members appended without an opening brace
			c.unfit[0] = '{'
			c.unfit = append(c.unfit, '}')
		}
		c.unfitCol.pad(c.rows)
		c.unfitCol.sb.append(c.unfit)
		c.unfitCol.lastRow = c.rows
		c.unfit = c.unfit[:0]
	}
	c.rows++
}

// keepUnfit records m in the current row's UnfitColumn object.
func (c *chunk) keepUnfit(m *member) {
	c.nUnfit++
	c.unfit = append(c.unfit, ',')
	if m.rawKey != nil && !m.badUTF {
		c.unfit = append(c.unfit, m.rawKey...)
	} else {
		c.unfit = appendJSONString(c.unfit, m.key)
	}
	c.unfit = append(c.unfit, ':')
	c.unfit = c.appendRaw(c.unfit, m)
}

// appendRaw appends m's value as JSON text.
func (c *chunk) appendRaw(dst []byte, m *member) []byte {
	if m.raw != nil && !m.badUTF {
		return append(dst, m.raw...)
	}
	switch m.kind {
	case vString:
		return appendJSONString(dst, m.str)
	case vJSON:
		return append(dst, m.str...)
	case vInt:
		return strconv.AppendInt(dst, m.i, 10)
	case vFloat:
		if m.bigNum {
			return append(dst, m.str...)
		}
		return appendFloat(dst, m.f)
	case vBool:
		return strconv.AppendBool(dst, m.b)
	case vTime:
		dst = append(dst, '"')
		dst = time.UnixMicro(m.i).UTC().AppendFormat(dst, time.RFC3339Nano)
		return append(dst, '"')
	}
	return append(dst, "null"...)
}

// put stores member k of the current row.
func (c *chunk) put(k int, m *member) {
	if m.badUTF {
		c.nBadUTF8++
	}
	if m.kind == vNull {
		return
	}
	if c.cfg.keep != nil {
		if _, ok := c.cfg.keep[unsafeString(m.key)]; !ok {
			return
		}
	}
	if len(m.key) == 0 || unsafeString(m.key) == UnfitColumn {
		if m.kind == vJSON && unsafeString(m.key) == UnfitColumn && m.rawKey == nil {
			// Rows read back from Parquet carry their UnfitColumn object:
			// keep its members.
			if inner := bytes.TrimSpace(m.str); len(inner) > 2 {
				c.unfit = append(c.unfit, ',')
				c.unfit = append(c.unfit, inner[1:len(inner)-1]...)
			}
			return
		}
		c.keepUnfit(m)
		return
	}
	if unsafeString(m.key) == c.cfg.tenantField {
		if m.kind == vString && unsafeString(m.str) == c.cfg.tenant {
			return // the tenant lives in the path
		}
		c.keepUnfit(m)
		return
	}
	col := c.lookup(k, m.key)
	if col == nil || col.lastRow == c.rows || (m.kind == vFloat && m.bigNum) {
		c.keepUnfit(m) // past MaxColumns, a duplicate key, or a number float64 cannot hold
		return
	}
	if !c.store(col, m) {
		c.keepUnfit(m)
	}
}

func memberType(m *member) Type {
	switch m.kind {
	case vString:
		return TypeString
	case vInt:
		return TypeInt64
	case vFloat:
		return TypeFloat64
	case vBool:
		return TypeBool
	case vJSON:
		return TypeJSON
	case vTime:
		return TypeTimestamp
	}
	return ""
}

// noteType widens the column of key to hold values of type t, as storing
// such a value would, without storing one (see LineBatch.Gate).
func (c *chunk) noteType(key []byte, t Type) {
	i, ok := c.columnIndex(key)
	if !ok {
		return
	}
	col := c.cols[i]
	switch {
	case col.pinned:
	case col.typ == "":
		col.setType(c.mem, t)
	case col.typ != t:
		if w := widen(col.typ, t); w != col.typ {
			c.convert(col, w)
		}
	}
}

// store appends m to col at the current row, widening col's type if it is
// not pinned. It reports false when a pinned column cannot hold m.
func (c *chunk) store(col *column, m *member) bool {
	row := c.rows
	if !col.pinned {
		vt := memberType(m)
		switch {
		case col.typ == "":
			col.setType(c.mem, vt)
		case col.typ != vt:
			if w := widen(col.typ, vt); w != col.typ {
				c.convert(col, w)
			}
		}
	}
	col.pad(row)
	switch col.typ {
	case TypeString:
		var s []byte
		switch m.kind {
		case vString, vJSON:
			s = m.str
		default:
			c.scratch = c.appendText(c.scratch[:0], m)
			s = c.scratch
		}
		col.sb.append(s)
	case TypeJSON:
		if m.kind == vJSON {
			col.sb.append(m.str)
		} else {
			c.scratch = c.appendRaw(c.scratch[:0], m)
			col.sb.append(c.scratch)
		}
	case TypeInt64:
		switch {
		case m.kind == vInt:
			col.ib.append(m.i)
		case m.kind == vFloat && m.f == math.Trunc(m.f) && math.Abs(m.f) < 1<<53:
			col.ib.append(int64(m.f))
		case m.kind == vString: // pinned: a numeric string fits
			v, err := strconv.ParseInt(unsafeString(m.str), 10, 64)
			if err != nil {
				return false
			}
			col.ib.append(v)
		default:
			return false
		}
	case TypeFloat64:
		switch m.kind {
		case vInt:
			col.fb.append(float64(m.i))
		case vFloat:
			col.fb.append(m.f)
		case vString: // pinned: a numeric string fits
			v, err := strconv.ParseFloat(unsafeString(m.str), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				return false
			}
			col.fb.append(v)
		default:
			return false
		}
	case TypeBool:
		switch {
		case m.kind == vBool:
			col.bb.Append(m.b)
		case m.kind == vString && (unsafeString(m.str) == "true" || unsafeString(m.str) == "false"):
			col.bb.Append(m.str[0] == 't')
		default:
			return false
		}
	case TypeTimestamp:
		if m.kind == vTime {
			col.ib.append(m.i)
			break
		}
		us, exact, ok := c.cfg.rules.micros(m)
		if !ok {
			return false
		}
		col.ib.append(us)
		if !exact { // keep the digits a microsecond cannot hold
			c.keepUnfit(m)
		}
	}
	col.lastRow = row
	return true
}

// appendText appends m's value as text for a string column: strings as they
// are, numbers and booleans in their canonical JSON spelling, nested values
// as JSON.
func (c *chunk) appendText(dst []byte, m *member) []byte {
	switch m.kind {
	case vString, vJSON:
		return append(dst, m.str...)
	case vTime:
		return time.UnixMicro(m.i).UTC().AppendFormat(dst, time.RFC3339Nano)
	}
	return c.appendRaw(dst, m)
}

// convert rebuilds col with type t, converting the values it holds.
func (c *chunk) convert(col *column, t Type) {
	old := col.newArray()
	defer old.Release()
	oldType := col.typ
	col.setType(c.mem, t)
	var m member
	for i := 0; i < old.Len(); i++ {
		if old.IsNull(i) {
			col.pad(i + 1)
			continue
		}
		m = valueAt(old, oldType, i)
		switch t {
		case TypeFloat64:
			if m.kind == vInt {
				col.fb.append(float64(m.i))
			} else {
				col.fb.append(m.f)
			}
		default: // TypeString
			c.scratch = c.appendText(c.scratch[:0], &m)
			col.sb.append(c.scratch)
		}
	}
}

// valueAt returns value i of arr, of column type t, as a member. Byte
// slices alias arr.
func valueAt(arr arrow.Array, t Type, i int) member {
	switch t {
	case TypeString:
		return member{kind: vString, str: unsafeBytes(arr.(*array.String).Value(i))}
	case TypeJSON:
		return member{kind: vJSON, str: unsafeBytes(arr.(*array.String).Value(i))}
	case TypeInt64:
		return member{kind: vInt, i: arr.(*array.Int64).Value(i)}
	case TypeFloat64:
		return member{kind: vFloat, f: arr.(*array.Float64).Value(i)}
	case TypeBool:
		return member{kind: vBool, b: arr.(*array.Boolean).Value(i)}
	case TypeTimestamp:
		return member{kind: vTime, i: int64(arr.(*array.Timestamp).Value(i))}
	}
	return member{}
}

// sealed is a chunk turned into Arrow arrays, with the row order that sorts
// it by time.
type sealed struct {
	schema Schema
	record arrow.RecordBatch // columns in schema order
	rows   int
	perm   []int32  // rows in time order, nulls first
	keys   []uint64 // sort key of each row (time, nulls as 0), when sorted
	segs   []blockSeg
	minUS  int64
	maxUS  int64
	hasTS  bool
	arena  *arena // the record's memory
}

// release releases the record and its memory: no array of it may be used
// afterwards.
func (s *sealed) release() {
	if s.record != nil {
		s.record.Release()
		s.record = nil
	}
	s.arena.release()
	s.arena = nil
}

// seal finishes the chunk's builders. Columns that held only nulls are
// dropped (Parquet readers see them as absent, which reads the same). With
// sorted, the rows are ordered by time.
func (c *chunk) seal(sorted bool) *sealed {
	order := make([]*column, 0, len(c.cols))
	for _, col := range c.cols {
		if col.typ == "" {
			continue
		}
		col.pad(c.rows)
		order = append(order, col)
	}
	slices.SortFunc(order, func(a, b *column) int { return strings.Compare(a.name, b.name) })
	s := &sealed{rows: c.rows, arena: c.arena}
	c.arena = nil
	fields := make([]arrow.Field, 0, len(order))
	arrays := make([]arrow.Array, 0, len(order))
	var ts *array.Timestamp
	for _, col := range order {
		if col.len() != c.rows && col != c.tsCol { // empty timestamp column
			col.pad(c.rows)
		}
		arr := col.newArray()
		if arr.NullN() == arr.Len() && !col.pinned {
			arr.Release()
			continue
		}
		if col == c.tsCol {
			ts = arr.(*array.Timestamp)
		}
		s.schema = append(s.schema, Field{Name: col.name, Type: col.typ})
		fields = append(fields, arrow.Field{Name: col.name, Type: arr.DataType(), Nullable: true})
		arrays = append(arrays, arr)
	}
	s.record = array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(c.rows))
	for _, a := range arrays {
		a.Release()
	}
	c.cols, c.index, c.pred = nil, nil, nil
	s.segs = c.segs
	if ts == nil || ts.Len() != c.rows {
		s.perm = identityPerm(c.rows)
		return s
	}
	// Sort keys: the time as an order-preserving uint64, nulls (0) first.
	vals := ts.TimestampValues()
	keys := make([]uint64, c.rows)
	for i, v := range vals[:c.rows] {
		if ts.IsValid(i) {
			keys[i] = uint64(v) ^ (1 << 63)
			if !s.hasTS || int64(v) < s.minUS {
				s.minUS = int64(v)
			}
			if !s.hasTS || int64(v) > s.maxUS {
				s.maxUS = int64(v)
			}
			s.hasTS = true
		}
	}
	if sorted {
		s.perm = sortPerm(keys)
		s.keys = keys
	} else {
		s.perm = identityPerm(c.rows)
	}
	return s
}

func identityPerm(n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	return p
}

// sortPerm returns the row order that sorts keys stably. Fast path: keys
// already in order (ingest writes objects roughly in time order). Slow
// path: an LSD radix sort by bytes, skipping the bytes all keys share —
// the high bytes of one day's timestamps — so a day's times take about
// five passes, with no comparisons.
func sortPerm(keys []uint64) []int32 {
	n := len(keys)
	if slices.IsSorted(keys) {
		return identityPerm(n)
	}
	var hist [8][256]int
	for _, k := range keys {
		for d := range 8 {
			hist[d][byte(k>>(8*d))]++
		}
	}
	perm := identityPerm(n)
	k1 := slices.Clone(keys)
	k2 := make([]uint64, n)
	p2 := make([]int32, n)
	for d := range 8 {
		h := &hist[d]
		if h[byte(k1[0]>>(8*d))] == n { // every key has this byte
			continue
		}
		var pos [256]int
		sum := 0
		for b := range 256 {
			pos[b] = sum
			sum += h[b]
		}
		shift := uint(8 * d)
		for i, k := range k1 {
			b := byte(k >> shift)
			j := pos[b]
			pos[b]++
			k2[j] = k
			p2[j] = perm[i]
		}
		k1, k2 = k2, k1
		perm, p2 = p2, perm
	}
	return perm
}

// appendJSONString appends s as a JSON string (invalid UTF-8 becomes
// U+FFFD).
func appendJSONString(dst, s []byte) []byte {
	b, _ := json.Marshal(unsafeString(s))
	return append(dst, b...)
}

// appendFloat appends f as JavaScript and encoding/json spell it.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	return strconv.AppendFloat(dst, f, fmt, -1, 64)
}
