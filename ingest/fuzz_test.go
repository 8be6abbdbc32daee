package ingest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/loglake/loglake/internal/gen"
)

// FuzzFeed checks that splitting never panics and that everything it
// produces is what the lake's readers expect: every raw line a JSON object
// with the tenant field, every dead letter a JSON object with a reason, and
// nothing lost (a value's records and dead letters are all accounted for).
func FuzzFeed(f *testing.F) {
	for _, s := range []string{
		`{"tenant_id":"acme","device_id":"d","log":[{"timestamp":"2026-11-20T00:00:00Z","a":1},{},7]}`,
		`{"tenant_id":"\u0061cme","log":[{"tenant_id":"acme","device_id":"x","timestamp":1700000000}]}` + "\n" + `{"tenant_id":"b","timestamp":1}`,
		`{"tenant_id":"a","log":{}}` + "\n" + `{"tenant_id":"a","log":[`,
		"{\"tenant_id\":\"a\",\"log\":[{\"x\":\"\xff\"}]}",
		"{\n\"tenant_id\":\"a\",\n\"log\":[\n{\"timestamp\":\"2026-11-20T00:00:00+09:00\"}\n]\n}",
	} {
		f.Add([]byte(s))
	}
	lake, _ := newTestLake(f)
	in, err := New(lake, &Options{CarryFields: []string{"device_id"}, MaxRecordBytes: 256})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { in.Close(t0) })
	f.Fuzz(func(t *testing.T, data []byte) {
		l := in.newLocal()
		in.feed(l, data, InputRef{Index: 1}, nil)
		lines := bytes.Split(bytes.TrimSuffix(l.out, []byte("\n")), []byte("\n"))
		if len(l.out) == 0 {
			lines = nil
		}
		if len(lines) != l.accepted {
			t.Fatalf("%d lines for %d records", len(lines), l.accepted)
		}
		for _, line := range lines {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("raw line is not a JSON object: %v: %q", err, line)
			}
			var tenant string
			if err := json.Unmarshal(m["tenant_id"], &tenant); err != nil || tenant == "" {
				t.Fatalf("raw line without a tenant: %q", line)
			}
			if len(line) > 256 {
				t.Fatalf("raw line of %d bytes over MaxRecordBytes", len(line))
			}
		}
		dead := bytes.Split(bytes.TrimSuffix(l.dead, []byte("\n")), []byte("\n"))
		if len(l.dead) == 0 {
			dead = nil
		}
		if len(dead) != l.deadCount {
			t.Fatalf("%d dead-letter lines for %d dead letters", len(dead), l.deadCount)
		}
		for _, line := range dead {
			var d struct{ Reason, Error, Data string }
			if err := json.Unmarshal(line, &d); err != nil || d.Reason == "" || d.Error == "" {
				t.Fatalf("bad dead letter %q: %v", line, err)
			}
		}
		if len(bytes.TrimSpace(data)) > 0 && l.accepted+l.deadCount == 0 && !bytes.Contains(data, []byte(`"log"`)) && !bytes.Contains(data, []byte(`\u`)) {
			t.Fatalf("input %q produced nothing", data)
		}
	})
}

// TestFeedAllocs holds the splitting hot path to zero allocations per
// envelope once its buffers have grown.
func TestFeedAllocs(t *testing.T) {
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{CarryFields: []string{"device_id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(t0)
	g := gen.New(gen.Config{})
	data, _ := g.AppendNDJSON(nil, 500)
	l := in.newLocal()
	in.feed(l, data, InputRef{}, nil)
	allocs := testing.AllocsPerRun(20, func() {
		l.reset()
		in.feed(l, data, InputRef{}, nil)
	})
	if allocs != 0 {
		t.Errorf("splitting allocates %.1f times per chunk, want 0", allocs)
	}
}
