package loglaketest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
)

// lifecycleTests run loglake's stages end to end on the backend and check
// the invariants by counting records: nothing accepted is lost, nothing is
// counted twice.
//
// Lifecycle tests join here as the stages land: ingest (spill/recover with
// faults), compact (crash points), query (exactly-once counts), expire.
var lifecycleTests = []test{
	{"Lifecycle/IngestSpillRecover", testIngestSpillRecover},
}

// input is generated envelopes and what they hold.
type input struct {
	chunks   [][]byte       // one Add each: NDJSON envelopes
	records  int            // records in all chunks
	byTenant map[string]int // records per tenant
}

// generate returns envelopes of about records records, in chunks of about
// perChunk records, from a few tenants over a few days.
func generate(seed uint64, records, perChunk int) input {
	g := gen.New(gen.Config{Seed: seed, Tenants: 4, Days: 2, RecordsPerEnvelope: 20})
	in := input{byTenant: map[string]int{}}
	for in.records < records {
		var chunk []byte
		n := 0
		for n < perChunk {
			start := len(chunk)
			var k int
			chunk, k = g.AppendEnvelope(chunk)
			in.byTenant[envelopeTenant(chunk[start:])] += k
			chunk = append(chunk, '\n')
			n += k
		}
		in.chunks = append(in.chunks, chunk)
		in.records += n
	}
	return in
}

// envelopeTenant returns the tenant of an envelope gen wrote, which starts
// {"tenant_id":"<T>",….
func envelopeTenant(env []byte) string {
	const p = `{"tenant_id":"`
	rest := env[len(p):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// tally counts the records (NDJSON lines) of every object under prefix,
// per tenant where the key names one (raw/ and compacted/ keys do; spill/
// and errors/ keys do not, and count under "").
func tally(t testing.TB, ctx context.Context, l *loglake.Lake, prefix string) (int, map[string]int) {
	t.Helper()
	total, byTenant := 0, map[string]int{}
	var buf []byte
	for obj, err := range l.List(ctx, prefix, "") {
		if err != nil {
			t.Fatalf("List(%s): %v", prefix, err)
		}
		c, ok := rawcodec.FromKey(obj.Key)
		if !ok {
			continue
		}
		data, err := l.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		buf, err = rawcodec.AppendDecoded(buf[:0], data, c)
		if err != nil {
			t.Fatalf("decode %s: %v", obj.Key, err)
		}
		n := bytes.Count(buf, []byte{'\n'})
		total += n
		tenant := ""
		if k, err := loglake.ParseObjectKey(obj.Key); err == nil {
			tenant = k.Partition.Tenant
		}
		byTenant[tenant] += n
	}
	return total, byTenant
}

// testIngestSpillRecover runs ingest on the backend in three acts, and
// counts after each that every record handed in is stored exactly once:
//
//  1. Uploads fail now and then; retries carry them through, and every
//     Flush returns nil. All records are in raw/.
//  2. Every raw/ upload fails; buffers go to spill/ instead, and Close
//     still returns nil: the records are accepted. raw/ + spill/ hold all.
//  3. The store heals; Recover moves spill/ into raw/. raw/ holds all,
//     per tenant, and a second Recover finds nothing to do.
func testIngestSpillRecover(t *testing.T, f *fixture) {
	ctx := f.ctx
	fl := f.faultyLake(t)
	opts := ingest.Options{
		BufferBytes:    16 << 10,
		MaxRetries:     8,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
		WriterID:       "conformance",
	}
	first := generate(1, 1500, 150)
	second := generate(2, 1000, 150)
	want := first.records + second.records

	// Act 1: transient faults — the 2nd to 5th raw upload fail.
	fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: loglake.AreaRaw + "/", Skip: 1, Times: 4})
	in, err := ingest.New(fl.lake, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, chunk := range first.chunks {
		if err := in.Add(ctx, chunk); err != nil {
			t.Fatalf("Add #%d: %v", i+1, err)
		}
		if i%4 == 3 {
			if err := in.Flush(ctx); err != nil {
				t.Fatalf("Flush under transient faults: %v", err)
			}
		}
	}
	if err := in.Close(ctx); err != nil {
		t.Fatalf("Close under transient faults: %v", err)
	}
	if got, _ := tally(t, ctx, fl.clean, "raw/"); got != first.records {
		t.Fatalf("act 1: raw/ holds %d records, %d were handed in", got, first.records)
	}
	if fl.faults.Count(faultblob.OpWrite) <= 5 {
		t.Fatalf("act 1: only %d writes; the faults were never reached", fl.faults.Count(faultblob.OpWrite))
	}

	// Act 2: raw/ is down; buffers spill.
	fl.faults.Reset()
	fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: loglake.AreaRaw + "/"})
	o2 := opts
	o2.MaxRetries = 1
	in, err = ingest.New(fl.lake, o2)
	if err != nil {
		t.Fatal(err)
	}
	for i, chunk := range second.chunks {
		if err := in.Add(ctx, chunk); err != nil {
			t.Fatalf("Add #%d: %v", i+1, err)
		}
	}
	if err := in.Close(ctx); err != nil {
		t.Fatalf("Close with raw/ down = %v; buffers should have spilled", err)
	}
	raw, _ := tally(t, ctx, fl.clean, "raw/")
	spilled, _ := tally(t, ctx, fl.clean, "spill/")
	dead, _ := tally(t, ctx, fl.clean, "errors/")
	if spilled == 0 {
		t.Fatal("act 2: nothing spilled although every raw/ upload failed")
	}
	if raw+spilled+dead != want || dead != 0 {
		t.Fatalf("act 2: raw/ %d + spill/ %d + errors/ %d records, want %d in raw/ and spill/", raw, spilled, dead, want)
	}

	// Act 3: the store heals; Recover.
	fl.faults.Reset()
	rec, err := ingest.New(fl.lake, ingest.Options{WriterID: "recover"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(ctx)
	res, err := rec.Recover(ctx)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if res.Records != spilled {
		t.Errorf("Recover moved %d records, spill/ held %d", res.Records, spilled)
	}
	got, byTenant := tally(t, ctx, fl.clean, "raw/")
	if got != want {
		t.Fatalf("act 3: raw/ holds %d records after Recover, want %d", got, want)
	}
	wantByTenant := map[string]int{}
	for _, in := range []input{first, second} {
		for k, v := range in.byTenant {
			wantByTenant[k] += v
		}
	}
	if diff := cmp.Diff(wantByTenant, byTenant); diff != "" {
		t.Errorf("records per tenant in raw/ (-handed in +stored):\n%s", diff)
	}
	if n, _ := tally(t, ctx, fl.clean, "spill/"); n != 0 {
		t.Errorf("%d records left in spill/ after Recover", n)
	}
	if res, err := rec.Recover(ctx); err != nil || res.Objects != 0 {
		t.Errorf("second Recover = %+v, %v; want nothing to do", res, err)
	}
}
