package ingest

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/envelope"
)

// inputRef is an InputRef in the hot path.
type inputRef = InputRef

// run is a stretch of formatted records, in local.out, bound for one
// partition and coming from one input.
type run struct {
	tenant     string // interned
	day        loglake.Day
	start, end int
	records    int
	ref        inputRef
}

// deadRun is a stretch of dead-letter lines, in local.dead, of one reason.
type deadRun struct {
	reason     Reason
	start, end int
	records    int
	ref        inputRef
}

// local is the per-call state of Add and AddBatch: the scanner, the
// formatted records and dead letters of the current chunk, and caches. It
// is pooled; nothing in it is shared while it is in use.
type local struct {
	sc       *envelope.Scanner
	out      []byte
	slab     []byte // AddBatch's objects
	keep     bool   // keep large buffers on reset (the local of one AddStream worker)
	runs     []run
	dead     []byte
	deadRuns []deadRun
	prefix   []byte
	tenants  map[string]string // valid tenant ids, interned

	// The day of Unix seconds in [lo, hi) is day (a cache: an envelope's
	// records are minutes apart).
	lo, hi int64
	day    loglake.Day

	arrival    loglake.Day
	arrivalSet bool
	accepted   int
	deadCount  int
}

func (in *Ingestor) newLocal() *local {
	return &local{
		sc:      envelope.New(in.scfg),
		tenants: map[string]string{},
		lo:      1, hi: 0,
	}
}

func (l *local) reset() {
	l.out = l.out[:0]
	l.runs = l.runs[:0]
	l.dead = l.dead[:0]
	l.deadRuns = l.deadRuns[:0]
	l.accepted, l.deadCount = 0, 0
	l.arrivalSet = false
	if len(l.tenants) > 10000 {
		clear(l.tenants)
	}
	if l.keep {
		return
	}
	if cap(l.out) > 4*chunkBytes {
		l.out = nil // a huge batch: do not keep its memory in the pool
	}
	if cap(l.dead) > 4*chunkBytes {
		l.dead = nil
	}
	if cap(l.slab) > 4*chunkBytes {
		l.slab = nil
	}
}

// dayOf returns the day of Unix seconds sec in the lake's zone.
func (in *Ingestor) dayOf(l *local, sec int64) (loglake.Day, bool) {
	if sec >= l.lo && sec < l.hi {
		return l.day, true
	}
	t := time.Unix(sec, 0).In(in.loc)
	y, m, d := t.Date()
	day := loglake.Day{Year: y, Month: m, Day: d}
	if !day.IsValid() {
		return loglake.Day{}, false
	}
	lo := time.Date(y, m, d, 0, 0, 0, 0, in.loc).Unix()
	hi := time.Date(y, m, d+1, 0, 0, 0, 0, in.loc).Unix()
	if lo <= sec && sec < hi {
		l.lo, l.hi, l.day = lo, hi, day
	}
	return day, true
}

func (in *Ingestor) arrivalDay(l *local) loglake.Day {
	if !l.arrivalSet {
		l.arrival = loglake.DayOf(in.opts.now(), in.loc)
		l.arrivalSet = true
	}
	return l.arrival
}

// intern returns the interned tenant id t and "" if t is valid, or the
// reason it is not.
func (l *local) intern(t []byte) (string, string) {
	if s, ok := l.tenants[string(t)]; ok {
		return s, ""
	}
	s := string(t)
	if err := loglake.ValidateTenant(s); err != nil {
		return "", err.Error()
	}
	l.tenants[s] = s
	return s, ""
}

// feed scans every JSON value of data and formats its records into l.
// When flush is not nil, it is called whenever l holds chunkBytes or more,
// and feed stops if it returns false.
func (in *Ingestor) feed(l *local, data []byte, ref inputRef, flush func() bool) bool {
	sc := l.sc
	for pos := envelope.SkipSpace(data, 0); pos < len(data); ref.Line++ {
		sc.Scan(data, pos)
		if sc.Problem == envelope.Malformed {
			end := bytes.IndexByte(data[pos:], '\n')
			if end < 0 {
				end = len(data)
			} else {
				end += pos
			}
			msg := "offset " + strconv.Itoa(sc.ErrOffset-pos) + ": " + sc.Msg
			in.deadLetter(l, ReasonMalformed, msg, ref, data[pos:end])
			pos = envelope.SkipSpace(data, end)
		} else {
			in.value(l, data, ref)
			pos = envelope.SkipSpace(data, sc.End)
		}
		if flush != nil && len(l.out)+len(l.dead) >= chunkBytes {
			if !flush() {
				return false
			}
		}
	}
	return true
}

