package compact

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/loglake/loglake"
)

// NewLineBatchSettings is [NewLineBatch] for lines that are not stored in a
// lake — records split at query time from a foreign layout's envelopes (see
// the query package's ForeignLayout). s supplies what NewLineBatch takes
// from the lake's settings: the timestamp and tenant fields and the
// accepted timestamp formats.
func NewLineBatchSettings(s loglake.Settings, p loglake.Partition, seed Schema) *LineBatch {
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

// keptLine appends to dst a shorter line holding only the members of line
// whose key is in keep (or names, see wanted), in their order and as they are written, and
// reports true, when line is certainly a JSON object that the scanner
// accepts: its members then read exactly as in the whole line. It reports
// false, with nothing certain, for any line it does not fully check — keys
// with escapes, malformed JSON — which the caller then adds whole. Skipping
// a member costs a search for its end, with no unescaping, UTF-8 check or
// number parsing.
func keptLine(dst, line []byte, keep map[string]struct{}, names []string) ([]byte, bool) {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return dst, false
	}
	dst = append(dst, '{')
	empty := true
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return dst, false
			}
			kstart := i
			j := quoteOrBackslash(line, i+1)
			if j == len(line) || line[j] == '\\' {
				return dst, false // unterminated, or escapes, which the scanner unescapes
			}
			key := line[i+1 : j]
			i = skipWS(line, j+1)
			if i >= len(line) || line[i] != ':' {
				return dst, false
			}
			i = skipWS(line, i+1)
			if i >= len(line) {
				return dst, false
			}
			var (
				end int
				ok  bool
			)
			switch c := line[i]; {
			case c == '"':
				end, ok = skipTopString(line, i)
			case c == '{' || c == '[':
				end, ok = skipValue(line, i, 0)
			case c == 't':
				end, ok = i+4, bytes.HasPrefix(line[i:], []byte("true"))
			case c == 'f':
				end, ok = i+5, bytes.HasPrefix(line[i:], []byte("false"))
			case c == 'n':
				end, ok = i+4, bytes.HasPrefix(line[i:], []byte("null"))
			default:
				end, _, ok = scanNumber(line, i)
			}
			if !ok {
				return dst, false
			}
			if wanted(key, keep, names) {
				if !empty {
					dst = append(dst, ',')
				}
				dst = append(dst, line[kstart:end]...)
				empty = false
			}
			i = skipWS(line, end)
			if i >= len(line) {
				return dst, false
			}
			if line[i] == ',' {
				i = skipWS(line, i+1)
				continue
			}
			if line[i] != '}' {
				return dst, false
			}
			i++
			break
		}
	}
	if skipWS(line, i) != len(line) {
		return dst, false
	}
	return append(dst, '}'), true
}

// wanted reports whether key is one of names, or in keep when names is
// nil: a few names are compared faster than a key is hashed.
func wanted(key []byte, keep map[string]struct{}, names []string) bool {
	if names == nil {
		_, ok := keep[unsafeString(key)]
		return ok
	}
	for _, n := range names {
		if n == unsafeString(key) {
			return true
		}
	}
	return false
}

// skipTopString returns the end of the string at line[i] == '"', checking
// its escapes as scanner.parseString does (UTF-8 is not checked: the
// scanner replaces invalid bytes rather than rejecting them).
func skipTopString(line []byte, i int) (int, bool) {
	const (
		lsb = 0x0101010101010101
		low = 0x7f7f7f7f7f7f7f7f
	)
	i++
	for {
		// quoteOrBackslash, inlined: Windows paths have an escape
		// every few bytes, and a call per escape shows.
		for i+8 <= len(line) {
			x := binary.LittleEndian.Uint64(line[i:])
			q := x ^ (lsb * '"')
			s := x ^ (lsb * '\\')
			if m := ^(((q & low) + low) | q | low) | ^(((s & low) + low) | s | low); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto hit
			}
			i += 8
		}
		for ; i < len(line); i++ {
			if line[i] == '"' || line[i] == '\\' {
				goto hit
			}
		}
		return 0, false
	hit:
		if line[i] == '"' {
			return i + 1, true
		}
		if i+1 >= len(line) {
			return 0, false
		}
		switch line[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, ok := hex4(line, i+2); !ok {
				return 0, false
			}
			i += 6
		default:
			return 0, false
		}
	}
}
