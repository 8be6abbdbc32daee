package query

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/loglake/loglake/internal/like"
)

// Columns with a meaning beyond the records' own fields.
const (
	// TenantColumn holds the record's tenant; see [Query.Scope].
	TenantColumn = "tenant_id"
	// DayColumn holds the partition day, a 'YYYY-MM-DD' string in the lake's
	// time zone; see [Query.DayRange].
	DayColumn = "dt"
	// TimeColumn holds the record's event time; see [Query.TimeRange].
	TimeColumn = "timestamp"
	// Table is the one table queries read.
	Table = "logs"
)

// Limits. They bound what a hostile query can cost the parser, the printer
// and the evaluator (all recursive over the expression tree).
const (
	// MaxSQLLen is the longest SQL text Parse accepts, in bytes.
	MaxSQLLen = 1 << 20
	// MaxDepth is how deeply parentheses and NOT may nest in a WHERE clause
	// (a chain of ANDs or ORs does not nest). Deeper expressions are
	// rejected so that no input can exhaust the stack.
	MaxDepth = 100
	// MaxPatternLen is the longest LIKE or ILIKE pattern, in bytes; see
	// [ErrPatternTooLong].
	MaxPatternLen = like.MaxPatternLen
)

// Query is a parsed or built query over the table logs. The zero Query is
// SELECT * FROM logs (which [Query.Scope] rejects as unscoped).
//
// Field names differ from the SQL clauses so that the builder methods
// ([Query.Where], [Query.OrderBy], [Query.Limit], …) can carry those names.
type Query struct {
	// Items is the select list; empty means SELECT *.
	Items []SelectItem
	// Filter is the WHERE clause; nil means none.
	Filter Expr
	// Groups is the GROUP BY list.
	Groups []Term
	// Order is the ORDER BY list.
	Order []OrderItem
	// MaxRows is the LIMIT; 0 means none (LIMIT 0 is not accepted).
	MaxRows int64
}

// Agg is an aggregate function.
type Agg uint8

// Aggregates.
const (
	AggNone  Agg = iota // a plain value
	AggCount            // count(*) or count(col): rows, or non-NULL values
	AggMin              // min(col)
	AggMax              // max(col)
	AggSum              // sum(col)
)

var aggNames = [...]string{AggNone: "", AggCount: "count", AggMin: "min", AggMax: "max", AggSum: "sum"}

func (a Agg) String() string {
	if int(a) < len(aggNames) {
		return aggNames[a]
	}
	return "agg(" + strconv.Itoa(int(a)) + ")"
}

// TimeUnit is a date_trunc unit.
type TimeUnit uint8

// Units of date_trunc.
const (
	NoUnit     TimeUnit = iota // no truncation
	UnitMinute                 // date_trunc('minute', …)
	UnitHour                   // date_trunc('hour', …)
	UnitDay                    // date_trunc('day', …)
)

var unitNames = [...]string{NoUnit: "", UnitMinute: "minute", UnitHour: "hour", UnitDay: "day"}