// value formats the records of the value just scanned.
func (in *Ingestor) value(l *local, data []byte, ref inputRef) {
	sc := l.sc
	whole := data[sc.Start:sc.End]
	utfOK := sc.CheckUTF8()
	switch sc.Problem {
	case envelope.OK:
	case envelope.NotObject:
		in.deadLetter(l, ReasonNotObject, sc.Msg, ref, whole)
		return
	case envelope.LogNotArray:
		in.deadLetter(l, ReasonLogNotArray, sc.Msg, ref, whole)
		return
	default:
		in.deadLetter(l, ReasonDuplicateKey, sc.Msg, ref, whole)
		return
	}
	if !utfOK {
		in.deadLetter(l, ReasonInvalidUTF8, "invalid UTF-8 outside the log array", ref, whole)
		return
	}
	if !sc.Tenant.Present() {
		in.deadLetter(l, ReasonMissingTenant, "no "+in.settings.TenantField+" field", ref, whole)
		return
	}
	if sc.Tenant.Kind != '"' {
		in.deadLetter(l, ReasonInvalidTenant, in.settings.TenantField+" is not a string", ref, whole)
		return
	}
	tenant, problem := l.intern(sc.String(sc.Tenant))
	if problem != "" {
		in.deadLetter(l, ReasonInvalidTenant, problem, ref, whole)
		return
	}
	// Raw newlines are whitespace between tokens (inside strings they are
	// invalid JSON): a pretty-printed input. NDJSON needs one line per
	// record, so they become spaces in the output.
	multiline := bytes.IndexByte(whole, '\n') >= 0 || bytes.IndexByte(whole, '\r') >= 0

	if sc.Kind == envelope.KindRecord {
		rec := &sc.Records[0]
		if len(whole) > in.opts.MaxRecordBytes {
			in.deadLetter(l, ReasonTooLarge, "record of "+strconv.Itoa(len(whole))+" bytes", ref, whole)
			return
		}
		day, ok := in.recordDay(l, rec, ref, whole)
		if !ok {
			return
		}
		start := len(l.out)
		l.out = append(l.out, whole...)
		in.emit(l, tenant, day, start, ref, multiline)
		return
	}

	// An envelope. The common prefix: {"tenant":"T","carried":value,…
	l.prefix = append(l.prefix[:0], '{', '"')
	l.prefix = append(l.prefix, in.settings.TenantField...)
	l.prefix = append(l.prefix, '"', ':', '"')
	l.prefix = append(l.prefix, tenant...)
	l.prefix = append(l.prefix, '"')
	var carried uint64
	for k, v := range sc.Carried {
		if v.Present() {
			carried |= 1 << uint(k)
			l.prefix = append(l.prefix, ',', '"')
			l.prefix = append(l.prefix, in.opts.CarryFields[k]...)
			l.prefix = append(l.prefix, '"', ':')
			l.prefix = append(l.prefix, data[v.Start:v.End]...)
		}
	}
	for k := range sc.Records {
		rec := &sc.Records[k]
		raw := data[rec.Start:rec.End]
		switch rec.Problem {
		case envelope.OK:
		case envelope.NotObject:
			in.deadLetter(l, ReasonNotObject, "log element is not an object", ref, raw)
			continue
		case envelope.InvalidUTF8:
			in.deadLetter(l, ReasonInvalidUTF8, "invalid UTF-8 in record", ref, raw)
			continue
		default:
			in.deadLetter(l, ReasonTenantConflict, "record has two different tenant fields", ref, raw)
			continue
		}
		ownTenant := rec.Tenant.Present()
		if ownTenant && (rec.Tenant.Kind != '"' || string(sc.String(rec.Tenant)) != tenant) {
			in.deadLetter(l, ReasonTenantConflict, "record's tenant differs from its envelope's", ref, raw)
			continue
		}
		day, ok := in.recordDay(l, rec, ref, raw)
		if !ok {
			continue
		}
		start := len(l.out)
		if !ownTenant && rec.Carry&carried == 0 {
			// Fast path: insert the whole prefix.
			l.out = append(l.out, l.prefix...)
		} else {
			// Slow path: the record has some of the fields itself.
			l.out = append(l.out, '{')
			sep := false
			if !ownTenant {
				l.out = append(l.out, l.prefix[1:6+len(in.settings.TenantField)+len(tenant)]...)
				sep = true
			}
			for j, v := range sc.Carried {
				if v.Present() && rec.Carry&(1<<uint(j)) == 0 {
					if sep {
						l.out = append(l.out, ',')
					}
					l.out = append(l.out, '"')
					l.out = append(l.out, in.opts.CarryFields[j]...)
					l.out = append(l.out, '"', ':')
					l.out = append(l.out, data[v.Start:v.End]...)
					sep = true
				}
			}
			if !sep { // nothing inserted: the record as it is
				l.out = l.out[:start]
				l.out = append(l.out, raw...)
				if len(raw) > in.opts.MaxRecordBytes {
					l.out = l.out[:start]
					in.deadLetter(l, ReasonTooLarge, "record of "+strconv.Itoa(len(raw))+" bytes", ref, raw)
					continue
				}
				in.emit(l, tenant, day, start, ref, multiline)
				continue
			}
		}
		if !rec.Empty {
			l.out = append(l.out, ',')
		}
		l.out = append(l.out, raw[1:]...)
		if n := len(l.out) - start; n > in.opts.MaxRecordBytes {
			l.out = l.out[:start]
			in.deadLetter(l, ReasonTooLarge, "formatted record of "+strconv.Itoa(n)+" bytes", ref, raw)
			continue
		}
		in.emit(l, tenant, day, start, ref, multiline)
	}
}

