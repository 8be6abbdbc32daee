package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// limitLake holds tenants acme and other, each with 3 days of 200 records.
func limitLake(t *testing.T) (*loglake.Lake, *faultblob.Bucket) {
	t.Helper()
	inner := memblob.OpenBucket(nil)
	t.Cleanup(func() { inner.Close() })
	fb := faultblob.New(inner)
	lake, err := loglake.New(context.Background(), fb.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"acme", "other"} {
		for d := 18; d <= 20; d++ {
			p := loglake.Partition{Tenant: tenant, Day: loglake.NewDay(2026, 11, d)}
			var lines [][]byte
			for i := range 200 {
				lines = append(lines, fmt.Appendf(nil, `{"timestamp":"2026-11-%02dT%02d:%02d:00Z","i":%d,"msg":"%s"}`, d, i%24, i%60, i, strings.Repeat("x", i%50)))
			}
			putRaw(t, lake, p, "a", lines, loglake.CompressionZstd)
		}
		compactAll(t, lake, loglake.Partition{Tenant: tenant, Day: loglake.NewDay(2026, 11, 18)})
	}
	return lake, fb
}

func TestScanLimit(t *testing.T) {
	lake, _ := limitLake(t)
	e := newEngine(t, lake, &Options{RetentionDays: 30, MaxBytesScanned: 2000, Parallelism: 1})
	_, _, err := collect(t, e, mustParse(t, "SELECT count(*) FROM logs WHERE tenant_id = 'acme'"))
	if !errors.Is(err, loglake.ErrScanLimitExceeded) {
		t.Fatalf("err = %v, want ErrScanLimitExceeded", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Stats.BytesScanned <= 2000 || le.Limit != 2000 {
		t.Fatalf("LimitError = %+v", le)
	}
	// A query within the limit runs.
	e2 := newEngine(t, lake, &Options{RetentionDays: 30, MaxBytesScanned: 1 << 30})
	got, st, err := collect(t, e2, mustParse(t, "SELECT count(*) AS n FROM logs WHERE tenant_id = 'acme'"))
	if err != nil || got[0]["n"] != int64(600) {
		t.Fatalf("%v, %v", got, err)
	}
	if st.BytesScanned == 0 || st.BytesRead == 0 || st.RowsScanned != 600 || st.RowsMatched != 600 || st.PartitionsRead != 3 || st.ObjectsOpened != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	lake, _ := limitLake(t)
	ctx := context.Background()
	e := newEngine(t, lake, &Options{RetentionDays: 30, MaxConcurrentPerTenant: 1, NoQueue: true, BatchRows: 1})
	q := mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'acme' AND dt = '2026-11-20'")
	first, err := e.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Next() { // the query is running, blocked on its consumer
		t.Fatal(first.Err())
	}
	if _, err := e.Query(ctx, q); !errors.Is(err, loglake.ErrTooManyQueries) {
		t.Fatalf("second query: err = %v, want ErrTooManyQueries", err)
	}
	// Another tenant is not held up; a query over both tenants is.
	other, err := e.Query(ctx, mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'other'"))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := e.Query(ctx, mustParse(t, "SELECT i FROM logs WHERE tenant_id IN ('other', 'acme')")); !errors.Is(err, loglake.ErrTooManyQueries) {
		t.Fatalf("two tenants: err = %v", err)
	}
	// A queued query waits until its ctx ends.
	eq := newEngine(t, lake, &Options{RetentionDays: 30, MaxConcurrentPerTenant: 1, BatchRows: 1})
	held, err := eq.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	held.Next()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := eq.Query(short, q); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued query: err = %v, want DeadlineExceeded", err)
	}
	// Once the first closes, the slot is free.
	held.Close()
	first.Close()
	for _, eng := range []*Engine{e, eq} {
		r, err := eng.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for r.Next() {
			n += int(r.RecordBatch().NumRows())
		}
		if err := r.Close(); err != nil || n != 200 {
			t.Fatalf("after release: %d rows, %v", n, err)
		}
	}
}

func TestResultAndPatternLimits(t *testing.T) {
	lake, _ := limitLake(t)
	e := newEngine(t, lake, &Options{RetentionDays: 30, MaxResultRows: 50, MaxPatternLen: 8})
	for _, sql := range []string{
		"SELECT i FROM logs WHERE tenant_id = 'acme'",
		"SELECT i FROM logs WHERE tenant_id = 'acme' ORDER BY i",
		"SELECT i, count(*) FROM logs WHERE tenant_id = 'acme' GROUP BY i",
	} {
		_, _, err := collect(t, e, mustParse(t, sql))
		var le *LimitError
		if !errors.Is(err, ErrTooManyRows) || !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want ErrTooManyRows", sql, err)
		}
	}
	for _, sql := range []string{
		"SELECT i FROM logs WHERE tenant_id = 'acme' LIMIT 50",
		"SELECT i FROM logs WHERE tenant_id = 'acme' ORDER BY i DESC LIMIT 10",
		"SELECT i FROM logs WHERE tenant_id = 'acme' ORDER BY timestamp DESC LIMIT 10",
	} {
		got, _, err := collect(t, e, mustParse(t, sql))
		if err != nil || (len(got) != 50 && len(got) != 10) {
			t.Errorf("%s: %d rows, %v", sql, len(got), err)
		}
	}
	_, _, err := collect(t, e, mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'acme' AND msg LIKE '%xxxxxxxx%'"))
	if !errors.Is(err, ErrPatternTooLong) {
		t.Errorf("long pattern: err = %v", err)
	}
}

func TestDeadline(t *testing.T) {
	lake, fb := limitLake(t)
	// Every read takes long; the query must end with its ctx.
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpRead}, KeyContains: "tenant_id=acme/", Delay: time.Hour, DelayOnly: true})
	e := newEngine(t, lake, &Options{RetentionDays: 30})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rows, err := e.Query(ctx, mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'acme'"))
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestOrderByTimestampStopsEarly(t *testing.T) {
	lake, _ := limitLake(t)
	e := newEngine(t, lake, &Options{RetentionDays: 30, Parallelism: 1})
	got, st, err := collect(t, e, mustParse(t, "SELECT timestamp, i FROM logs WHERE tenant_id = 'acme' ORDER BY timestamp DESC LIMIT 5"))
	if err != nil || len(got) != 5 {
		t.Fatalf("%v, %v", got, err)
	}
	if ts := got[0][TimeColumn].(time.Time); !ts.Equal(time.Date(2026, 11, 20, 23, 59, 0, 0, time.UTC)) {
		t.Fatalf("first row %v", got[0])
	}
	// Newest day first; once it gave 5 rows no older day can: at most the
	// partitions already in flight are read.
	if st.PartitionsRead >= 3 {
		t.Fatalf("read %d partitions: %v", st.PartitionsRead, st)
	}
}

func TestEngineLifecycle(t *testing.T) {
	lake, _ := limitLake(t)
	if _, err := New(lake, &Options{Parallelism: -1, MaxBytesScanned: -5, MaxPatternLen: 1 << 20}); !errors.Is(err, loglake.ErrInvalidOptions) ||
		!strings.Contains(err.Error(), "Parallelism") || !strings.Contains(err.Error(), "MaxBytesScanned") || !strings.Contains(err.Error(), "MaxPatternLen") {
		t.Fatalf("err = %v", err)
	}
	e, err := New(lake, &Options{RetentionDays: 30, Now: func() time.Time { return testNow }, BatchRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.Query(context.Background(), mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'acme'"))
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if err := e.Close(); err != nil { // cancels the running query
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("running query after Close: %v", err)
	}
	rows.Close()
	if err := e.Close(); !errors.Is(err, loglake.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Query(context.Background(), mustParse(t, "SELECT i FROM logs WHERE tenant_id = 'acme'")); !errors.Is(err, loglake.ErrClosed) {
		t.Fatalf("Query after Close: %v", err)
	}
}
