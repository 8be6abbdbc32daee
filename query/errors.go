package query

import (
	"errors"
	"fmt"
	"strings"

	"github.com/loglake/loglake/internal/like"
)

// Sentinel errors of the query stage. (Root sentinels such as
// loglake.ErrScanLimitExceeded live in package loglake.)
var (
	// ErrUnscopedQuery is returned when a query's WHERE clause does not
	// limit it to a set of tenants — by tenant_id = '…' or tenant_id IN (…)
	// as a top-level AND conjunct — and cross-tenant queries were not
	// allowed. See [Query.Scope].
	ErrUnscopedQuery = errors.New("loglake: query is not scoped to tenants")

	// ErrPatternTooLong is returned (wrapped) for a LIKE or ILIKE pattern
	// longer than [MaxPatternLen] bytes.
	ErrPatternTooLong = like.ErrPatternTooLong

	// ErrInvalidQuery is matched by every error Parse and Query.Validate
	// return: syntax errors (a [*SyntaxError]) and queries that are well
	// formed but not meaningful, such as a column both grouped and not.
	ErrInvalidQuery = errors.New("loglake: invalid query")

	// ErrTooManyRows is returned (as a [*LimitError]) when a query's result
	// would have more rows than [Options.MaxResultRows].
	ErrTooManyRows = errors.New("loglake: too many result rows")
)

// SyntaxError is the error Parse returns. It names the position in the SQL
// text and, where it can, what the parser expected there:
//
//	query: syntax error at line 1, col 27: expected expression, found ")"
//
// errors.Is(err, ErrInvalidQuery) holds for every SyntaxError, and
// errors.Is(err, ErrPatternTooLong) for a pattern over the limit.
type SyntaxError struct {
	Pos      int    // byte offset of the offending token in the SQL text
	Line     int    // 1-based line of Pos
	Col      int    // 1-based column of Pos, counted in characters
	Msg      string // what went wrong, e.g. `found ")"`
	Expected string // what the parser expected there; may be empty
	Err      error  // the underlying cause, if any (e.g. from the LIKE compiler)
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "query: syntax error at line %d, col %d: ", e.Line, e.Col)
	if e.Expected != "" {
		b.WriteString("expected ")
		b.WriteString(e.Expected)
		if e.Msg != "" {
			b.WriteString(", ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidQuery and the cause, if any.
func (e *SyntaxError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidQuery, e.Err}
	}
	return []error{ErrInvalidQuery}
}

// newSyntaxError fills Line and Col from pos.
func newSyntaxError(src string, pos int, expected, msg string, cause error) *SyntaxError {
	pos = min(max(pos, 0), len(src))
	line, col := 1, 1
	for _, r := range src[:pos] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Pos: pos, Line: line, Col: col, Msg: msg, Expected: expected, Err: cause}
}

// invalidf returns an error for a query that Validate rejects.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("query: %s: %w", fmt.Sprintf(format, args...), ErrInvalidQuery)
}
