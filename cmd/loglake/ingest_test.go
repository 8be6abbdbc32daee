package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loglake/loglake/internal/gen"
)

func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	g := gen.New(gen.Config{Tenants: 3, Days: 2})
	data, n := g.AppendNDJSON(nil, 2000)
	data = append(data, "not json\n"...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	file := filepath.Join(dir, "in.ndjson.gz")
	if err := os.WriteFile(file, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(dir, "lake")
	var out, errOut bytes.Buffer
	stdin := strings.NewReader(`{"tenant_id":"stdin","timestamp":"2026-11-20T00:00:00Z","m":1}` + "\n")
	code := run(context.Background(), &env{stdin: stdin, stdout: &out, stderr: &errOut},
		[]string{"ingest", "--lake", lakeDir, "--tz", "Asia/Tokyo", "--carry", "device_id", "--json", file, "-"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var sum ingestSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
	}
	if sum.Records != int64(n)+1 || sum.DeadLettered != 1 || sum.Partitions < 4 || sum.Objects == 0 || sum.Bytes == 0 {
		t.Errorf("summary %+v; want %d records, 1 dead letter", sum, n+1)
	}
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut},
		[]string{"ingest", "--lake", lakeDir, "--tz", "UTC", file})
	if code != 1 || !strings.Contains(errOut.String(), "time_zone") {
		t.Errorf("a --tz that conflicts with the lake: exit %d, %s", code, errOut.String())
	}
	if code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, []string{"ingest"}); code != 2 {
		t.Errorf("no --lake: exit %d, want 2", code)
	}
}