func (u TimeUnit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

// Term is a value of the select list, GROUP BY or ORDER BY: a column, a
// column truncated by date_trunc, or an aggregate over a column (or over *
// for count(*)).
type Term struct {
	Agg    Agg      // AggNone for a plain or truncated column
	Unit   TimeUnit // date_trunc unit; NoUnit for none; only with AggNone
	Column string   // the column; "" only in count(*)
}

// SelectItem is one entry of the select list.
type SelectItem struct {
	Term
	Alias string // AS alias; "" for none
}

// OrderItem is one entry of ORDER BY.
type OrderItem struct {
	Term
	Desc bool
}

// Expr is a boolean expression of a WHERE clause: *AndExpr, *OrExpr,
// *NotExpr, *CompareExpr, *InExpr, *BetweenExpr, *LikeExpr or *IsNullExpr.
type Expr interface {
	// String renders the expression as SQL that parses back to it.
	String() string
	appendSQL(b []byte) []byte
}

// Operand is a column or a literal: *Column or *Literal.
type Operand interface {
	String() string
	appendSQL(b []byte) []byte
	operand()
}

// AndExpr is the conjunction of two or more expressions.
type AndExpr struct{ Args []Expr }

// OrExpr is the disjunction of two or more expressions.
type OrExpr struct{ Args []Expr }

// NotExpr is NOT X.
type NotExpr struct{ X Expr }

// CmpOp is a comparison operator.
type CmpOp uint8

// Comparison operators.
const (
	OpEq CmpOp = iota // =
	OpNe              // <> (also written !=)
	OpLt              // <
	OpLe              // <=
	OpGt              // >
	OpGe              // >=
)

var opNames = [...]string{OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (o CmpOp) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// flip returns the operator with its operands swapped: a < b ⇔ b > a.
func (o CmpOp) flip() CmpOp {
	switch o {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return o
}

// CompareExpr is L op R.
type CompareExpr struct {
	Op   CmpOp
	L, R Operand
}

// InExpr is X [NOT] IN (List…).
type InExpr struct {
	X    Operand
	List []Operand
	Not  bool
}

// BetweenExpr is X [NOT] BETWEEN Lo AND Hi.
type BetweenExpr struct {
	X, Lo, Hi Operand
	Not       bool
}

// LikeExpr is X [NOT] LIKE|ILIKE 'Pattern' [ESCAPE 'Escape'].
type LikeExpr struct {
	X          Operand
	Pattern    string
	Escape     rune // 0 for none
	IgnoreCase bool // ILIKE
	Not        bool
}

// IsNullExpr is X IS [NOT] NULL.
type IsNullExpr struct {
	X   Operand
	Not bool
}

// Column is a reference to a field of the records (or tenant_id or dt).
// Names are case-sensitive: a bare identifier is folded to lower case, as
// in Trino; a double-quoted one is kept as written.
type Column struct{ Name string }

// Literal is a constant. Value is one of nil (NULL), string, int64,
// float64, bool or time.Time (from TIMESTAMP '…').
type Literal struct{ Value any }

func (*Column) operand()  {}
func (*Literal) operand() {}

// String renders q as SQL that Parse turns back into q.
func (q Query) String() string {
	b := make([]byte, 0, 128)
	b = append(b, "SELECT "...)
	if len(q.Items) == 0 {
		b = append(b, '*')
	}
	for i, it := range q.Items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = it.Term.appendSQL(b)
		if it.Alias != "" {
			b = append(b, " AS "...)
			b = appendIdent(b, it.Alias)
		}
	}
	b = append(b, " FROM "+Table...)
	if q.Filter != nil {
		b = append(b, " WHERE "...)
		b = q.Filter.appendSQL(b)
	}
	for i, g := range q.Groups {
		if i == 0 {
			b = append(b, " GROUP BY "...)
		} else {
			b = append(b, ", "...)
		}
		b = g.appendSQL(b)
	}
	for i, o := range q.Order {
		if i == 0 {
			b = append(b, " ORDER BY "...)
		} else {
			b = append(b, ", "...)
		}
		b = o.Term.appendSQL(b)
		if o.Desc {
			b = append(b, " DESC"...)
		}
	}
	if q.MaxRows != 0 {
		b = append(b, " LIMIT "...)
		b = strconv.AppendInt(b, q.MaxRows, 10)
	}
	return string(b)
}

// String renders t as SQL, e.g. count(*) or date_trunc('hour', timestamp).
func (t Term) String() string { return string(t.appendSQL(nil)) }

func (t Term) appendSQL(b []byte) []byte {
	switch {
	case t.Agg != AggNone:
		b = append(b, t.Agg.String()...)
		b = append(b, '(')
		if t.Column == "" {
			b = append(b, '*')
		} else {
			b = appendIdent(b, t.Column)
		}
		return append(b, ')')
	case t.Unit != NoUnit:
		b = append(b, "date_trunc("...)
		b = appendString(b, t.Unit.String())
		b = append(b, ", "...)
		b = appendIdent(b, t.Column)
		return append(b, ')')
	}
	return appendIdent(b, t.Column)
}

// Name is the name of the item's result column: its alias, else the column
// name for a plain column, else its SQL text (e.g. "count(*)").
func (it SelectItem) Name() string {
	switch {
	case it.Alias != "":
		return it.Alias
	case it.Agg == AggNone && it.Unit == NoUnit:
		return it.Column
	}
	return it.Term.String()
}

func (e *AndExpr) String() string     { return string(e.appendSQL(nil)) }
func (e *OrExpr) String() string      { return string(e.appendSQL(nil)) }
func (e *NotExpr) String() string     { return string(e.appendSQL(nil)) }
func (e *CompareExpr) String() string { return string(e.appendSQL(nil)) }
func (e *InExpr) String() string      { return string(e.appendSQL(nil)) }
func (e *BetweenExpr) String() string { return string(e.appendSQL(nil)) }
func (e *LikeExpr) String() string    { return string(e.appendSQL(nil)) }
func (e *IsNullExpr) String() string  { return string(e.appendSQL(nil)) }
func (c *Column) String() string      { return string(c.appendSQL(nil)) }
func (l *Literal) String() string     { return string(l.appendSQL(nil)) }

// appendJoined writes args separated by sep, parenthesising the args for
// which paren reports true, so that the tree survives a round trip.
func appendJoined(b []byte, args []Expr, sep string, paren func(Expr) bool) []byte {
	for i, a := range args {
		if i > 0 {
			b = append(b, sep...)
		}
		b = appendMaybeParen(b, a, paren(a))
	}
	return b
}

func appendMaybeParen(b []byte, e Expr, paren bool) []byte {
	if e == nil {
		return append(b, "NULL"...)
	}
	if paren {
		b = append(b, '(')
		b = e.appendSQL(b)
		return append(b, ')')
	}
	return e.appendSQL(b)
}

func isAndOr(e Expr) bool {
	switch e.(type) {
	case *AndExpr, *OrExpr:
		return true
	}
	return false
}

func (e *AndExpr) appendSQL(b []byte) []byte {
	return appendJoined(b, e.Args, " AND ", isAndOr)
}

func (e *OrExpr) appendSQL(b []byte) []byte {
	return appendJoined(b, e.Args, " OR ", func(x Expr) bool { _, ok := x.(*OrExpr); return ok })
}

func (e *NotExpr) appendSQL(b []byte) []byte {
	b = append(b, "NOT "...)
	return appendMaybeParen(b, e.X, isAndOr(e.X))
}

func appendOperand(b []byte, o Operand) []byte {
	if o == nil {
		return append(b, "NULL"...)
	}
	return o.appendSQL(b)
}

func (e *CompareExpr) appendSQL(b []byte) []byte {
	b = appendOperand(b, e.L)
	b = append(b, ' ')
	b = append(b, e.Op.String()...)
	b = append(b, ' ')
	return appendOperand(b, e.R)
}

func (e *InExpr) appendSQL(b []byte) []byte {
	b = appendOperand(b, e.X)
	if e.Not {
		b = append(b, " NOT"...)
	}
	b = append(b, " IN ("...)
	for i, o := range e.List {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendOperand(b, o)
	}
	return append(b, ')')
}

func (e *BetweenExpr) appendSQL(b []byte) []byte {
	b = appendOperand(b, e.X)
	if e.Not {
		b = append(b, " NOT"...)
	}
	b = append(b, " BETWEEN "...)
	b = appendOperand(b, e.Lo)
	b = append(b, " AND "...)
	return appendOperand(b, e.Hi)
}

func (e *LikeExpr) appendSQL(b []byte) []byte {
	b = appendOperand(b, e.X)
	if e.Not {
		b = append(b, " NOT"...)
	}
	if e.IgnoreCase {
		b = append(b, " ILIKE "...)
	} else {
		b = append(b, " LIKE "...)
	}
	b = appendString(b, e.Pattern)
	if e.Escape != 0 {
		b = append(b, " ESCAPE "...)
		b = appendString(b, string(e.Escape))
	}
	return b
}

func (e *IsNullExpr) appendSQL(b []byte) []byte {
	b = appendOperand(b, e.X)
	if e.Not {
		return append(b, " IS NOT NULL"...)
	}
	return append(b, " IS NULL"...)
}

func (c *Column) appendSQL(b []byte) []byte { return appendIdent(b, c.Name) }

func (l *Literal) appendSQL(b []byte) []byte {
	switch v := l.Value.(type) {
	case nil:
		return append(b, "NULL"...)
	case bool:
		if v {
			return append(b, "TRUE"...)
		}
		return append(b, "FALSE"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return appendFloat(b, v)
	case string:
		return appendString(b, v)
	case time.Time:
		b = append(b, "TIMESTAMP "...)
		return appendString(b, formatTimestamp(v))
	}
	// Not a literal Validate accepts; render something readable.
	b = append(b, "/* unsupported literal */ "...)
	return appendString(b, strings.TrimSpace(strconv.Quote(typeName(l.Value))))
}

func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan()"...)
	case math.IsInf(f, 1):
		return append(b, "infinity()"...)
	case math.IsInf(f, -1):
		return append(b, "-infinity()"...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	for _, c := range b[n:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...) // keep it a float when parsed back
}

// formatTimestamp renders t in UTC in the TIMESTAMP literal syntax.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999999") + " UTC"
}

// appendString writes s as a SQL string literal, doubling quotes.
func appendString(b []byte, s string) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b = append(b, '\'')
		}
		b = append(b, s[i])
	}
	return append(b, '\'')
}

// appendIdent writes a column name, bare when it reads back the same and
// double-quoted otherwise.
func appendIdent(b []byte, name string) []byte {
	if isBareIdent(name) {
		return append(b, name...)
	}
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, name[i])
	}
	return append(b, '"')
}

func isBareIdent(s string) bool {
	if s == "" || reserved[strings.ToUpper(s)] {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
