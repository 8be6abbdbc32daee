package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loglake/loglake"
)

func TestCompactAndExpireCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	today := lake.Today()
	for _, p := range []loglake.Partition{
		{Tenant: "a", Day: today.AddDays(-1)},
		{Tenant: "b", Day: today.AddDays(-3000)},
	} {
		line := `{"tenant_id":"` + p.Tenant + `","timestamp":"` + p.Day.String() + `T01:02:03Z","msg":"hi"}` + "\n"
		if err := lake.WriteAll(ctx, p.Prefix(loglake.AreaRaw)+"w-1.ndjson", []byte(line), nil); err != nil {
			t.Fatal(err)
		}
	}
	lake.Close()

	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	if code := run(ctx, e, []string{"compact", "--lake", dir, "--concurrency", "2"}); code != 0 {
		t.Fatalf("compact: exit %d: %s", code, errOut.String())
	}
	if s := errOut.String(); !strings.Contains(s, "tenant_id=a/dt=") || !strings.Contains(s, "compacted 2,") {
		t.Fatalf("progress and summary:\n%s", s)
	}
	out.Reset()
	errOut.Reset()
	if code := run(ctx, e, []string{"expire", "--lake", dir, "--keep-days", "1825", "--dry-run"}); code != 0 {
		t.Fatalf("expire: exit %d: %s", code, errOut.String())
	}
	if s := out.String(); !strings.Contains(s, "would delete tenant_id=b/") || strings.Contains(s, "tenant_id=a/") {
		t.Fatalf("dry run:\n%s", s)
	}
	out.Reset()
	if code := run(ctx, e, []string{"expire", "--lake", dir, "--keep-days", "1825"}); code != 0 || !strings.Contains(out.String(), "deleted tenant_id=b/") {
		t.Fatalf("expire: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if code := run(ctx, e, []string{"compact", "--lake", dir, "--day", "nope"}); code != 2 {
		t.Fatalf("bad --day: exit %d", code)
	}
	_ = time.Now
}
