package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/s3test"
	"gocloud.dev/pubsub"
)

// rawLake writes one raw object per partition of tenants × days (before
// today) into the lake at urlstr and returns the partitions.
func rawLake(t *testing.T, urlstr string, tenants, days int) []loglake.Partition {
	t.Helper()
	ctx := context.Background()
	lake, err := loglake.Open(ctx, urlstr)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	var out []loglake.Partition
	for ti := range tenants {
		for di := range days {
			p := loglake.Partition{Tenant: fmt.Sprintf("t%d", ti), Day: lake.Today().AddDays(-1 - di)}
			line := `{"tenant_id":"` + p.Tenant + `","timestamp":"` + p.Day.String() + `T01:02:03Z","msg":"hi"}` + "\n"
			if err := lake.WriteAll(ctx, p.Prefix(loglake.AreaRaw)+"w-1.ndjson", []byte(line), nil); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

// checkCompacted asserts that every partition's raw data is compacted.
func checkCompacted(t *testing.T, urlstr string, parts []loglake.Partition) {
	t.Helper()
	ctx := context.Background()
	lake, err := loglake.Open(ctx, urlstr, loglake.WithMustExist())
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	for _, p := range parts {
		v, err := compact.Snapshot(ctx, lake, p)
		if err != nil || v.Generation == 0 || len(v.Raw) != 0 {
			t.Errorf("%s: generation %d, %d raw objects uncovered, %v", p, v.Generation, len(v.Raw), err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a command.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDispatchAndWorkerCommands: compact --dispatch publishes a message per
// partition; worker compacts them and acks.
func TestDispatchAndWorkerCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	parts := rawLake(t, dir, 2, 2)
	const topicURL = "mem://loglake-cli-worker-test"
	topic, err := pubsub.OpenTopic(ctx, topicURL) // mempubsub: a subscription needs its topic
	if err != nil {
		t.Fatal(err)
	}
	defer topic.Shutdown(ctx)

	subscribed := make(chan struct{})
	workerSubscribed = func() { close(subscribed) }
	defer func() { workerSubscribed = func() {} }()
	var wout, werr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: &wout, stderr: &werr},
			[]string{"worker", "--lake", dir, "--subscription", topicURL, "--concurrency", "2", "--max-messages", fmt.Sprint(len(parts))})
	}()
	select {
	case <-subscribed:
	case code := <-done:
		t.Fatalf("worker exited %d before subscribing: %s", code, werr.String())
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut},
		[]string{"compact", "--lake", dir, "--dispatch", topicURL}); code != 0 {
		t.Fatalf("compact --dispatch: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), fmt.Sprintf("dispatched %d partitions", len(parts))) {
		t.Errorf("dispatch output:\n%s", errOut.String())
	}
	if code := <-done; code != 0 {
		t.Fatalf("worker: exit %d: %s", code, werr.String())
	}
	if s := werr.String(); strings.Count(s, "compacted") != len(parts) || !strings.Contains(s, fmt.Sprintf("acked %d,", len(parts))) {
		t.Errorf("worker output:\n%s", s)
	}
	checkCompacted(t, dir, parts)

	for _, args := range [][]string{
		{"worker", "--lake", dir},
		{"worker", "--subscription", topicURL},
		{"worker", "--lake", dir, "--subscription", topicURL, "--no-leases", "--lease-ttl", "1m"},
		{"compact", "--lake", dir, "--no-leases", "--lease-ttl", "1m"},
	} {
		if code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestCompactCommandsShareLake: two compact commands at once on one lake
// split its partitions; each partition is compacted once.
func TestCompactCommandsShareLake(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	parts := rawLake(t, dir, 3, 3)
	var wg sync.WaitGroup
	errs := make([]*syncBuffer, 2)
	for i := range errs {
		errs[i] = &syncBuffer{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: errs[i]},
				[]string{"compact", "--lake", dir, "--lease-ttl", "10s"}); code != 0 {
				t.Errorf("compact %d: exit %d: %s", i, code, errs[i].String())
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, e := range errs {
		var n int
		s := e.String()
		i := strings.LastIndex(s, "compacted ")
		if i < 0 {
			t.Fatalf("no summary:\n%s", s)
		}
		fmt.Sscanf(s[i:], "compacted %d,", &n)
		total += n
	}
	if total != len(parts) {
		t.Errorf("%d compactions of %d partitions:\n%s\n%s", total, len(parts), errs[0].String(), errs[1].String())
	}
	checkCompacted(t, dir, parts)
}

// TestCommandsOnS3 runs ingest, compact and query against the S3 server of
// LOGLAKE_TEST_S3_URL, with credentials from the usual AWS environment
// variables, under a fresh prefix.
func TestCommandsOnS3(t *testing.T) {
	ctx := context.Background()
	u := s3test.URL(t)
	if err := s3test.EnsureBucket(ctx, u); err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	q := pu.Query()
	q.Set("prefix", "cli-"+hex.EncodeToString(rnd[:])+"/")
	pu.RawQuery = q.Encode()
	lakeURL := pu.String()
	t.Cleanup(func() {
		lake, err := loglake.Open(ctx, lakeURL)
		if err != nil {
			return
		}
		defer lake.Close()
		for obj, err := range lake.List(ctx, "", "") {
			if err != nil {
				return
			}
			lake.Delete(ctx, obj.Key)
		}
	})

	in := filepath.Join(t.TempDir(), "in.ndjson")
	var buf bytes.Buffer
	for i := range 30 {
		fmt.Fprintf(&buf, `{"tenant_id":"acme","log":[{"timestamp":"2026-01-0%dT01:00:00Z","file_path":"C:\\社外秘\\%d.txt"},{"timestamp":"2026-01-0%dT02:00:00Z","file_path":"C:\\b.txt"}]}`+"\n", 1+i%3, i, 1+i%3)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ingest", "--lake", lakeURL, in},
		{"compact", "--lake", lakeURL},
	} {
		var out, errOut bytes.Buffer
		if code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args); code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	sql := "SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%'"
	if code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, []string{"query", "--lake", lakeURL, "--format", "csv", sql}); code != 0 {
		t.Fatalf("query: exit %d: %s", code, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); !strings.HasSuffix(got, "\n30") {
		t.Errorf("query output %q, want a count of 30", got)
	}
}
