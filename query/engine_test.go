package query

import (
	"testing"

	"github.com/loglake/loglake"
)

func TestEngineSmoke(t *testing.T) {
	lake := memLake(t)
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 20)}
	putRaw(t, lake, p, "w1-1", [][]byte{
		[]byte(`{"timestamp":"2026-11-20T10:00:00Z","file_path":"C:\\社外秘\\a.docx","size":10}`),
		[]byte(`{"timestamp":"2026-11-20T11:00:00Z","file_path":"C:\\public\\b.docx","size":20}`),
	}, loglake.CompressionZstd)
	e := newEngine(t, lake, nil)
	q := mustParse(t, "SELECT timestamp, file_path, size FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%'")
	got, st, err := collect(t, e, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw: %v %v", got, st)
	if len(got) != 1 {
		t.Fatalf("got %d rows", len(got))
	}
	compactAll(t, lake, p)
	got, st, err = collect(t, e, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parquet: %v %v", got, st)
	if len(got) != 1 {
		t.Fatalf("got %d rows", len(got))
	}
	got, st, err = collect(t, e, mustParse(t, "SELECT count(*), sum(size) FROM logs WHERE tenant_id = 'acme'"))
	t.Logf("agg: %v %v %v", got, st, err)
	got, st, err = collect(t, e, mustParse(t, "SELECT * FROM logs WHERE tenant_id = 'acme' ORDER BY timestamp DESC LIMIT 1"))
	t.Logf("star: %v %v %v", got, st, err)
}
