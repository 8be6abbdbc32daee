// Package like compiles SQL LIKE and ILIKE patterns into matchers for the
// query stage, and prefilters raw NDJSON lines by the literals a pattern
// requires.
//
// # Semantics
//
// As in Trino: LIKE is case-sensitive; '%' matches any run of characters,
// '_' exactly one character (a Unicode code point, not a byte); an optional
// escape character makes '%', '_' and itself literal, and is an error before
// any other character or at the end of the pattern. ILIKE matches letters
// regardless of case with Unicode simple case folding, the folding of
// [strings.EqualFold] and of Go regexp's (?i): 'k', 'K' and the Kelvin sign
// match each other, but full folding such as 'ß' = "ss" is not applied
// (it would change the number of characters '_' counts).
//
// A subject that is not valid UTF-8 is read as Go's range loop reads it:
// each byte that does not start a valid sequence is one character, which
// '_' and '%' consume but no literal character matches — not even U+FFFD,
// which Go regexp would let match such a byte. Otherwise Match agrees with
// the regexp ^(?s)…$ (with (?i) for ILIKE) built from the pattern, which a
// fuzz test checks.
//
// # Speed
//
// Matching never backtracks: the segments between '%' are matched greedily
// from left to right, which is linear in the subject for '%'-only patterns
// and O(len(subject)·len(pattern)) at worst with '_'. Patterns of the forms
// "lit", "lit%", "%lit" and "%lit%" take fast paths (bytes.Equal, HasPrefix,
// HasSuffix and a search for the rarest byte of the literal); ILIKE takes
// them too when no literal character has a case variant (e.g. '%社外秘%').
// ILIKE patterns
// whose cased characters are all ASCII letters (e.g. '%excel%') are matched
// up to ASCII case on the bytes, which is exact Unicode simple folding
// unless the subject holds U+212A KELVIN SIGN or U+017F LONG S (the only
// non-ASCII characters that fold to ASCII letters, 'k' and 's'); such
// subjects, and patterns with other cased letters, take the general path.
// Literals in values are found through their rarest byte (in both cases
// for a letter) with the SIMD-backed bytes.IndexByte; in blocks of lines,
// through their two rarest bytes searched together (AVX2 where the CPU
// has it, SSE2 otherwise), which stays fast in Japanese text, where no
// single byte of a kanji is rare. Match does not allocate.
//
// # Raw NDJSON
//
// [Matcher.RequiredLiterals] lists byte strings any matching value contains;
// [Matcher.Needles] adds, for ILIKE, runs of ASCII letters that it contains
// up to case. [JSONPrefilter] searches them in raw NDJSON lines or whole
// blocks of lines before any JSON is parsed, staying correct for
// JSON-escaped text and for the Kelvin sign and long s.
package like
