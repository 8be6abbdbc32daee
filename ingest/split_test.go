package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

var t0 = context.Background()

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// ingestResult is what a test input became: raw lines by partition key,
// dead letters' data by reason.
type ingestResult struct {
	Raw  map[string][]string
	Dead map[string][]string
}

func ingestAll(t *testing.T, lake *loglake.Lake, opts Options, inputs ...string) ingestResult {
	t.Helper()
	ctx := context.Background()
	opts.now = func() time.Time { return testNow }
	in, err := New(lake, &opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range inputs {
		if err := in.Add(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res := ingestResult{Raw: map[string][]string{}, Dead: map[string][]string{}}
	for _, o := range readArea(t, lake.Bucket(), "raw/") {
		k, err := loglake.ParseObjectKey(o.Key)
		if err != nil {
			t.Fatal(err)
		}
		res.Raw[k.Partition.Key()] = append(res.Raw[k.Partition.Key()], o.Lines...)
	}
	for _, o := range readArea(t, lake.Bucket(), "errors/") {
		reason := strings.Split(o.Key, "/")[1]
		for _, line := range o.Lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("dead letter is not JSON: %s", line)
			}
			if m["reason"] != reason || m["error"] == "" {
				t.Errorf("dead letter %s in folder %s", line, reason)
			}
			data, _ := m["data"].(string)
			if m["data_encoding"] == "base64" {
				data = "base64:" + data
			}
			res.Dead[reason] = append(res.Dead[reason], data)
		}
	}
	for _, v := range res.Raw {
		sort.Strings(v)
	}
	return res
}

func TestSplit(t *testing.T) {
	const day = "tenant_id=acme/dt=2026-11-20"
	const today = "tenant_id=acme/dt=2026-11-23"
	ts := `"timestamp":"2026-11-20T10:00:00Z"`
	exact := func(limit int) string {
		// A bare record of exactly limit bytes.
		head := `{"tenant_id":"acme",` + ts + `,"pad":"`
		return head + strings.Repeat("x", limit-len(head)-2) + `"}`
	}
	huge := `{"tenant_id":"acme","log":[` + strings.Repeat(`{`+ts+`,"n":1},`, 49999) + `{` + ts + `,"n":1}]}`
	tests := []struct {
		name string
		opts Options
		in   []string
		want ingestResult
	}{
		{
			name: "envelope with carried field",
			opts: Options{CarryFields: []string{"device_id"}},
			in:   []string{`{"tenant_id":"acme","device_id":"d-1","agent":"x","log":[{` + ts + `,"a":1.50},{` + ts + `}]}`},
			want: ingestResult{Raw: map[string][]string{day: {
				`{"tenant_id":"acme","device_id":"d-1",` + ts + `,"a":1.50}`,
				`{"tenant_id":"acme","device_id":"d-1",` + ts + `}`,
			}}},
		},
		{
			name: "escaped quotes and backslashes kept byte for byte",
			in:   []string{`{"tenant_id":"acme","log":[{` + ts + `,"p":"C:\\Users\\\"q\"\\社外秘.docx","big":12345678901234567890}]}`},
			want: ingestResult{Raw: map[string][]string{day: {
				`{"tenant_id":"acme",` + ts + `,"p":"C:\\Users\\\"q\"\\社外秘.docx","big":12345678901234567890}`,
			}}},
		},
		{
			name: "unicode escapes in tenant id and fields",
			in:   []string{`{"tenant\u005fid":"\u0061cme","log":[{"timest\u0061mp":"2026-11-20T10:00:00Z","s":"\u00e9\ud83d\ude00"}]}`},
			want: ingestResult{Raw: map[string][]string{day: {
				`{"tenant_id":"acme","timest\u0061mp":"2026-11-20T10:00:00Z","s":"\u00e9\ud83d\ude00"}`,
			}}},
		},
		{
			name: "nested arrays and objects, empty record",
			in:   []string{`{"tenant_id":"acme","log":[{` + ts + `,"n":{"log":[1,[2,{"x":[]}]]}},{}]}`},
			want: ingestResult{Raw: map[string][]string{
				day:   {`{"tenant_id":"acme",` + ts + `,"n":{"log":[1,[2,{"x":[]}]]}}`},
				today: {`{"tenant_id":"acme"}`},
			}},
		},
		{
			name: "empty log",
			in:   []string{`{"tenant_id":"acme","log":[]}`},
			want: ingestResult{},
		},
		{
			name: "log not an array",
			in:   []string{`{"tenant_id":"acme","log":{"a":1}}`, `{"tenant_id":"acme","log":"text"}`},
			want: ingestResult{Dead: map[string][]string{"log_not_array": {`{"tenant_id":"acme","log":{"a":1}}`, `{"tenant_id":"acme","log":"text"}`}}},
		},
		{
			name: "duplicate keys",
			in: []string{
				`{"tenant_id":"acme","tenant_id":"evil","log":[{` + ts + `}]}`,
				`{"tenant_id":"acme","log":[{` + ts + `,"tenant_id":"evil"}]}`,
				`{"tenant_id":"acme","tenant_id":"acme","log":[{` + ts + `,"tenant_id":"acme","k":1,"k":2}]}`,
			},
			want: ingestResult{
				Raw: map[string][]string{day: {`{` + ts + `,"tenant_id":"acme","k":1,"k":2}`}},
				Dead: map[string][]string{
					"duplicate_key":   {`{"tenant_id":"acme","tenant_id":"evil","log":[{` + ts + `}]}`},
					"tenant_conflict": {`{` + ts + `,"tenant_id":"evil"}`},
				},
			},
		},
		{
			name: "record keeps its own carried field",
			opts: Options{CarryFields: []string{"device_id", "site"}},
			in:   []string{`{"tenant_id":"acme","device_id":"d-1","site":"s","log":[{"device_id":"own",` + ts + `}]}`},
			want: ingestResult{Raw: map[string][]string{day: {`{"tenant_id":"acme","site":"s","device_id":"own",` + ts + `}`}}},
		},
		{
			name: "bad records do not fail their neighbours",
			in: []string{
				"{\"tenant_id\":\"acme\",\"log\":[{" + ts + ",\"a\":\"\xff\"},7,{" + ts + ",\"ok\":1}]}\n" +
					`{"tenant_id":"acme","log":[{"x":1}` + "\n" +
					`{"log":[{"x":1}]}` + "\n" +
					`{"tenant_id":"../evil","log":[{"x":1}]}` + "\n" +
					`{"tenant_id":5,"log":[]}` + "\n" +
					`[1,2]` + "\n" +
					`{"tenant_id":"acme",` + ts + `,"bare":true}`,
			},
			want: ingestResult{
				Raw: map[string][]string{day: {`{"tenant_id":"acme",` + ts + `,"bare":true}`, `{"tenant_id":"acme",` + ts + `,"ok":1}`}},
				Dead: map[string][]string{
					"invalid_utf8":   {"base64:" + "eyJ0aW1lc3RhbXAiOiIyMDI2LTExLTIwVDEwOjAwOjAwWiIsImEiOiL/In0="},
					"not_object":     {"7", "[1,2]"},
					"malformed_json": {`{"tenant_id":"acme","log":[{"x":1}`},
					"missing_tenant": {`{"log":[{"x":1}]}`},
					"invalid_tenant": {`{"tenant_id":"../evil","log":[{"x":1}]}`, `{"tenant_id":5,"log":[]}`},
				},
			},
		},
		{
			name: "pretty-printed envelope becomes single lines",
			in:   []string{"{\n  \"tenant_id\": \"acme\",\n  \"log\": [\n    {\n      " + ts + ",\n      \"a\": 1\n    }\n  ]\n}\n"},
			want: ingestResult{Raw: map[string][]string{day: {`{"tenant_id":"acme",       ` + ts + `,       "a": 1     }`}}},
		},
		{
			name: "timestamps in every format and zone",
			in: []string{`{"tenant_id":"acme","log":[` +
				`{"timestamp":"2026-11-20T23:30:00-01:00"},` +
				`{"timestamp":1763596800},` +
				`{"timestamp":1763596800000},` +
				`{"timestamp":"yesterday"}]}`},
			want: ingestResult{Raw: map[string][]string{
				"tenant_id=acme/dt=2026-11-21": {`{"tenant_id":"acme","timestamp":"2026-11-20T23:30:00-01:00"}`},
				"tenant_id=acme/dt=2025-11-20": {`{"tenant_id":"acme","timestamp":1763596800000}`, `{"tenant_id":"acme","timestamp":1763596800}`},
				today:                          {`{"tenant_id":"acme","timestamp":"yesterday"}`},
			}},
		},
		{
			name: "missing time to dead letters",
			opts: Options{MissingTime: DeadLetter},
			in:   []string{`{"tenant_id":"acme","log":[{"a":1},{"timestamp":"soon"},{` + ts + `}]}`},
			want: ingestResult{
				Raw:  map[string][]string{day: {`{"tenant_id":"acme",` + ts + `}`}},
				Dead: map[string][]string{"missing_timestamp": {`{"a":1}`}, "invalid_timestamp": {`{"timestamp":"soon"}`}},
			},
		},
		{
			name: "records at exactly the size limit",
			opts: Options{MaxRecordBytes: 200},
			in:   []string{exact(200), exact(201), `{"tenant_id":"acme","log":[{` + ts + `,"pad":"` + strings.Repeat("y", 200-len(`{"tenant_id":"acme",`+ts+`,"pad":""}`)) + `"}]}`},
			want: ingestResult{
				Raw: map[string][]string{day: {
					exact(200),
					`{"tenant_id":"acme",` + ts + `,"pad":"` + strings.Repeat("y", 200-len(`{"tenant_id":"acme",`+ts+`,"pad":""}`)) + `"}`,
				}},
				Dead: map[string][]string{"too_large": {exact(201)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lake, _ := newTestLake(t)
			got := ingestAll(t, lake, tc.opts, tc.in...)
			if tc.want.Raw == nil {
				tc.want.Raw = map[string][]string{}
			}
			if tc.want.Dead == nil {
				tc.want.Dead = map[string][]string{}
			}
			for _, v := range tc.want.Raw {
				sort.Strings(v)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("huge envelope", func(t *testing.T) {
		lake, _ := newTestLake(t)
		got := ingestAll(t, lake, Options{BufferBytes: 256 << 10}, huge)
		if n := len(got.Raw[day]); n != 50000 {
			t.Errorf("got %d records, want 50000", n)
		}
		objs := readArea(t, lake.Bucket(), "raw/")
		if len(objs) < 4 {
			t.Errorf("got %d objects, want several of at most BufferBytes", len(objs))
		}
	})
	t.Run("time zone", func(t *testing.T) {
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		if err != nil {
			t.Skip(err)
		}
		lake, _ := newTestLake(t, loglake.WithTimeZone(tokyo))
		got := ingestAll(t, lake, Options{}, `{"tenant_id":"acme","log":[{"timestamp":"2026-11-20T15:00:00Z"},{"timestamp":"2026-11-20T14:59:59Z"}]}`)
		want := map[string][]string{
			"tenant_id=acme/dt=2026-11-21": {`{"tenant_id":"acme","timestamp":"2026-11-20T15:00:00Z"}`},
			"tenant_id=acme/dt=2026-11-20": {`{"tenant_id":"acme","timestamp":"2026-11-20T14:59:59Z"}`},
		}
		if diff := cmp.Diff(want, got.Raw); diff != "" {
			t.Error(diff)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	lake, _ := newTestLake(t)
	_, err := New(lake, &Options{
		BufferBytes:    -1,
		BufferInterval: time.Hour,
		Policy:         Policy(9),
		CarryFields:    []string{"tenant_id", "a\"b", "x", "x"},
		WriterID:       "no/slash",
		Compression:    "lz4",
		ZstdLevel:      5,
	})
	if !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Fatalf("got %v, want ErrInvalidOptions", err)
	}
	for _, want := range []string{"BufferBytes -1", "BufferInterval 1h0m0s", "Policy Policy(9)", `CarryFields "tenant_id"`, `CarryFields "a\"b"`, `CarryFields "x": named twice`, `WriterID "no/slash"`, `Compression "lz4"`, "ZstdLevel 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	opts := Options{CarryFields: []string{"device_id"}}
	in, err := New(lake, &opts)
	if err != nil {
		t.Fatal(err)
	}
	in.Close(t0)
	if opts.BufferBytes != 0 || opts.LogField != "" {
		t.Error("New changed the caller's options")
	}
	if _, err := New(nil, &Options{}); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("nil lake: %v", err)
	}
}

func TestCompressions(t *testing.T) {
	for _, c := range []loglake.Compression{loglake.CompressionZstd, loglake.CompressionGzip, loglake.CompressionNone} {
		t.Run(string(c), func(t *testing.T) {
			lake, _ := newTestLake(t)
			got := ingestAll(t, lake, Options{Compression: c}, `{"tenant_id":"acme","timestamp":"2026-11-20T10:00:00Z","n":1}`, `{"tenant_id":"../x"}`)
			if len(got.Raw["tenant_id=acme/dt=2026-11-20"]) != 1 || len(got.Dead["invalid_tenant"]) != 1 {
				t.Fatalf("got %+v", got)
			}
			for _, o := range readArea(t, lake.Bucket(), "") {
				if !strings.HasSuffix(o.Key, c.Ext()) {
					t.Errorf("key %s does not end in %s", o.Key, c.Ext())
				}
			}
		})
	}
	// The lake's setting is the default.
	lake, _ := newTestLake(t, loglake.WithRawCompression(loglake.CompressionGzip))
	ingestAll(t, lake, Options{}, `{"tenant_id":"acme","timestamp":1}`)
	for _, o := range readArea(t, lake.Bucket(), "raw/") {
		if !strings.HasSuffix(o.Key, ".ndjson.gz") {
			t.Errorf("key %s: want the lake's gzip", o.Key)
		}
	}
}

// TestZstdLevel ingests the same records at each zstd level: every level
// reads back the same records, and a higher level writes fewer bytes.
func TestZstdLevel(t *testing.T) {
	g := gen.New(gen.Config{Tenants: 2, Days: 2, Seed: 3})
	input, _ := g.AppendNDJSON(nil, 5000)
	var want map[string][]string
	prev := int64(-1)
	for lv := 1; lv <= 4; lv++ {
		lake, _ := newTestLake(t)
		got := ingestAll(t, lake, Options{ZstdLevel: lv}, string(input))
		for _, lines := range got.Raw {
			slices.Sort(lines)
		}
		if lv == 1 {
			want = got.Raw
		} else if diff := cmp.Diff(want, got.Raw); diff != "" {
			t.Fatalf("level %d reads back other records than level 1:\n%s", lv, diff)
		}
		var size int64
		it := lake.Bucket().List(&blob.ListOptions{Prefix: "raw/"})
		for {
			o, err := it.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			size += o.Size
		}
		t.Logf("level %d: %d bytes", lv, size)
		if prev >= 0 && size >= prev {
			t.Errorf("level %d wrote %d bytes, level %d %d: want fewer", lv, size, lv-1, prev)
		}
		prev = size
	}
}
