package query

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/rawcodec"
	"github.com/loglake/loglake/projection"
)

// firehosePrefix is the prefix expression of the test's Firehose stream.
const firehosePrefix = "logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"

// firehoseWorld is a bucket as Firehose with dynamic partitioning leaves
// it: logs/<tenant>/<yyyy>/<MM>/<dd>/<name>[.gz], each object envelopes
// (and a few bare records) one after another, with or without newlines
// between them, plus malformed values. recs are the records as a query
// must read them.
type firehoseWorld struct {
	bucket  *blob.Bucket
	fb      *faultblob.Bucket
	recs    []record
	dropped int64 // values a full scan must skip

	mu      sync.Mutex
	touched []faultblob.Op
}

func newFirehoseWorld(t *testing.T, seed uint64) *firehoseWorld {
	t.Helper()
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	t.Cleanup(func() { inner.Close() })
	w := &firehoseWorld{fb: faultblob.New(inner)}
	w.bucket = w.fb.Bucket()
	t.Cleanup(func() { w.bucket.Close() })
	r := rand.New(rand.NewPCG(seed, 11))
	seq := int64(0)
	words := []string{"社外秘", "report", "C:\\Users\\a", "x/y", "社外", "秘密"}
	for _, tenant := range []string{"acme", "beta", "acme2"} {
		for dd := 18; dd <= 20; dd++ {
			day := loglake.NewDay(2026, 11, dd)
			for obj := range 3 {
				var body []byte
				for range 2 + r.IntN(6) {
					dev := fmt.Sprintf("d-%d", r.IntN(5))
					if r.IntN(8) == 0 { // a bare record
						ts := day.Start(time.UTC).Add(time.Duration(r.IntN(86400)) * time.Second)
						rec := record{TenantColumn: tenant, DayColumn: day.String(), "seq": seq, TimeColumn: ts,
							"file_path": words[r.IntN(len(words))]}
						body = fmt.Appendf(body, `{"seq":%d,"timestamp":%q,"file_path":%q}`, seq, ts.Format(time.RFC3339), rec["file_path"])
						seq++
						w.recs = append(w.recs, rec)
					} else {
						body = fmt.Appendf(body, `{"tenant_id":%q,"device_id":%q,"log":[`, tenant, dev)
						for k := range 1 + r.IntN(5) {
							if k > 0 {
								body = append(body, ',')
							}
							// Late uploads: the event may be a day before the
							// arrival day, which is the partition's.
							ts := day.Start(time.UTC).Add(time.Duration(r.IntN(2*86400)-86400) * time.Second)
							path := words[r.IntN(len(words))] + fmt.Sprint(r.IntN(3))
							rec := record{TenantColumn: tenant, DayColumn: day.String(), "seq": seq, TimeColumn: ts,
								"file_path": path, "device_id": dev}
							if r.IntN(6) == 0 { // its own device_id wins over the envelope's
								rec["device_id"] = "own"
								body = fmt.Appendf(body, `{"device_id":"own","seq":%d,"timestamp":%q,"file_path":%q}`, seq, ts.Format(time.RFC3339), path)
							} else {
								body = fmt.Appendf(body, `{"seq":%d,"timestamp":%q,"file_path":%q}`, seq, ts.Format(time.RFC3339), path)
							}
							seq++
							w.recs = append(w.recs, rec)
						}
						body = append(body, "]}"...)
					}
					switch r.IntN(10) {
					case 0: // malformed, then a newline: skipped up to it
						body = append(body, `{"tenant_id":"x","log":[{"a":}]}`+"\n"...)
						w.dropped++
					case 1: // not an object
						body = append(body, `[1,2]`...)
						w.dropped++
					}
					if obj != 1 { // Firehose's default: no separator at all
						body = append(body, '\n')
					}
				}
				name := fmt.Sprintf("logs/%s/2026/11/%02d/stream-1-2026-11-%02d-%d", tenant, dd, dd, obj)
				data := body
				switch obj {
				case 0:
					var b bytes.Buffer
					zw := gzip.NewWriter(&b)
					zw.Write(body)
					zw.Close()
					data, name = b.Bytes(), name+".gz"
				case 2:
					var err error
					if data, err = rawcodec.AppendEncoded(nil, body, loglake.CompressionZstd); err != nil {
						t.Fatal(err)
					}
					// No extension: the content tells.
				}
				if err := inner.WriteAll(ctx, name, data, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Something beside the partitions that no query may touch.
	if err := inner.WriteAll(ctx, "logs/other-file", []byte(`{"seq":-1}`), nil); err != nil {
		t.Fatal(err)
	}
	w.fb.SetHook(func(_ context.Context, op faultblob.Op) error {
		w.mu.Lock()
		w.touched = append(w.touched, op)
		w.mu.Unlock()
		return nil
	})
	return w
}

func (w *firehoseWorld) ops() []faultblob.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.touched
	w.touched = nil
	return out
}

func firehoseLayout(t testing.TB, date bool) ForeignLayout {
	t.Helper()
	fo := &projection.FirehoseOptions{Now: func() time.Time { return testNow }}
	if date {
		fo.DateColumn = "dt"
	}
	c, err := projection.FromFirehosePrefix("", firehosePrefix, fo)
	if err != nil {
		t.Fatal(err)
	}
	return ForeignLayout{Projection: c, CarryFields: []string{"device_id"}}
}

func newForeignEngine(t testing.TB, b *blob.Bucket, l ForeignLayout, o *Options) *Engine {
	t.Helper()
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	e, err := NewForeign(b, l, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestForeignFirehose(t *testing.T) {
	w := newFirehoseWorld(t, 1)
	for _, date := range []bool{false, true} {
		t.Run(fmt.Sprintf("date=%v", date), func(t *testing.T) {
			e := newForeignEngine(t, w.bucket, firehoseLayout(t, date), &Options{Parallelism: 3})
			for _, sql := range []string{
				`SELECT * FROM logs WHERE tenant_id = 'acme'`,
				`SELECT seq, file_path, device_id FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%'`,
				`SELECT count(*) FROM logs WHERE tenant_id IN ('acme', 'beta') AND file_path LIKE '%社外%'`,
				`SELECT seq, timestamp, dt FROM logs WHERE tenant_id = 'beta' AND dt = '2026-11-19' AND file_path LIKE 'C:\Users%'`,
				`SELECT seq FROM logs WHERE tenant_id = 'acme2' AND device_id = 'own' ORDER BY seq DESC LIMIT 3`,
				`SELECT device_id, count(*) FROM logs WHERE tenant_id = 'acme' AND dt BETWEEN '2026-11-19' AND '2026-11-20' GROUP BY device_id`,
				`SELECT seq FROM logs WHERE tenant_id = 'acme' AND timestamp >= TIMESTAMP '2026-11-19 06:00' AND timestamp < TIMESTAMP '2026-11-19 07:00'`,
			} {
				q := mustParse(t, sql)
				got, st, err := collect(t, e, q)
				if err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
				want, err := refEval(q, w.recs)
				if err != nil {
					t.Fatal(err)
				}
				gotCols, gotRows := recordRows(got)
				if len(q.Items) > 0 {
					gotCols, gotRows = want.Columns, nil
					for _, r := range got {
						row := make([]any, len(want.Columns))
						for i, c := range want.Columns {
							row[i] = normValue(r[c])
						}
						gotRows = append(gotRows, row)
					}
				}
				if diff := cmp.Diff(canon(want.Columns, want.Rows), canon(gotCols, gotRows)); diff != "" {
					t.Errorf("%s (-reference +engine):\n%s", sql, diff)
				}
				if len(want.Rows) == 0 && !strings.Contains(sql, "count") {
					t.Errorf("%s: the reference matched nothing; the case tests little", sql)
				}
				for _, op := range w.ops() {
					if !strings.HasPrefix(op.Key, "logs/acme/") && !strings.HasPrefix(op.Key, "logs/beta/") && !strings.HasPrefix(op.Key, "logs/acme2/") {
						t.Errorf("%s: touched %v %q outside the partitions", sql, op.Kind, op.Key)
					}
					if !strings.HasSuffix(op.Key, "/") && op.Kind == faultblob.OpList {
						t.Errorf("%s: listed %q, not a partition location", sql, op.Key)
					}
				}
				if strings.HasPrefix(sql, "SELECT * FROM logs WHERE tenant_id = 'acme'") && st.ValuesDropped == 0 {
					t.Errorf("%s: no value dropped: %v", sql, st)
				}
			}
		})
	}
}

// TestForeignMaxDelay: with arrival-time partitions, a timestamp range
// selects partitions only within MaxDelay, and finds the late records.
func TestForeignMaxDelay(t *testing.T) {
	w := newFirehoseWorld(t, 3)
	l := firehoseLayout(t, false)
	l.MaxDelay = 48 * time.Hour // the world's events lie within a day of their arrival day
	e := newForeignEngine(t, w.bucket, l, nil)
	q := mustParse(t, `SELECT seq FROM logs WHERE tenant_id = 'beta' AND timestamp BETWEEN TIMESTAMP '2026-11-17 22:00' AND TIMESTAMP '2026-11-18 02:00'`)
	got, st, err := collect(t, e, q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := refEval(q, w.recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Rows) || len(got) == 0 {
		t.Errorf("%d rows, want %d (> 0)", len(got), len(want.Rows))
	}
	// 2026-11-15 .. 2026-11-20 (NOW is 2026-11-21).
	if st.PartitionsConsidered != 6 {
		t.Errorf("%d partitions considered, want 6", st.PartitionsConsidered)
	}
}

// TestForeignTenantIsolation: a query scoped to acme reads only acme's
// locations — not those of acme2, whose location acme's is a textual
// prefix of without the trailing slash — and unscoped queries fail.
func TestForeignTenantIsolation(t *testing.T) {
	w := newFirehoseWorld(t, 2)
	e := newForeignEngine(t, w.bucket, firehoseLayout(t, false), nil)
	got, _, err := collect(t, e, mustParse(t, `SELECT seq FROM logs WHERE tenant_id = 'acme' AND seq >= 0`))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range w.recs {
		if r[TenantColumn] == "acme" {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("acme: %d rows, want %d", len(got), want)
	}
	for _, op := range w.ops() {
		if !strings.HasPrefix(op.Key, "logs/acme/") {
			t.Errorf("touched %v %q", op.Kind, op.Key)
		}
	}
	for _, sql := range []string{
		`SELECT * FROM logs`,
		`SELECT * FROM logs WHERE tenant_id = 'acme' OR 1 = 1`,
	} {
		if _, _, err := collect(t, e, mustParse(t, sql)); !errors.Is(err, ErrUnscopedQuery) {
			t.Errorf("%s: err = %v, want ErrUnscopedQuery", sql, err)
		}
	}
	ce := newForeignEngine(t, w.bucket, firehoseLayout(t, false), &Options{AllowCrossTenant: true})
	if _, _, err := collect(t, ce, mustParse(t, `SELECT * FROM logs`)); !errors.Is(err, ErrUnscopedQuery) {
		t.Errorf("cross-tenant over an injected tenant column: err = %v, want ErrUnscopedQuery", err)
	}
	if _, _, err := collect(t, e, mustParse(t, `SELECT * FROM logs WHERE tenant_id = '../x'`)); !errors.Is(err, loglake.ErrInvalidTenant) {
		t.Errorf("bad tenant: err = %v", err)
	}
	for _, op := range w.ops() {
		t.Errorf("a rejected query touched %v %q", op.Kind, op.Key)
	}
}

func TestNewForeignErrors(t *testing.T) {
	b := memblob.OpenBucket(nil)
	defer b.Close()
	good := firehoseLayout(t, false)
	mk := func(prefix string) *projection.Config {
		c, err := projection.FromFirehosePrefix("", prefix, &projection.FirehoseOptions{Now: func() time.Time { return testNow }, DateColumn: "d"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for name, l := range map[string]ForeignLayout{
		"nil projection":       {},
		"no trailing slash":    {Projection: mk("logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy/MM/dd}")},
		"tenant not a segment": {Projection: mk("logs/t-!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy/MM/dd}/")},
		"monthly":              {Projection: mk("logs/!{partitionKeyFromQuery:tenant_id}/!{timestamp:yyyy/MM}/")},
		"two keys":             {Projection: mk("logs/!{partitionKeyFromQuery:tenant_id}/!{partitionKeyFromQuery:kind}/!{timestamp:yyyy/MM/dd}/")},
		"carry log":            {Projection: good.Projection, CarryFields: []string{"log"}},
		"delay":                {Projection: good.Projection, MaxDelay: -time.Second},
	} {
		if _, err := NewForeign(b, l, nil); !errors.Is(err, loglake.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := NewForeign(b, good, &Options{Parallelism: -1}); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("bad options: err = %v", err)
	}
}
