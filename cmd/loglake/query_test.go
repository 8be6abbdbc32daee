package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
)

func TestQueryCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingest.New(lake, &ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := lake.Today().String()
	envelope := `{"tenant_id":"acme","log":[{"timestamp":"` + day + `T01:00:00Z","file_path":"C:\\社外秘\\a.txt"},{"timestamp":"` + day + `T02:00:00Z","file_path":"C:\\b.txt"}]}`
	if err := ing.Add(ctx, []byte(envelope)); err != nil {
		t.Fatal(err)
	}
	if err := ing.Close(ctx); err != nil {
		t.Fatal(err)
	}
	lake.Close()

	sql := "SELECT file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%'"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "--lake", dir, sql}, "file_path\nC:\\社外秘\\a.txt\n(1 rows)\n"},
		{[]string{"query", "--lake", dir, "--format", "json", sql}, `{"file_path":"C:\\社外秘\\a.txt"}` + "\n"},
		{[]string{"query", "--lake", dir, "--format", "csv", sql}, "file_path\nC:\\社外秘\\a.txt\n"},
	} {
		var out, errb bytes.Buffer
		if code := run(ctx, &env{stdout: &out, stderr: &errb}, tc.args); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errb.String())
		}
		if out.String() != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, out.String(), tc.want)
		}
	}
	var out, errb bytes.Buffer
	code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"query", "--lake", dir, "--stats", "SELECT count(*) FROM logs WHERE tenant_id = 'acme'"})
	if code != 0 || !strings.Contains(errb.String(), "stats: partitions") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"query", "--lake", dir, "SELECT * FROM logs"}); code != 1 || !strings.Contains(errb.String(), "--all-tenants") {
		t.Fatalf("unscoped: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"query", "--lake", dir, "--explain", "SELECT * FROM logs WHERE tenant_id = 'acme' AND dt = '2026-11-20'"}); code != 0 ||
		!strings.Contains(out.String(), "partitions: 1\n  tenant_id=acme/dt=2026-11-20\n") {
		t.Fatalf("explain: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"query", "--lake", dir}); code != 2 {
		t.Fatalf("no SQL: exit %d", code)
	}
}
