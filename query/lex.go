package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword; text as written
	tQIdent         // "quoted identifier"; text unquoted
	tString         // 'string'; text unquoted
	tNumber         // 12, 1.5, 1e3; text as written
	tPunct          // ( ) , * ; = <> != < <= > >= -
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset of the token's first byte
	end  int // byte offset after the token
}

// reserved words cannot be bare identifiers. Besides the keywords of the
// subset, the list holds SQL keywords the subset lacks (DISTINCT, JOIN, …)
// so that using them gives a clear error instead of a strange parse.
// Function names (count, date_trunc, …) and TIMESTAMP are not reserved:
// they are recognised by the token that follows, so "timestamp" stays a
// usable column name.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "BY": true,
	"ORDER": true, "LIMIT": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "IS": true, "NULL": true, "LIKE": true, "ILIKE": true,
	"ESCAPE": true, "BETWEEN": true, "TRUE": true, "FALSE": true, "AS": true,
	"ASC": true, "DESC": true, "DISTINCT": true, "HAVING": true, "UNION": true,
	"JOIN": true, "ON": true, "CASE": true, "WHEN": true, "THEN": true,
	"ELSE": true, "END": true, "WITH": true, "OFFSET": true, "NULLS": true,
	"ALL": true, "EXISTS": true, "INTERSECT": true, "EXCEPT": true,
}

// lex splits src into tokens, skipping white space and comments.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// Skip white space and comments.
		for i < len(src) {
			c := src[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
				i++
			case c == '-' && i+1 < len(src) && src[i+1] == '-':
				j := strings.IndexByte(src[i:], '\n')
				if j < 0 {
					i = len(src)
				} else {
					i += j + 1
				}
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				j := strings.Index(src[i+2:], "*/")
				if j < 0 {
					return nil, newSyntaxError(src, i, "", "unterminated /* comment", nil)
				}
				i += 2 + j + 2
			default:
				goto token
			}
		}
	token:
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src), end: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			for i < len(src) && (src[i] == '_' || 'a' <= src[i] && src[i] <= 'z' || 'A' <= src[i] && src[i] <= 'Z' || '0' <= src[i] && src[i] <= '9') {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start, end: i})
		case c == '"' || c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					what := "string literal"
					if c == '"' {
						what = "quoted identifier"
					}
					return nil, newSyntaxError(src, start, "", "unterminated "+what, nil)
				}
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c { // doubled quote
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			k := tString
			if c == '"' {
				k = tQIdent
				if b.Len() == 0 {
					return nil, newSyntaxError(src, start, "", "empty quoted identifier", nil)
				}
			}
			toks = append(toks, token{kind: k, text: b.String(), pos: start, end: i})
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(src) && '0' <= src[i+1] && src[i+1] <= '9':
			for i < len(src) && '0' <= src[i] && src[i] <= '9' {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				for i < len(src) && '0' <= src[i] && src[i] <= '9' {
					i++
				}
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && '0' <= src[j] && src[j] <= '9' {
					for j < len(src) && '0' <= src[j] && src[j] <= '9' {
						j++
					}
					i = j
				}
			}
			if i < len(src) && (src[i] == '_' || 'a' <= src[i] && src[i] <= 'z' || 'A' <= src[i] && src[i] <= 'Z') {
				return nil, newSyntaxError(src, start, "", fmt.Sprintf("malformed number %q", src[start:i+1]), nil)
			}
			toks = append(toks, token{kind: tNumber, text: src[start:i], pos: start, end: i})
		default:
			n := 0
			switch c {
			case '(', ')', ',', '*', ';', '=', '-':
				n = 1
			case '<':
				n = 1
				if i+1 < len(src) && (src[i+1] == '=' || src[i+1] == '>') {
					n = 2
				}
			case '>':
				n = 1
				if i+1 < len(src) && src[i+1] == '=' {
					n = 2
				}
			case '!':
				if i+1 < len(src) && src[i+1] == '=' {
					n = 2
				}
			}
			if n == 0 {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, newSyntaxError(src, i, "", fmt.Sprintf("unexpected character %q", r), nil)
			}
			i += n
			toks = append(toks, token{kind: tPunct, text: src[start:i], pos: start, end: i})
		}
	}
}
