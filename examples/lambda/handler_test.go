package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
	"github.com/loglake/loglake/internal/s3test"
)

const (
	testARN   = "arn:aws:kinesis:ap-northeast-1:123456789012:stream/pc-logs"
	testShard = "shardId-000000000003"
	testDay   = "2026-11-20"
)

// seqNum returns the i-th sequence number of the test shard, shaped like
// Kinesis's 56-digit numbers and increasing with i.
func seqNum(i int) string {
	return fmt.Sprintf("49590338271490256608559692538361571095921575989136%06d", i)
}

// kinesisRecord returns the event record of the i-th Kinesis record.
func kinesisRecord(i int, data []byte) events.KinesisEventRecord {
	return events.KinesisEventRecord{
		AwsRegion:      "ap-northeast-1",
		EventID:        testShard + ":" + seqNum(i),
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: testARN,
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			Data:                 data,
			PartitionKey:         "pk",
			SequenceNumber:       seqNum(i),
			KinesisSchemaVersion: "1.0",
		},
	}
}

// envelope returns an envelope of n records of tenant whose ids are
// "<i>-0", "<i>-1", …: the i-th Kinesis record's data.
func envelope(tenant string, i, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"tenant_id":%q,"device_id":"pc-%d","log":[`, tenant, i)
	for k := range n {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"timestamp":"%sT10:%02d:%02dZ","id":"%d-%d","file_path":"C:\\Users\\sato\\社外秘_%d.docx"}`, testDay, i%60, k%60, i, k, k)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// bareRecords returns NDJSON of bare records, one per tenant, with ids
// "<i>-0", "<i>-1", …
func bareRecords(i int, tenants ...string) []byte {
	var b strings.Builder
	for k, t := range tenants {
		fmt.Fprintf(&b, `{"tenant_id":%q,"timestamp":"%sT11:00:%02dZ","id":"%d-%d","log_type":"web"}`+"\n", t, testDay, k, i, k)
	}
	return []byte(b.String())
}

// ids returns the record ids of the i-th record's data made by envelope or
// bareRecords.
func ids(i, n int) []string {
	out := make([]string, n)
	for k := range n {
		out[k] = fmt.Sprintf("%d-%d", i, k)
	}
	return out
}

// harness is a lake on a fault-injecting bucket.
type harness struct {
	lake *loglake.Lake
	fb   *faultblob.Bucket
}

// backends runs f on a memory lake and, when LOGLAKE_TEST_S3_URL is set, on
// a fresh prefix of the S3 bucket (skipped otherwise, saying how to enable
// it; a failure under CI=true). Both sit behind a fault injector.
func backends(t *testing.T, f func(t *testing.T, h harness)) {
	t.Run("mem", func(t *testing.T) {
		fb := faultblob.New(memblob.OpenBucket(nil))
		f(t, newHarness(t, fb))
	})
	t.Run("s3", func(t *testing.T) {
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
		_, _ = rand.Read(rnd[:])
		prefix := "lambda-test-" + hex.EncodeToString(rnd[:]) + "/"
		q := pu.Query()
		q.Set("prefix", prefix)
		pu.RawQuery = q.Encode()
		inner, err := blob.OpenBucket(ctx, pu.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for o, err := range listAll(ctx, inner, "") {
				if err != nil {
					t.Errorf("cleanup: %v", err)
					break
				}
				_ = inner.Delete(ctx, o)
			}
			inner.Close()
		})
		f(t, newHarness(t, faultblob.New(inner)))
	})
}

func newHarness(t *testing.T, fb *faultblob.Bucket) harness {
	t.Helper()
	b := fb.Bucket()
	lake, err := loglake.New(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lake.Close(); b.Close() })
	return harness{lake: lake, fb: fb}
}

func listAll(ctx context.Context, b *blob.Bucket, prefix string) func(func(string, error) bool) {
	return func(yield func(string, error) bool) {
		it := b.List(&blob.ListOptions{Prefix: prefix})
		for {
			o, err := it.Next(ctx)
			if err != nil {
				if err != io.EOF {
					yield("", err)
				}
				return
			}
			if !yield(o.Key, nil) {
				return
			}
		}
	}
}

// fastConfig has quick retries, for tests with injected failures.
func fastConfig() Config {
	return Config{Ingest: ingest.Options{RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond}}
}