// recordDay returns the partition day of rec, or dead-letters it.
func (in *Ingestor) recordDay(l *local, rec *envelope.Record, ref inputRef, raw []byte) (loglake.Day, bool) {
	if sec, ok := l.sc.Time(rec.Timestamp, in.formats); ok {
		if day, ok := in.dayOf(l, sec); ok {
			return day, true
		}
	}
	if in.opts.MissingTime == ArrivalTime {
		return in.arrivalDay(l), true
	}
	if rec.Timestamp.Present() {
		in.deadLetter(l, ReasonInvalidTimestamp, in.settings.TimestampField+" is in no accepted format", ref, raw)
	} else {
		in.deadLetter(l, ReasonMissingTimestamp, "no "+in.settings.TimestampField+" field", ref, raw)
	}
	return loglake.Day{}, false
}

// emit ends the record that starts at l.out[start:] and adds it to a run.
func (in *Ingestor) emit(l *local, tenant string, day loglake.Day, start int, ref inputRef, multiline bool) {
	if multiline {
		for k := start; k < len(l.out); k++ {
			if c := l.out[k]; c == '\n' || c == '\r' {
				l.out[k] = ' '
			}
		}
	}
	l.out = append(l.out, '\n')
	l.accepted++
	if n := len(l.runs); n > 0 {
		r := &l.runs[n-1]
		if r.end == start && r.tenant == tenant && r.day == day && r.ref == ref && r.end-r.start < runBytes {
			r.end = len(l.out)
			r.records++
			return
		}
	}
	l.runs = append(l.runs, run{tenant: tenant, day: day, start: start, end: len(l.out), records: 1, ref: ref})
}

// deadLetter appends a dead-letter line for data:
//
//	{"reason":…,"error":…,"batch_id":…,"index":…,"line":…,"data":…}
//
// data is the original bytes as a JSON string when they are valid UTF-8,
// and otherwise base64 (standard encoding, padded) with
// "data_encoding":"base64" before it.
func (in *Ingestor) deadLetter(l *local, reason Reason, msg string, ref inputRef, data []byte) {
	start := len(l.dead)
	d := append(l.dead, `{"reason":"`...)
	d = append(d, reason...)
	d = append(d, `","error":`...)
	d = appendJSONString(d, msg)
	d = append(d, `,"batch_id":`...)
	d = appendJSONString(d, ref.BatchID)
	d = append(d, `,"index":`...)
	d = strconv.AppendInt(d, int64(ref.Index), 10)
	d = append(d, `,"line":`...)
	d = strconv.AppendInt(d, int64(ref.Line), 10)
	if utf8.Valid(data) {
		d = append(d, `,"data":`...)
		d = appendJSONString(d, data)
	} else {
		d = append(d, `,"data_encoding":"base64","data":"`...)
		d = base64.StdEncoding.AppendEncode(d, data)
		d = append(d, '"')
	}
	d = append(d, '}', '\n')
	l.dead = d
	l.deadCount++
	if n := len(l.deadRuns); n > 0 {
		r := &l.deadRuns[n-1]
		if r.end == start && r.reason == reason && r.ref == ref && r.end-r.start < runBytes {
			r.end = len(l.dead)
			r.records++
			return
		}
	}
	l.deadRuns = append(l.deadRuns, deadRun{reason: reason, start: start, end: len(l.dead), records: 1, ref: ref})
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[last:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		last = i + 1
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}
