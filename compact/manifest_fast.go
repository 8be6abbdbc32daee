package compact

import (
	"bytes"
	"time"
)

// decodeManifestFast decodes a manifest as encodeManifest writes it,
// without reflection: a query reads one manifest per partition, and
// encoding/json's decoding was most of a many-partition query's fixed
// cost. It handles exactly the field names of the format, plain ASCII
// strings without escapes, integers and nulls; ok is false for anything
// else — escapes, other spellings of a field name (encoding/json matches
// them case-insensitively), numbers with fractions, unknown fields, bad
// syntax — and the caller then decodes with encoding/json, whose result
// and errors stay the reference (FuzzManifestFast checks that both agree
// whenever this one succeeds).
func decodeManifestFast(data []byte) (m *manifest, ok bool) {
	d := fastDec{b: data}
	m = &manifest{}
	ok = d.object(func(key []byte) bool {
		switch string(key) {
		case "version":
			v, ok := d.int()
			m.Version = int(v)
			return ok && int64(m.Version) == v
		case "generation":
			m.Generation, ok = d.int()
			return ok
		case "partition":
			m.Partition, ok = d.str()
			return ok
		case "created":
			return d.time(&m.Created)
		case "committer":
			m.Committer, ok = d.str()
			return ok
		case "schema":
			m.Schema, ok = d.schema()
			return ok
		case "files":
			m.Files = []FileRef{}
			return d.array(func() bool {
				var f FileRef
				ok := d.object(func(key []byte) bool {
					var ok bool
					switch string(key) {
					case "key":
						f.Key, ok = d.str()
					case "size":
						f.Size, ok = d.int()
					case "rows":
						f.Rows, ok = d.int()
					case "min_time":
						ok = d.time(&f.MinTime)
					case "max_time":
						ok = d.time(&f.MaxTime)
					case "schema":
						f.Schema, ok = d.schema()
					}
					return ok
				})
				m.Files = append(m.Files, f)
				return ok
			}, func() { m.Files = nil })
		case "covered":
			m.Covered = []coveredRef{}
			return d.array(func() bool {
				var c coveredRef
				ok := d.object(func(key []byte) bool {
					var ok bool
					switch string(key) {
					case "key":
						c.Key, ok = d.str()
					case "size":
						c.Size, ok = d.int()
					case "md5":
						c.MD5, ok = d.str()
					case "since":
						ok = d.time(&c.Since)
					}
					return ok
				})
				m.Covered = append(m.Covered, c)
				return ok
			}, func() { m.Covered = nil })
		case "superseded":
			m.Superseded = []string{}
			return d.array(func() bool {
				s, ok := d.str()
				m.Superseded = append(m.Superseded, s)
				return ok
			}, func() { m.Superseded = nil })
		}
		return false
	})
	if !ok || d.ws() != len(data) {
		return nil, false
	}
	return m, true
}

// fastDec reads the JSON subset of decodeManifestFast.
type fastDec struct {
	b []byte
	i int
}

// ws skips white space and returns the position.
func (d *fastDec) ws() int {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return d.i
		}
	}
	return d.i
}

// lit consumes the literal s after white space.
func (d *fastDec) lit(s string) bool {
	d.ws()
	if bytes.HasPrefix(d.b[d.i:], []byte(s)) {
		d.i += len(s)
		return true
	}
	return false
}

// rawStr reads a string of printable ASCII without escapes.
func (d *fastDec) rawStr() ([]byte, bool) {
	if !d.lit(`"`) {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func (d *fastDec) str() (string, bool) {
	s, ok := d.rawStr()
	return string(s), ok
}

// int reads an integer: -?(0|[1-9][0-9]*), at most 18 digits.
func (d *fastDec) int() (int64, bool) {
	d.ws()
	neg := d.i < len(d.b) && d.b[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	var v int64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		v = v*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	n := d.i - start
	if n == 0 || n > 18 || (n > 1 && d.b[start] == '0') {
		return 0, false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

// time reads an RFC 3339 time as encoding/json does (null leaves t).
func (d *fastDec) time(t *time.Time) bool {
	if d.lit("null") {
		return true
	}
	s, ok := d.rawStr()
	return ok && t.UnmarshalText(s) == nil
}

// object reads {"k": v, ...}, calling field after each key's colon; field
// reads the value. A null object is not accepted.
func (d *fastDec) object(field func(key []byte) bool) bool {
	if !d.lit("{") {
		return false
	}
	if d.lit("}") {
		return true
	}
	for {
		key, ok := d.rawStr()
		if !ok || !d.lit(":") || !field(key) {
			return false
		}
		if d.lit(",") {
			continue
		}
		return d.lit("}")
	}
}

// array reads [v, ...] calling elem for each element, or null calling
// null. The caller starts from an empty, non-nil slice, as encoding/json
// leaves one for [].
func (d *fastDec) array(elem func() bool, null func()) bool {
	if d.lit("null") {
		null()
		return true
	}
	if !d.lit("[") {
		return false
	}
	if d.lit("]") {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.lit(",") {
			continue
		}
		return d.lit("]")
	}
}

// schema reads a Schema: [{"name": …, "type": …}, …] or null.
func (d *fastDec) schema() (Schema, bool) {
	s := Schema{}
	ok := d.array(func() bool {
		var f Field
		ok := d.object(func(key []byte) bool {
			var ok bool
			switch string(key) {
			case "name":
				f.Name, ok = d.str()
			case "type":
				var t string
				t, ok = d.str()
				f.Type = Type(t)
			}
			return ok
		})
		s = append(s, f)
		return ok
	}, func() { s = nil })
	return s, ok
}
