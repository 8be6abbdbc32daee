package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/loglake/loglake"
)

func newTestLake(t *testing.T, opts ...loglake.Option) string {
	t.Helper()
	dir := t.TempDir()
	l, err := loglake.Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runDDL(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, append([]string{"ddl"}, args...))
	return out.String(), errOut.String(), code
}

func TestDDLCommand(t *testing.T) {
	dir := newTestLake(t)
	out, errOut, code := runDDL(t, "--lake", dir, "--location", "s3://bucket/lake/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `loglake_compacted` (",
		"  `timestamp` timestamp,",
		"  `file_path` string,",
		"PARTITIONED BY (`tenant_id` string, `dt` string)",
		"STORED AS PARQUET",
		"LOCATION 's3://bucket/lake/compacted/'",
		"'projection.dt.range'='NOW-1825DAYS,NOW'",
		"'storage.location.template'='s3://bucket/lake/compacted/tenant_id=${tenant_id}/dt=${dt}/'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n  `tenant_id`") {
		t.Errorf("the tenant field must not be a data column:\n%s", out)
	}

	out, errOut, code = runDDL(t, "--lake", dir, "--location", "s3://bucket/lake", "--raw", "--table", "db.logs", "--retention-days", "30", "--columns", "ts:string,msg:string")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `db`.`logs` (\n  `ts` string,\n  `msg` string\n)",
		"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
		"LOCATION 's3://bucket/lake/raw/'",
		"'projection.dt.range'='NOW-30DAYS,NOW'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDDLCommandFollowsSettings(t *testing.T) {
	dir := newTestLake(t, loglake.WithTimestampField("event_time"))
	out, errOut, code := runDDL(t, "--lake", dir, "--location", "s3://b/l", "--raw")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "`event_time` string,") || strings.Contains(out, "`timestamp`") {
		t.Errorf("want the lake's timestamp field, as a string in the raw table:\n%s", out)
	}
}

func TestDDLCommandErrors(t *testing.T) {
	dir := newTestLake(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--location", "s3://b/l"}, 2, "--lake is required"},
		{[]string{"--lake", dir}, 2, "--location is required"},
		{[]string{"--lake", dir, "--location", "s3://b/l", "--columns", "a"}, 2, "want name:type"},
		{[]string{"--lake", dir, "--location", "s3://b/l", "--columns", "a`) LOCATION 'x':string"}, 1, "column name"},
		{[]string{"--lake", dir, "--location", "s3://b/l", "--columns", "a:int"}, 1, "want one of string, bigint"},
		{[]string{"--lake", dir, "--location", "s3://b/it's"}, 1, "quotes"},
		{[]string{"--lake", t.TempDir(), "--location", "s3://b/l"}, 1, "no lake here"},
	} {
		_, errOut, code := runDDL(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("ddl %q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestS3Root(t *testing.T) {
	for in, want := range map[string]string{
		"s3://bucket?prefix=lake/&region=us-east-1": "s3://bucket/lake",
		"s3://bucket":   "s3://bucket",
		"file:///tmp/x": "",
		"/tmp/x":        "",
		"mem://":        "",
	} {
		if got := s3Root(in); got != want {
			t.Errorf("s3Root(%q) = %q, want %q", in, got, want)
		}
	}
}
