// Package query searches a lake's logs: it parses a query — SQL text or the
// Go builder — checks its tenant scope, plans it over the partitions it can
// touch, scans raw NDJSON and Parquet, and returns Arrow record batches.
//
// This part of the package holds the front half: the [Query] type, [Parse],
// the builder, and the analyses the planner needs ([Query.Scope],
// [Query.TimeRange], [Query.DayRange]).
//
// # SQL
//
// One table, logs, whose columns are the fields of the records plus
// tenant_id and dt (the partition day, 'YYYY-MM-DD'):
//
//	SELECT timestamp, file_path
//	FROM logs
//	WHERE tenant_id = 'acme'
//	  AND dt BETWEEN '2024-05-01' AND '2024-05-31'
//	  AND file_path LIKE '%社外秘%'
//	ORDER BY timestamp DESC
//	LIMIT 100
//
// The grammar, informally:
//
//	query     = SELECT (* | item {, item}) FROM logs [WHERE expr]
//	            [GROUP BY term {, term}] [ORDER BY order {, order}]
//	            [LIMIT n | LIMIT ALL] [;]
//	item      = term [[AS] alias]
//	term      = column | date_trunc('minute'|'hour'|'day', column)
//	          | count(*) | count(column) | min(column) | max(column) | sum(column)
//	order     = (term | alias | position) [ASC | DESC]
//	expr      = expr OR expr | expr AND expr | NOT expr | ( expr ) | predicate
//	predicate = operand (= | != | <> | < | <= | > | >=) operand
//	          | operand [NOT] IN ( operand {, operand} )
//	          | operand [NOT] BETWEEN operand AND operand
//	          | operand [NOT] (LIKE | ILIKE) 'pattern' [ESCAPE 'c']
//	          | operand IS [NOT] NULL
//	operand   = column | 'string' | number | -number | TRUE | FALSE | NULL
//	          | TIMESTAMP 'YYYY-MM-DD[ HH:MM[:SS[.fff]]][ zone]'
//
// Keywords are case-insensitive. A bare identifier ([A-Za-z_][A-Za-z0-9_]*)
// is folded to lower case, as in Trino; a double-quoted one ("File Path",
// with "" for a quote) is kept exactly, so fields with upper-case letters
// or other characters need quotes. Reserved words (SELECT, AND, NULL, …)
// must be quoted to be used as names; timestamp, count and date_trunc need
// not be. Strings are single-quoted, a quote inside written twice, with no other
// escapes. Comments are -- to the end of the line and /* … */. GROUP BY
// and ORDER BY accept 1-based positions in the select list, and ORDER BY
// accepts aliases. TIMESTAMP literals without a zone are UTC.
//
// Parse reports errors as [*SyntaxError] with the line, the column and
// what was expected:
//
//	query: syntax error at line 1, col 27: expected expression, found ")"
//
// [Query.String] prints a query back as SQL that parses to the same Query.
// The builder makes the same values without SQL text:
//
//	q := query.Select("timestamp", "file_path").
//		Where(query.And(
//			query.Eq("tenant_id", "acme"),
//			query.Like("file_path", "%社外秘%"),
//		)).
//		OrderBy("timestamp", query.Desc).
//		Limit(100)
//
// # Semantics
//
// As Trino and Athena, with the differences a schemaless log store needs:
//
//   - LIKE is case-sensitive; '%' matches any run of characters, '_'
//     exactly one character (a code point, not a byte); ESCAPE 'c' makes
//     c%, c_ and cc literal, and c before anything else is an error.
//     ILIKE folds case with Unicode simple case folding (as
//     strings.EqualFold). Patterns are at most [MaxPatternLen] bytes
//     ([ErrPatternTooLong]); matching never backtracks: its cost is linear
//     in the text for '%'-only patterns and at most text × pattern length
//     with '_', whatever the pattern.
//   - Three-valued logic: a comparison with NULL is NULL, NOT NULL is NULL,
//     FALSE AND NULL is FALSE, TRUE OR NULL is TRUE; WHERE keeps the rows
//     where it is TRUE. A field missing from a record is NULL.
//   - Numbers compare across integers and floats exactly. Strings compare
//     byte-wise (code point order). A timestamp compares with a TIMESTAMP
//     literal, or with a string that parses as one (RFC 3339 included); a
//     string that does not parse makes the comparison NULL. Values of kinds
//     that do not compare (a string with a number, say) make the comparison
//     NULL where Trino would reject the query, because a field's type may
//     change from record to record. LIKE on a value that is not a string is
//     NULL.
//   - date_trunc works in UTC. count(col) counts non-NULL values, sum of
//     integers is an integer (overflow is an error), min and max need
//     values of one kind. ORDER BY puts NULLs last in both directions.
//
// # Tenant scope
//
// A query reads only the tenants its WHERE clause limits it to:
// [Query.Scope] takes them from top-level conjuncts tenant_id = 'T' and
// tenant_id IN ('T1', …), and a query without one is rejected with
// [ErrUnscopedQuery] unless the engine allows cross-tenant queries.
// tenant_id under OR or NOT never counts, so text such as
//
//	WHERE tenant_id = 'acme' OR 1 = 1
//	WHERE tenant_id = 'acme' -- ' OR tenant_id = 'other'
//
// is unscoped (the first) or scoped to acme alone (the second: the rest is
// a comment). Scope works on the parsed query, never on text, so quoting,
// escaping and comments cannot widen it.
package query