func newHandler(t *testing.T, lake *loglake.Lake, cfg Config) *Handler {
	t.Helper()
	h, err := NewHandler(lake, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// lines returns the decoded lines of the NDJSON objects under prefix, and
// the number of objects.
func lines(t *testing.T, lake *loglake.Lake, prefix string) ([]string, int) {
	t.Helper()
	ctx := context.Background()
	var out []string
	objects := 0
	for o, err := range lake.List(ctx, prefix, "") {
		if err != nil {
			t.Fatal(err)
		}
		codec, ok := rawcodec.FromKey(o.Key)
		if !ok {
			continue
		}
		data, err := lake.ReadAll(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := rawcodec.AppendDecoded(nil, data, codec)
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		objects++
		for l := range strings.SplitSeq(strings.TrimSuffix(string(plain), "\n"), "\n") {
			out = append(out, l)
		}
	}
	return out, objects
}

// rawIDs returns how many times each record id occurs in raw/, by tenant:
// "tenant/id" → count.
func rawIDs(t *testing.T, lake *loglake.Lake) map[string]int {
	t.Helper()
	ls, _ := lines(t, lake, loglake.AreaRaw+"/")
	counts := map[string]int{}
	for _, l := range ls {
		var r struct {
			Tenant string `json:"tenant_id"`
			ID     string `json:"id"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("raw line is not JSON: %v: %s", err, l)
		}
		counts[r.Tenant+"/"+r.ID]++
	}
	return counts
}

// want returns the counts rawIDs should return: each id once.
func want(tenant string, idss ...[]string) map[string]int {
	m := map[string]int{}
	for _, ids := range idss {
		for _, id := range ids {
			m[tenant+"/"+id] = 1
		}
	}
	return m
}

func merge(ms ...map[string]int) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}

// failures returns the sequence numbers a response names.
func failures(resp events.KinesisEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func event(recs ...events.KinesisEventRecord) events.KinesisEvent {
	return events.KinesisEvent{Records: recs}
}

// TestRetryDoesNotDuplicate delivers a batch, then the same batch again (a
// retry after a function error or timeout), then a suffix of it with new
// records after it (a retry after a partial batch response): every record
// is in raw/ exactly once, and the retries add no objects of their own.
func TestRetryDoesNotDuplicate(t *testing.T) {
	backends(t, func(t *testing.T, hs harness) {
		ctx := context.Background()
		h := newHandler(t, hs.lake, Config{})
		var recs []events.KinesisEventRecord
		wantIDs := map[string]int{}
		for i := range 8 {
			tenant := fmt.Sprintf("tenant-%d", i%3)
			recs = append(recs, kinesisRecord(i, envelope(tenant, i, 5+i)))
			wantIDs = merge(wantIDs, want(tenant, ids(i, 5+i)))
		}
		resp, err := h.Handle(ctx, event(recs...))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("first delivery: %v, %v", failures(resp), err)
		}
		if diff := cmp.Diff(wantIDs, rawIDs(t, hs.lake)); diff != "" {
			t.Fatalf("after the first delivery (-want +got):\n%s", diff)
		}
		_, objects := lines(t, hs.lake, loglake.AreaRaw+"/")

		// The same batch again.
		if resp, err := h.Handle(ctx, event(recs...)); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("second delivery: %v, %v", failures(resp), err)
		}
		if diff := cmp.Diff(wantIDs, rawIDs(t, hs.lake)); diff != "" {
			t.Fatalf("after the same batch again (-want +got):\n%s", diff)
		}
		if _, n := lines(t, hs.lake, loglake.AreaRaw+"/"); n != objects {
			t.Errorf("raw objects: %d after the retry, %d before", n, objects)
		}

		// A suffix from record 5, with two new records after it, handled
		// by a new execution environment (a new Handler and Ingestor).
		h2 := newHandler(t, hs.lake, Config{})
		suffix := slices.Clone(recs[5:])
		for i := 8; i < 10; i++ {
			suffix = append(suffix, kinesisRecord(i, envelope("tenant-9", i, 3)))
			wantIDs = merge(wantIDs, want("tenant-9", ids(i, 3)))
		}
		if resp, err := h2.Handle(ctx, event(suffix...)); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("suffix: %v, %v", failures(resp), err)
		}
		if diff := cmp.Diff(wantIDs, rawIDs(t, hs.lake)); diff != "" {
			t.Fatalf("after the suffix (-want +got):\n%s", diff)
		}
		if _, n := lines(t, hs.lake, loglake.AreaRaw+"/"); n != objects+2 {
			t.Errorf("raw objects: %d after the suffix, want %d (two new records)", n, objects+2)
		}
	})
}

// failTenant makes every write of tenant's raw objects and of their spill
// objects fail: the tenant's records cannot land anywhere.
func failTenant(fb *faultblob.Bucket, tenant string) {
	fb.Add(&faultblob.Rule{
		Kinds: []faultblob.OpKind{faultblob.OpWrite},
		Match: func(op faultblob.Op) bool {
			if strings.Contains(op.Key, "/tenant_id="+tenant+"/") {
				return true
			}
			// spill/<writer>/<day>.<name>.<tenant><ext>
			return strings.HasPrefix(op.Key, loglake.AreaSpill+"/") && strings.Contains(op.Key, "."+tenant+".ndjson")
		},
	})
}

// TestPartialFailure fails every write of one tenant's partitions: the
// response names exactly the Kinesis records with records of that tenant
// (an NDJSON record that mixes tenants among them), the other records
// landed, and the retry Lambda then makes — from the lowest failed
// sequence number onward — completes the lake without a duplicate.
func TestPartialFailure(t *testing.T) {
	backends(t, func(t *testing.T, hs harness) {
		ctx := context.Background()
		h := newHandler(t, hs.lake, fastConfig())
		recs := []events.KinesisEventRecord{
			kinesisRecord(0, envelope("good", 0, 4)),
			kinesisRecord(1, envelope("bad", 1, 3)),
			kinesisRecord(2, envelope("good", 2, 2)),
			kinesisRecord(3, bareRecords(3, "good", "bad", "other")),
			kinesisRecord(4, envelope("other", 4, 5)),
			kinesisRecord(5, []byte(`{"tenant_id":"bad","log":[{"id":"broken"`)), // a dead letter: lands in errors/
		}
		goodIDs := merge(want("good", ids(0, 4)), want("good", ids(2, 2)), want("other", ids(4, 5)))
		failTenant(hs.fb, "bad")
		resp, err := h.Handle(ctx, event(recs...))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{seqNum(1), seqNum(3)}, failures(resp)); diff != "" {
			t.Fatalf("batch item failures (-want +got):\n%s", diff)
		}
		// Record 3 failed as a whole, but its good tenants' records landed.
		partial := merge(goodIDs, map[string]int{"good/3-0": 1, "other/3-2": 1})
		if diff := cmp.Diff(partial, rawIDs(t, hs.lake)); diff != "" {
			t.Fatalf("lake after the failure (-want +got):\n%s", diff)
		}
		if dead, _ := lines(t, hs.lake, loglake.AreaErrors+"/"); len(dead) != 1 {
			t.Errorf("dead letters: %d, want 1 (record 5)", len(dead))
		}

		// The failure clears; Lambda retries from the lowest failed
		// sequence number: records 1 to 5.
		hs.fb.Reset()
		resp, err = h.Handle(ctx, event(recs[1:]...))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("retry: %v, %v", failures(resp), err)
		}
		all := merge(goodIDs, want("bad", ids(1, 3)), map[string]int{"good/3-0": 1, "bad/3-1": 1, "other/3-2": 1})
		if diff := cmp.Diff(all, rawIDs(t, hs.lake)); diff != "" {
			t.Fatalf("lake after the retry (-want +got):\n%s", diff)
		}
		if dead, _ := lines(t, hs.lake, loglake.AreaErrors+"/"); len(dead) != 1 {
			t.Errorf("dead letters after the retry: %d, want 1 (overwritten, not repeated)", len(dead))
		}
	})
}

// TestEverythingFails: when no record can land, the response names them
// all and Handle returns no error, so that Lambda retries just those.
func TestEverythingFails(t *testing.T) {
	backends(t, func(t *testing.T, hs harness) {
		h := newHandler(t, hs.lake, fastConfig())
		hs.fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}})
		var recs []events.KinesisEventRecord
		var wantFailed []string
		for i := range 5 {
			recs = append(recs, kinesisRecord(i, envelope(fmt.Sprintf("t%d", i), i, 2)))
			wantFailed = append(wantFailed, seqNum(i))
		}
		resp, err := h.Handle(context.Background(), event(recs...))
		if err != nil {
			t.Fatalf("Handle: %v, want failures and no error", err)
		}
		if diff := cmp.Diff(wantFailed, failures(resp)); diff != "" {
			t.Fatalf("batch item failures (-want +got):\n%s", diff)
		}
		if st := h.Stats(); st.Failed != 10 || st.Written != 0 {
			t.Errorf("stats: Failed %d Written %d, want 10 and 0", st.Failed, st.Written)
		}
	})
}

// TestBadInputIsNotAFailure: records that cannot be parsed land in errors/
// with their reason and are not reported: a retry would fail them again.
// KPL-aggregated and compressed records are dead-lettered the same way.
func TestBadInputIsNotAFailure(t *testing.T) {
	backends(t, func(t *testing.T, hs harness) {
		h := newHandler(t, hs.lake, Config{})
		kpl := append([]byte{0xf3, 0x89, 0x9a, 0xc2}, "\x0a\x02pk\x1a\x05hello"...)
		gzipped := []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff}
		recs := []events.KinesisEventRecord{
			kinesisRecord(0, []byte(`{"tenant_id":"a","log":[{"timestamp":`)),        // malformed
			kinesisRecord(1, []byte(`{"device_id":"pc-1","log":[{"timestamp":1}]}`)), // no tenant
			kinesisRecord(2, []byte(`{"tenant_id":"../x","log":[{"timestamp":1}]}`)), // invalid tenant
			kinesisRecord(3, kpl),                 // KPL aggregation
			kinesisRecord(4, gzipped),             // compressed
			kinesisRecord(5, envelope("a", 5, 2)), // good
			kinesisRecord(6, nil),                 // empty
		}
		resp, err := h.Handle(context.Background(), event(recs...))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle: %v, %v; want no failures", failures(resp), err)
		}
		if diff := cmp.Diff(want("a", ids(5, 2)), rawIDs(t, hs.lake)); diff != "" {
			t.Errorf("raw (-want +got):\n%s", diff)
		}
		dead, _ := lines(t, hs.lake, loglake.AreaErrors+"/")
		reasons := map[string]bool{}
		for _, l := range dead {
			var d struct {
				Reason  string `json:"reason"`
				BatchID string `json:"batch_id"`
			}
			if err := json.Unmarshal([]byte(l), &d); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(d.BatchID, testARN+"/"+testShard+"/") {
				t.Errorf("dead letter's batch id %q does not name its Kinesis record", d.BatchID)
			}
			reasons[d.Reason] = true
			if (strings.HasSuffix(d.BatchID, seqNum(3)) || strings.HasSuffix(d.BatchID, seqNum(4))) && d.Reason != string(ingest.ReasonMalformed) {
				t.Errorf("KPL or gzip record dead-lettered as %s, want %s", d.Reason, ingest.ReasonMalformed)
			}
		}
		for _, r := range []ingest.Reason{ingest.ReasonMalformed, ingest.ReasonMissingTenant, ingest.ReasonInvalidTenant} {
			if !reasons[string(r)] {
				t.Errorf("no dead letter with reason %s; have %v", r, reasons)
			}
		}
		if len(dead) < 5 {
			t.Errorf("%d dead letters, want at least 5", len(dead))
		}
	})
}

// TestSpillIsNotAFailure: when raw writes fail but spill writes succeed,
// the records are safe in spill/ and not reported; the next invocation
// runs Recover, which moves them into raw/ under the keys the batch would
// have had, so a later redelivery still does not duplicate them.
func TestSpillIsNotAFailure(t *testing.T) {
	backends(t, func(t *testing.T, hs harness) {
		ctx := context.Background()
		h := newHandler(t, hs.lake, fastConfig())
		hs.fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: loglake.AreaRaw + "/"})
		recs := []events.KinesisEventRecord{kinesisRecord(0, envelope("a", 0, 3)), kinesisRecord(1, envelope("b", 1, 2))}
		resp, err := h.Handle(ctx, event(recs...))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle: %v, %v; want no failures", failures(resp), err)
		}
		if got := len(rawIDs(t, hs.lake)); got != 0 {
			t.Fatalf("%d records in raw/ while raw writes fail", got)
		}
		if spilled, _ := lines(t, hs.lake, loglake.AreaSpill+"/"); len(spilled) != 5 {
			t.Fatalf("%d records in spill/, want 5", len(spilled))
		}
		hs.fb.Reset()
		// The next invocation recovers first, then handles its records —
		// here a redelivery of record 1.
		if resp, err := h.Handle(ctx, event(recs[1])); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle: %v, %v", failures(resp), err)
		}
		if diff := cmp.Diff(merge(want("a", ids(0, 3)), want("b", ids(1, 2))), rawIDs(t, hs.lake)); diff != "" {
			t.Errorf("raw after recover (-want +got):\n%s", diff)
		}
		if spilled, _ := lines(t, hs.lake, loglake.AreaSpill+"/"); len(spilled) != 0 {
			t.Errorf("%d records still in spill/", len(spilled))
		}
	})
}

// TestDeadline: uploads still running when the invocation's deadline
// (less the margin) comes are reported, so that Lambda gets a partial
// batch response instead of a timeout.
func TestDeadline(t *testing.T) {
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	h := newHandler(t, lake, Config{DeadlineMargin: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // an hour's margin: already past
	defer cancel()
	resp, err := h.Handle(ctx, event(kinesisRecord(0, envelope("a", 0, 2)), kinesisRecord(1, envelope("b", 1, 2))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{seqNum(0), seqNum(1)}, failures(resp)); diff != "" {
		t.Errorf("batch item failures (-want +got):\n%s", diff)
	}
	if got := len(rawIDs(t, lake)); got != 0 {
		t.Errorf("%d records landed after the deadline", got)
	}
}

// TestGeneratedLoad ingests realistic envelopes from internal/gen, one per
// Kinesis record, and counts them in the lake.
func TestGeneratedLoad(t *testing.T) {
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	h := newHandler(t, lake, Config{Ingest: ingest.Options{CarryFields: []string{"device_id"}}})
	ev, records, _ := genEvent(500, 20)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v, %v", failures(resp), err)
	}
	ls, _ := lines(t, lake, loglake.AreaRaw+"/")
	if len(ls) != records {
		t.Errorf("%d records in raw/, want %d", len(ls), records)
	}
	for _, l := range ls {
		if !strings.Contains(l, `"device_id":"pc-`) {
			t.Fatalf("device_id not carried: %s", l)
		}
	}
}

// genEvent returns an event of n Kinesis records, each one generated
// envelope, the number of log records and the bytes of data.
func genEvent(n, perEnvelope int) (events.KinesisEvent, int, int) {
	g := gen.New(gen.Config{RecordsPerEnvelope: perEnvelope})
	var ev events.KinesisEvent
	size := 0
	for i := range n {
		data, _ := g.AppendEnvelope(nil)
		size += len(data)
		ev.Records = append(ev.Records, kinesisRecord(i, data))
	}
	return ev, g.Records, size
}

// TestEventJSON decodes an event as Lambda delivers it (data in base64)
// and encodes the response as Lambda expects it.
func TestEventJSON(t *testing.T) {
	data := envelope("a", 0, 1)
	raw := fmt.Sprintf(`{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":%q,"data":%q,"approximateArrivalTimestamp":1764115200.123},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":%q,"eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/ingest","awsRegion":"ap-northeast-1","eventSourceARN":%q}]}`,
		seqNum(0), base64.StdEncoding.EncodeToString(data), testShard+":"+seqNum(0), testARN)
	var ev events.KinesisEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.Records[0].Kinesis.Data) != string(data) {
		t.Fatalf("data = %q, want %q", ev.Records[0].Kinesis.Data, data)
	}
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	h := newHandler(t, lake, Config{})
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"batchItemFailures":[]}`; got != want {
		t.Errorf("response JSON = %s, want %s", got, want)
	}
	resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seqNum(0)})
	out, _ = json.Marshal(resp)
	if got, want := string(out), `{"batchItemFailures":[{"itemIdentifier":"`+seqNum(0)+`"}]}`; got != want {
		t.Errorf("response JSON = %s, want %s", got, want)
	}
}

func TestBatchID(t *testing.T) {
	rec := func(eventID, seq string) events.KinesisEventRecord {
		r := kinesisRecord(0, nil)
		r.EventID, r.Kinesis.SequenceNumber = eventID, seq
		return r
	}
	for _, tc := range []struct {
		name string
		rec  events.KinesisEventRecord
		want string // "" for an error
	}{
		{"ok", kinesisRecord(7, nil), testARN + "/" + testShard + "/" + seqNum(7)},
		{"no colon", rec("shardId-000000000003", seqNum(0)), ""},
		{"no shard", rec(":"+seqNum(0), seqNum(0)), ""},
		{"no sequence number", rec(testShard+":", ""), ""},
		{"mismatch", rec(testShard+":"+seqNum(1), seqNum(0)), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BatchID(tc.rec)
			if (err != nil) != (tc.want == "") || got != tc.want {
				t.Errorf("BatchID = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// Another shard, another id for the same sequence number.
	a, _ := BatchID(kinesisRecord(0, nil))
	other := kinesisRecord(0, nil)
	other.EventID = "shardId-000000000004:" + seqNum(0)
	if b, _ := BatchID(other); a == b {
		t.Errorf("two shards share the batch id %q", a)
	}
}

// TestMalformedEvent: a record without a usable event id cannot be named
// in a partial response, so the whole event is refused with an error and
// nothing is written.
func TestMalformedEvent(t *testing.T) {
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	h := newHandler(t, lake, Config{})
	bad := kinesisRecord(1, envelope("a", 1, 1))
	bad.Kinesis.SequenceNumber = ""
	if _, err := h.Handle(context.Background(), event(kinesisRecord(0, envelope("a", 0, 1)), bad)); err == nil {
		t.Fatal("Handle accepted a record without a sequence number")
	}
	if got := len(rawIDs(t, lake)); got != 0 {
		t.Errorf("%d records written from a refused event", got)
	}
	if resp, err := h.Handle(context.Background(), event()); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("empty event: %v, %v", failures(resp), err)
	}
}

func TestConfigValidation(t *testing.T) {
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	_, err = NewHandler(lake, Config{Ingest: ingest.Options{BufferInterval: time.Minute, BufferBytes: -1}, Concurrency: -1, DeadlineMargin: -time.Second})
	if !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Fatalf("err = %v, want ErrInvalidOptions", err)
	}
	for _, field := range []string{"BufferInterval", "Concurrency", "DeadlineMargin"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantURL string
		want    ingest.Options
		wantErr bool
	}{
		{name: "no url", env: map[string]string{}, wantErr: true},
		{name: "url only", env: map[string]string{EnvURL: "s3://b?prefix=lake/"}, wantURL: "s3://b?prefix=lake/"},
		{
			name:    "all",
			env:     map[string]string{EnvURL: "mem://", EnvCarryFields: " device_id, agent_version ,", EnvMemorySize: "1024"},
			wantURL: "mem://",
			want:    ingest.Options{CarryFields: []string{"device_id", "agent_version"}, MaxBufferedBytes: 256 << 20},
		},
		{name: "bad memory", env: map[string]string{EnvURL: "mem://", EnvMemorySize: "lots"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, cfg, err := configFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr {
				if !errors.Is(err, loglake.ErrInvalidOptions) {
					t.Fatalf("err = %v, want ErrInvalidOptions", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u != tc.wantURL {
				t.Errorf("url = %q, want %q", u, tc.wantURL)
			}
			if diff := cmp.Diff(tc.want, cfg.Ingest, cmp.AllowUnexported(ingest.Options{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClose: after Close, Handle refuses with ErrClosed, a second Close
// too, and no goroutine of the Handler outlives it.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	h, err := OpenHandler(context.Background(), "mem://", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(context.Background(), event(kinesisRecord(0, envelope("a", 0, 1)))); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(context.Background(), event(kinesisRecord(1, envelope("a", 1, 1)))); !errors.Is(err, loglake.ErrClosed) {
		t.Errorf("Handle after Close: %v, want ErrClosed", err)
	}
	if err := h.Close(context.Background()); !errors.Is(err, loglake.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after Close", before, n)
	}
}

// BenchmarkHandle ingests an event of 100 Kinesis records, each a
// generated envelope of about 50 log records, into a memory lake.
func BenchmarkHandle(b *testing.B) {
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		b.Fatal(err)
	}
	defer lake.Close()
	h, err := NewHandler(lake, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	ev, records, size := genEvent(100, 50)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	n := 0
	for b.Loop() {
		resp, err := h.Handle(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("Handle: %v, %v", failures(resp), err)
		}
		n += records
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
