package query

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/loglake/loglake/internal/like"
)

// Parse parses a query in the SQL subset described in the package
// documentation. Errors are [*SyntaxError]s naming the position and what
// was expected; they match [ErrInvalidQuery] with errors.Is.
func Parse(sql string) (Query, error) {
	if len(sql) > MaxSQLLen {
		return Query{}, newSyntaxError(sql, 0, "", fmt.Sprintf("query of %d bytes is longer than the limit of %d bytes", len(sql), MaxSQLLen), nil)
	}
	toks, err := lex(sql)
	if err != nil {
		return Query{}, err
	}
	p := &parser{src: sql, toks: toks}
	q, err := p.query()
	if err != nil {
		return Query{}, err
	}
	return q, nil
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token        { return p.toks[p.i] }
func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the bare keyword kw (upper case).
func isKeyword(t token, kw string) bool {
	return t.kind == tIdent && len(t.text) == len(kw) && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKeyword(kw string) bool {
	if isKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptPunct(s string) bool {
	if t := p.peek(); t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

// describe renders a token for "found …".
func (p *parser) describe(t token) string {
	if t.kind == tEOF {
		return "end of input"
	}
	s := p.src[t.pos:t.end]
	if utf8.RuneCountInString(s) > 24 {
		r := []rune(s)
		s = string(r[:24]) + "…"
	}
	return strconv.Quote(s)
}

func (p *parser) errExpected(expected string) error {
	t := p.peek()
	return newSyntaxError(p.src, t.pos, expected, "found "+p.describe(t), nil)
}

func (p *parser) errAt(t token, msg string, cause error) error {
	return newSyntaxError(p.src, t.pos, "", msg, cause)
}

func (p *parser) expectKeyword(kw string) error {
	if !p.acceptKeyword(kw) {
		return p.errExpected(kw)
	}
	return nil
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.errExpected(strconv.Quote(s))
	}
	return nil
}

// positions of the clauses' items, for errors found after parsing them.
type positions struct {
	sel, items, groups, order []token
}

func (p *parser) query() (Query, error) {
	var q Query
	pos := positions{sel: []token{p.peek()}}
	if err := p.expectKeyword("SELECT"); err != nil {
		return q, err
	}
	// Select list.
	if t := p.peek(); t.kind == tPunct && t.text == "*" {
		p.next()
		if n := p.peek(); n.kind == tPunct && n.text == "," {
			return q, p.errAt(n, "* must be the only item of the select list", nil)
		}
	} else {
		for {
			t := p.peek()
			term, err := p.term(true)
			if err != nil {
				return q, err
			}
			it := SelectItem{Term: term}
			if p.acceptKeyword("AS") {
				if it.Alias, err = p.ident("alias"); err != nil {
					return q, err
				}
			} else if n := p.peek(); n.kind == tQIdent || n.kind == tIdent && !reserved[strings.ToUpper(n.text)] {
				it.Alias, _ = p.ident("alias")
			}
			q.Items = append(q.Items, it)
			pos.items = append(pos.items, t)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return q, err
	}
	t := p.peek()
	table, err := p.ident("table name")
	if err != nil {
		return q, err
	}
	if table != Table {
		return q, p.errAt(t, fmt.Sprintf("unknown table %q: the only table is %s", table, Table), nil)
	}
	if p.acceptKeyword("WHERE") {
		if q.Filter, err = p.orExpr(); err != nil {
			return q, err
		}
	}
	if p.acceptKeyword("GROUP") {
		if err := p.expectKeyword("BY"); err != nil {
			return q, err
		}
		for {
			t := p.peek()
			var g Term
			if t.kind == tNumber {
				it, err := p.ordinal(q.Items)
				if err != nil {
					return q, err
				}
				g = it.Term
			} else if g, err = p.term(false); err != nil {
				return q, err
			}
			q.Groups = append(q.Groups, g)
			pos.groups = append(pos.groups, t)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKeyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return q, err
		}
		for {
			t := p.peek()
			var o OrderItem
			switch {
			case t.kind == tNumber:
				it, err := p.ordinal(q.Items)
				if err != nil {
					return q, err
				}
				o.Term = it.Term
			case (t.kind == tIdent || t.kind == tQIdent) && !(p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(") && aliasTerm(q.Items, identName(t)) != nil:
				p.next()
				o.Term = *aliasTerm(q.Items, identName(t))
			default:
				if o.Term, err = p.term(true); err != nil {
					return q, err
				}
			}
			if p.acceptKeyword("DESC") {
				o.Desc = true
			} else {
				p.acceptKeyword("ASC")
			}
			q.Order = append(q.Order, o)
			pos.order = append(pos.order, t)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKeyword("LIMIT") {
		t := p.peek()
		switch {
		case p.acceptKeyword("ALL"):
		case t.kind == tNumber:
			p.next()
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil || n <= 0 {
				return q, p.errAt(t, fmt.Sprintf("LIMIT must be a positive integer, found %s", p.describe(t)), nil)
			}
			q.MaxRows = n
		default:
			return q, p.errExpected("positive integer or ALL")
		}
	}
	p.acceptPunct(";")
	if p.peek().kind != tEOF {
		return q, p.errExpected("end of query")
	}
	if err := validateShape(&q, &pos, p.src); err != nil {
		return q, err
	}
	return q, nil
}

func identName(t token) string {
	if t.kind == tIdent {
		return strings.ToLower(t.text)
	}
	return t.text
}

func aliasTerm(items []SelectItem, name string) *Term {
	for i := range items {
		if items[i].Alias == name {
			return &items[i].Term
		}
	}
	return nil
}

// ordinal parses a 1-based position in the select list.
func (p *parser) ordinal(items []SelectItem) (SelectItem, error) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 1 || n > len(items) {
		return SelectItem{}, p.errAt(t, fmt.Sprintf("position %s is not in the select list (1 to %d)", t.text, len(items)), nil)
	}
	return items[n-1], nil
}

// ident parses a column, alias or table name.
func (p *parser) ident(what string) (string, error) {
	t := p.peek()
	switch {
	case t.kind == tQIdent:
		p.next()
		return t.text, nil
	case t.kind == tIdent && !reserved[strings.ToUpper(t.text)]:
		p.next()
		return strings.ToLower(t.text), nil
	case t.kind == tIdent:
		return "", newSyntaxError(p.src, t.pos, what, fmt.Sprintf("found reserved word %s (double-quote it to use it as a name)", strings.ToUpper(t.text)), nil)
	}
	return "", p.errExpected(what)
}

// term parses a column, date_trunc(unit, column), or (if agg) an aggregate.
func (p *parser) term(agg bool) (Term, error) {
	t := p.peek()
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		name := strings.ToLower(t.text)
		var term Term
		switch name {
		case "count":
			term.Agg = AggCount
		case "min":
			term.Agg = AggMin
		case "max":
			term.Agg = AggMax
		case "sum":
			term.Agg = AggSum
		case "date_trunc":
			p.next()
			p.next()
			u := p.peek()
			if u.kind != tString {
				return term, p.errExpected("unit 'minute', 'hour' or 'day'")
			}
			p.next()
			switch strings.ToLower(u.text) {
			case "minute":
				term.Unit = UnitMinute
			case "hour":
				term.Unit = UnitHour
			case "day":
				term.Unit = UnitDay
			default:
				return term, p.errAt(u, fmt.Sprintf("unsupported date_trunc unit %s: want 'minute', 'hour' or 'day'", p.describe(u)), nil)
			}
			if err := p.expectPunct(","); err != nil {
				return term, err
			}
			c, err := p.ident("column")
			if err != nil {
				return term, err
			}
			term.Column = c
			return term, p.expectPunct(")")
		default:
			return term, p.errAt(t, fmt.Sprintf("unknown function %s: want count, min, max, sum or date_trunc", p.describe(t)), nil)
		}
		if !agg {
			return term, p.errAt(t, fmt.Sprintf("aggregate %s(…) is not allowed here", name), nil)
		}
		p.next()
		p.next()
		if term.Agg == AggCount && p.acceptPunct("*") {
			return term, p.expectPunct(")")
		}
		if isKeyword(p.peek(), "DISTINCT") {
			return term, p.errAt(p.peek(), "DISTINCT aggregates are not supported", nil)
		}
		c, err := p.ident("column")
		if err != nil {
			return term, err
		}
		term.Column = c
		return term, p.expectPunct(")")
	}
	c, err := p.ident("column")
	return Term{Column: c}, err
}

// orExpr parses a WHERE expression. ANDs and ORs are parsed iteratively;
// only parentheses and NOT recurse, and they count against MaxDepth.
func (p *parser) orExpr() (Expr, error) {
	var args []Expr
	for {
		e, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if !p.acceptKeyword("OR") {
			break
		}
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return &OrExpr{Args: args}, nil
}

func (p *parser) andExpr() (Expr, error) {
	var args []Expr
	for {
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if !p.acceptKeyword("AND") {
			break
		}
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return &AndExpr{Args: args}, nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(t, fmt.Sprintf("expression nested deeper than %d levels", MaxDepth), nil)
	}
	return nil
}

func (p *parser) notExpr() (Expr, error) {
	t := p.peek()
	if p.acceptKeyword("NOT") {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.notExpr()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x}, nil
	}
	if p.acceptPunct("(") {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.orExpr()
		p.depth--
		if err != nil {
			return nil, err
		}
		return x, p.expectPunct(")")
	}
	return p.predicate()
}

func (p *parser) predicate() (Expr, error) {
	x, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == tPunct {
		op, ok := map[string]CmpOp{"=": OpEq, "<>": OpNe, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}[t.text]
		if ok {
			p.next()
			r, err := p.operand()
			if err != nil {
				return nil, err
			}
			return &CompareExpr{Op: op, L: x, R: r}, nil
		}
	}
	if p.acceptKeyword("IS") {
		not := p.acceptKeyword("NOT")
		if err := p.expectKeyword("NULL"); err != nil {
			return nil, err
		}
		return &IsNullExpr{X: x, Not: not}, nil
	}
	not := p.acceptKeyword("NOT")
	switch t := p.peek(); {
	case p.acceptKeyword("IN"):
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		e := &InExpr{X: x, Not: not}
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			e.List = append(e.List, o)
			if !p.acceptPunct(",") {
				break
			}
		}
		return e, p.expectPunct(")")
	case p.acceptKeyword("BETWEEN"):
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("AND"); err != nil {
			return nil, err
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &BetweenExpr{X: x, Lo: lo, Hi: hi, Not: not}, nil
	case isKeyword(t, "LIKE") || isKeyword(t, "ILIKE"):
		p.next()
		e := &LikeExpr{X: x, Not: not, IgnoreCase: isKeyword(t, "ILIKE")}
		pt := p.peek()
		if pt.kind != tString {
			return nil, p.errExpected("pattern string")
		}
		p.next()
		e.Pattern = pt.text
		errTok := pt
		if p.acceptKeyword("ESCAPE") {
			et := p.peek()
			if et.kind != tString {
				return nil, p.errExpected("escape character string")
			}
			p.next()
			r, n := utf8.DecodeRuneInString(et.text)
			if n == 0 || n != len(et.text) || r == utf8.RuneError {
				return nil, p.errAt(et, fmt.Sprintf("ESCAPE must be a single character, found %s", p.describe(et)), nil)
			}
			e.Escape = r
			errTok = et
		}
		if _, err := like.Compile(e.Pattern, like.Options{Escape: e.Escape, IgnoreCase: e.IgnoreCase}); err != nil {
			if errors.Is(err, like.ErrPatternTooLong) {
				errTok = pt
			}
			return nil, p.errAt(errTok, strings.TrimPrefix(err.Error(), "like: "), err)
		}
		return e, nil
	}
	if not {
		return nil, p.errExpected("IN, BETWEEN, LIKE or ILIKE after NOT")
	}
	return nil, p.errExpected("comparison operator, IN, BETWEEN, LIKE, ILIKE or IS")
}

// operand parses a column or a literal.
func (p *parser) operand() (Operand, error) {
	t := p.peek()
	switch t.kind {
	case tQIdent:
		p.next()
		return &Column{Name: t.text}, nil
	case tString:
		p.next()
		return &Literal{Value: t.text}, nil
	case tNumber:
		p.next()
		return p.number(t, false)
	case tPunct:
		if t.text == "-" {
			p.next()
			n := p.peek()
			if n.kind != tNumber {
				return nil, p.errExpected("number after '-'")
			}
			p.next()
			return p.number(n, true)
		}
	case tIdent:
		switch up := strings.ToUpper(t.text); {
		case up == "NULL":
			p.next()
			return &Literal{}, nil
		case up == "TRUE" || up == "FALSE":
			p.next()
			return &Literal{Value: up == "TRUE"}, nil
		case up == "TIMESTAMP" && p.peekAt(1).kind == tString:
			p.next()
			s := p.next()
			ts, ok := parseTimestamp(s.text)
			if !ok {
				return nil, p.errAt(s, fmt.Sprintf("invalid TIMESTAMP %s: want 'YYYY-MM-DD[ HH:MM[:SS[.fff]]][ zone]'", p.describe(s)), nil)
			}
			return &Literal{Value: ts}, nil
		case reserved[up]:
			return nil, p.errExpected("expression")
		}
		if n := p.peekAt(1); n.kind == tPunct && n.text == "(" {
			return nil, p.errAt(t, fmt.Sprintf("function %s is not supported in WHERE", p.describe(t)), nil)
		}
		p.next()
		return &Column{Name: strings.ToLower(t.text)}, nil
	}
	return nil, p.errExpected("expression")
}

func (p *parser) number(t token, neg bool) (Operand, error) {
	text := t.text
	if neg {
		text = "-" + text
	}
	if !strings.ContainsAny(text, ".eE") {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, p.errAt(t, fmt.Sprintf("integer %s out of range", text), nil)
		}
		return &Literal{Value: n}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, p.errAt(t, fmt.Sprintf("number %s out of range", text), nil)
	}
	return &Literal{Value: f}, nil
}
