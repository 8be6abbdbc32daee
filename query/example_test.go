package query_test

import (
	"errors"
	"fmt"

	"github.com/loglake/loglake/query"
)

func ExampleParse() {
	q, err := query.Parse(`select Timestamp, file_path from logs
		where tenant_id = 'acme' and file_path like '%社外秘%' -- the hard case
		order by timestamp desc limit 100`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	scope, err := q.Scope(false)
	fmt.Println(scope.Tenants, err)
	// Output:
	// SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100
	// [acme] <nil>
}

func ExampleParse_syntaxError() {
	_, err := query.Parse("SELECT * FROM logs WHERE (level = )")
	fmt.Println(err)
	var se *query.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Line, se.Col, se.Expected)
	}
	// Output:
	// query: syntax error at line 1, col 35: expected expression, found ")"
	// 1 35 expression
}

func ExampleSelect() {
	q := query.Select("timestamp", "file_path").
		Where(query.And(
			query.Eq("tenant_id", "acme"),
			query.Like("file_path", "%社外秘%"),
		)).
		OrderBy("timestamp", query.Desc).
		Limit(100)
	fmt.Println(q)
	parsed, _ := query.Parse(q.String())
	fmt.Println(parsed.String() == q.String())
	// Output:
	// SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100
	// true
}

func ExampleSelectTerms() {
	hour := query.DateTrunc(query.UnitHour, "timestamp")
	q := query.SelectTerms(hour.As("hour"), query.CountAll().As("n")).
		Where(query.And(
			query.In("tenant_id", "acme", "globex"),
			query.Between("dt", "2024-05-01", "2024-05-07"),
			query.ILike("window_title", "%confidential%"),
		)).
		GroupBy(hour).
		OrderByTerm(hour, query.Asc)
	fmt.Println(q)
	fmt.Println(q.Validate())
	fmt.Println(q.DayRange().First, q.DayRange().Last)
	// Output:
	// SELECT date_trunc('hour', timestamp) AS hour, count(*) AS n FROM logs WHERE tenant_id IN ('acme', 'globex') AND dt BETWEEN '2024-05-01' AND '2024-05-07' AND window_title ILIKE '%confidential%' GROUP BY date_trunc('hour', timestamp) ORDER BY date_trunc('hour', timestamp)
	// <nil>
	// 2024-05-01 2024-05-07
}

func ExampleQuery_Scope() {
	for _, sql := range []string{
		"SELECT * FROM logs WHERE tenant_id = 'acme' OR 1 = 1",
		"SELECT * FROM logs WHERE tenant_id = 'acme' -- ' OR tenant_id = 'globex'",
		"SELECT * FROM logs WHERE tenant_id IN ('acme', 'globex') AND level = 'error'",
	} {
		q, _ := query.Parse(sql)
		scope, err := q.Scope(false)
		fmt.Println(scope.Tenants, errors.Is(err, query.ErrUnscopedQuery))
	}
	// Output:
	// [] true
	// [acme] false
	// [acme globex] false
}
