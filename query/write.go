package query

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The writers below drain a [Rows] into a format. They do not close it; the
// caller still calls Close (and may then read its Stats). Each returns the
// query's error if the query failed.

// WriteNDJSON writes one JSON object per row, streaming: members in column
// order, NULLs as null (left out for SELECT *, whose columns vary),
// timestamps as RFC 3339 strings.
func WriteNDJSON(w io.Writer, rows *Rows) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	star := rows.cols == nil
	var line []byte
	for rows.Next() {
		b := rows.RecordBatch()
		sch := b.Schema()
		for i := 0; i < int(b.NumRows()); i++ {
			line = append(line[:0], '{')
			first := true
			for c := 0; c < int(b.NumCols()); c++ {
				col := b.Column(c)
				if star && col.IsNull(i) {
					continue
				}
				if !first {
					line = append(line, ',')
				}
				first = false
				line = appendJSON(line, sch.Field(c).Name)
				line = append(line, ':')
				line = appendCellJSON(line, col, i)
			}
			line = append(line, '}', '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		bw.Flush()
		return err
	}
	return bw.Flush()
}

// WriteCSV writes a header line and one record per row (RFC 4180), NULL as
// an empty field. With a select list it streams; for SELECT * it holds the
// rows to learn every column first.
func WriteCSV(w io.Writer, rows *Rows) error {
	cw := csv.NewWriter(w)
	if rows.cols != nil {
		if err := cw.Write(rows.cols); err != nil {
			return err
		}
		rec := make([]string, len(rows.cols))
		for rows.Next() {
			b := rows.RecordBatch()
			for i := 0; i < int(b.NumRows()); i++ {
				for c := range rec {
					rec[c] = cellText(b.Column(c), i)
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	} else {
		cols, table, err := drain(rows)
		if err != nil {
			return err
		}
		if err := cw.Write(cols); err != nil {
			return err
		}
		for _, rec := range table {
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the rows as an aligned text table for people, NULL as
// "NULL", followed by a "(n rows)" line. It holds every row.
func WriteTable(w io.Writer, rows *Rows) error {
	cols, table, err := drain(rows)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)
	}
	line := make([]string, len(cols))
	for i, c := range cols {
		line[i] = clean(c)
	}
	io.WriteString(tw, strings.Join(line, "\t")+"\n")
	for _, rec := range table {
		for i, v := range rec {
			line[i] = clean(v)
		}
		io.WriteString(tw, strings.Join(line, "\t")+"\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = io.WriteString(w, "("+strconv.Itoa(len(table))+" rows)\n")
	return err
}

// drain reads every batch into text cells over the union of the batches'
// columns (in the order of SELECT *: tenant_id, dt, timestamp, the rest by
// name; or the select list's).
func drain(rows *Rows) ([]string, [][]string, error) {
	cols := rows.Columns()
	index := map[string]int{}
	for i, c := range cols {
		index[c] = i
	}
	var recs []map[string]string
	var table [][]string
	for rows.Next() {
		b := rows.RecordBatch()
		sch := b.Schema()
		for i := 0; i < int(b.NumRows()); i++ {
			if rows.cols != nil {
				rec := make([]string, b.NumCols())
				for c := range rec {
					rec[c] = cellOrNull(b.Column(c), i)
				}
				table = append(table, rec)
				continue
			}
			rec := map[string]string{}
			for c := 0; c < int(b.NumCols()); c++ {
				name := sch.Field(c).Name
				if _, ok := index[name]; !ok {
					index[name] = len(cols)
					cols = append(cols, name)
				}
				if !b.Column(c).IsNull(i) {
					rec[name] = cellText(b.Column(c), i)
				}
			}
			recs = append(recs, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if rows.cols != nil {
		return cols, table, nil
	}
	slices.SortStableFunc(cols, func(a, b string) int { return starRank(a) - starRank(b) })
	head := 0
	for head < len(cols) && starRank(cols[head]) < 3 {
		head++
	}
	slices.Sort(cols[head:])
	for _, rec := range recs {
		row := make([]string, len(cols))
		for i, c := range cols {
			v, ok := rec[c]
			if !ok {
				v = "NULL"
			}
			row[i] = v
		}
		table = append(table, row)
	}
	return cols, table, nil
}

func starRank(c string) int {
	switch c {
	case TenantColumn:
		return 0
	case DayColumn:
		return 1
	case TimeColumn:
		return 2
	}
	return 3
}

func cellOrNull(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return cellText(a, i)
}

// cellText renders a value as text; NULL is "".
func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i)
	case *array.Int64:
		return strconv.FormatInt(x.Value(i), 10)
	case *array.Float64:
		return valueText(x.Value(i))
	case *array.Boolean:
		return strconv.FormatBool(x.Value(i))
	case *array.Timestamp:
		return time.UnixMicro(int64(x.Value(i))).UTC().Format(time.RFC3339Nano)
	}
	return a.ValueStr(i)
}

func appendCellJSON(dst []byte, a arrow.Array, i int) []byte {
	if a.IsNull(i) {
		return append(dst, "null"...)
	}
	switch x := a.(type) {
	case *array.String:
		return appendJSON(dst, x.Value(i))
	case *array.Int64:
		return strconv.AppendInt(dst, x.Value(i), 10)
	case *array.Float64:
		return append(dst, valueText(x.Value(i))...)
	case *array.Boolean:
		return strconv.AppendBool(dst, x.Value(i))
	case *array.Timestamp:
		return appendJSON(dst, time.UnixMicro(int64(x.Value(i))).UTC().Format(time.RFC3339Nano))
	}
	return appendJSON(dst, a.ValueStr(i))
}

func appendJSON(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
