package loglaketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
	"github.com/loglake/loglake/query"
)

// lifecycleTests run loglake's stages end to end on the backend and check
// the invariants by counting records: nothing accepted is lost, nothing is
// counted twice.
//
// Lifecycle tests join here as the stages land: ingest (spill/recover with
// faults), compact (crash points), query (exactly-once counts), expire.
// All four run now; a new stage adds its test to this table.
var lifecycleTests = []test{
	{"Lifecycle/IngestSpillRecover", testIngestSpillRecover},
	{"Lifecycle/CompactQueryExpire", testCompactQueryExpire},
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
	in, err := ingest.New(fl.lake, &opts)
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
	in, err = ingest.New(fl.lake, &o2)
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
	rec, err := ingest.New(fl.lake, &ingest.Options{WriterID: "recover"})
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

// ingestAll ingests in without faults; Close must return nil.
func ingestAll(t testing.TB, ctx context.Context, l *loglake.Lake, in input) {
	t.Helper()
	ing, err := ingest.New(l, &ingest.Options{BufferBytes: 16 << 10, WriterID: "conformance"})
	if err != nil {
		t.Fatal(err)
	}
	for i, chunk := range in.chunks {
		if err := ing.Add(ctx, chunk); err != nil {
			t.Fatalf("Add #%d: %v", i+1, err)
		}
	}
	if err := ing.Close(ctx); err != nil {
		t.Fatalf("ingest Close: %v", err)
	}
}

// rawByPartition counts the records of raw/ per partition.
func rawByPartition(t testing.TB, ctx context.Context, l *loglake.Lake) map[loglake.Partition]int {
	t.Helper()
	out := map[loglake.Partition]int{}
	var buf []byte
	for obj, err := range l.List(ctx, loglake.AreaRaw+"/", "") {
		if err != nil {
			t.Fatal(err)
		}
		k, err := loglake.ParseObjectKey(obj.Key)
		if err != nil {
			t.Fatalf("raw/ holds a key loglake did not write: %v", err)
		}
		buf = readLines(t, ctx, l, obj.Key, buf[:0])
		out[k.Partition] += bytes.Count(buf, []byte{'\n'})
	}
	return out
}

func readLines(t testing.TB, ctx context.Context, l *loglake.Lake, key string, dst []byte) []byte {
	t.Helper()
	c, ok := rawcodec.FromKey(key)
	if !ok {
		t.Fatalf("%s is not an NDJSON object", key)
	}
	data, err := l.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	dst, err = rawcodec.AppendDecoded(dst, data, c)
	if err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return dst
}

// countPartition counts what a reader of partition p sees, from a
// [compact.Snapshot]: the rows of its live Parquet files (read from the
// files' footers, not taken from the manifest) plus the lines of its
// uncovered raw objects.
func countPartition(t testing.TB, ctx context.Context, l *loglake.Lake, p loglake.Partition) (parquetRows, rawLines int) {
	t.Helper()
	v, err := compact.Snapshot(ctx, l, p)
	if err != nil {
		t.Fatalf("Snapshot(%s): %v", p, err)
	}
	for _, ref := range v.Parquet {
		pf, err := compact.OpenParquet(ctx, l, ref)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		parquetRows += int(pf.NumRows())
	}
	var buf []byte
	for _, o := range v.Raw {
		buf = readLines(t, ctx, l, o.Key, buf[:0])
		rawLines += bytes.Count(buf, []byte{'\n'})
	}
	return parquetRows, rawLines
}

// checkPartition checks that a reader of p sees want records, and that
// compact.ReadAll, which follows the reader's retry rule, returns as many.
func checkPartition(t testing.TB, ctx context.Context, l *loglake.Lake, p loglake.Partition, want int, when string) (parquetRows, rawLines int) {
	t.Helper()
	parquetRows, rawLines = countPartition(t, ctx, l, p)
	if parquetRows+rawLines != want {
		t.Fatalf("%s: %s reads %d Parquet rows + %d raw lines, want %d records", when, p, parquetRows, rawLines, want)
	}
	recs, _, err := compact.ReadAll(ctx, l, p)
	if err != nil {
		t.Fatalf("%s: compact.ReadAll(%s): %v", when, p, err)
	}
	if len(recs) != want {
		t.Fatalf("%s: compact.ReadAll(%s) = %d records, want %d", when, p, len(recs), want)
	}
	return parquetRows, rawLines
}

// testCompactQueryExpire compacts every partition on the backend, crashing
// at each step of the commit protocol in turn, and counts after each crash
// that a reader sees every record once — from the Snapshot, through
// compact.ReadAll, and with a count(*) query per tenant. Then a compactor
// whose first raw delete fails finishes the job, and two more rounds leave
// everything unchanged, with every record in Parquet and raw/ empty.
// Last, retention expires the older day: a dry run deletes nothing, the
// real run deletes exactly the partitions before the cutoff.
func testCompactQueryExpire(t *testing.T, f *fixture) {
	ctx := f.ctx
	fl := f.faultyLake(t)
	in := generate(3, 2000, 200)
	ingestAll(t, ctx, fl.lake, in)
	want := rawByPartition(t, ctx, fl.clean)
	total := 0
	for _, n := range want {
		total += n
	}
	if total != in.records {
		t.Fatalf("raw/ holds %d records after ingest, %d were handed in", total, in.records)
	}
	parts := slices.SortedFunc(maps.Keys(want), func(a, b loglake.Partition) int {
		return strings.Compare(a.Key(), b.Key())
	})
	if len(parts) < 4 {
		t.Fatalf("only %d partitions; the test needs one per crash point", len(parts))
	}
	qc := newQueryChecker(t, fl.clean, want)
	qc.check(t, ctx, "after ingest")

	// Crash once at each step, each on a partition of its own.
	steps := []compact.Step{compact.StepReadManifest, compact.StepWroteFile, compact.StepCommitted, compact.StepDeletedRaw}
	errCrash := errors.New("conformance: crash")
	for i, p := range parts {
		step := steps[i%len(steps)]
		c, err := compact.New(fl.lake, &compact.Options{
			CommitterID: "crashing",
			Hooks: compact.Hooks{AfterStep: func(_ loglake.Partition, s compact.Step, _ string) error {
				if s == step {
					return errCrash
				}
				return nil
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CompactPartition(ctx, p); !errors.Is(err, errCrash) {
			t.Fatalf("CompactPartition(%s) with a crash after %s = %v, want the crash", p, step, err)
		}
		checkPartition(t, ctx, fl.clean, p, want[p], "after a crash after "+string(step))
		qc.checkTenant(t, ctx, p.Tenant, "after a crash after "+string(step))
	}

	// Finish, with the first raw delete failing: the commit stands, and
	// the next round cleans up.
	fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpDelete}, KeyPrefix: loglake.AreaRaw + "/", Times: 1})
	c, err := compact.New(fl.lake, &compact.Options{CommitterID: "finishing"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		res, err := c.CompactPartition(ctx, p)
		if err != nil && res.Outcome != compact.OutcomeCompacted {
			t.Fatalf("CompactPartition(%s) = %s, %v", p, res.Outcome, err)
		}
		checkPartition(t, ctx, fl.clean, p, want[p], "after finishing")
	}
	qc.check(t, ctx, "after finishing")
	fl.faults.Reset()
	for round := 1; round <= 2; round++ {
		rows := 0
		for _, p := range parts {
			res, err := c.CompactPartition(ctx, p)
			if err != nil {
				t.Fatalf("round %d: CompactPartition(%s): %v", round, p, err)
			}
			if round == 2 && res.Outcome != compact.OutcomeUnchanged {
				t.Errorf("round %d: CompactPartition(%s) = %s, want %s", round, p, res.Outcome, compact.OutcomeUnchanged)
			}
			pq, raw := checkPartition(t, ctx, fl.clean, p, want[p], "after a further round")
			if raw != 0 {
				t.Errorf("round %d: %s still reads %d records from raw/", round, p, raw)
			}
			rows += pq
		}
		if rows != in.records {
			t.Fatalf("round %d: %d Parquet rows in all, %d records handed in", round, rows, in.records)
		}
	}
	qc.check(t, ctx, "after the last round")

	// Expire everything before the last day.
	last := qc.to
	if !qc.from.Before(last) {
		t.Fatalf("the data spans one day (%s); expiry needs two", last)
	}
	today := last.Start(fl.lake.Location()).Add(12 * time.Hour)
	c, err = compact.New(fl.lake, &compact.Options{CommitterID: "expiring", Clock: func() time.Time { return today }})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[loglake.Partition]int{}
	var expired []loglake.Partition
	for _, p := range parts {
		if p.Day.Before(last) {
			expired = append(expired, p)
		} else {
			kept[p] = want[p]
		}
	}
	for _, dryRun := range []bool{true, false} {
		rep, err := c.Expire(ctx, 1, dryRun)
		if err != nil {
			t.Fatalf("Expire(dryRun=%v): %v", dryRun, err)
		}
		var got []loglake.Partition
		for _, ep := range rep.Partitions {
			got = append(got, ep.Partition)
		}
		if diff := cmp.Diff(expired, got); diff != "" {
			t.Errorf("Expire(dryRun=%v) partitions (-want +got):\n%s", dryRun, diff)
		}
		if dryRun {
			qc.check(t, ctx, "after a dry-run expiry")
		}
	}
	for _, p := range parts {
		checkPartition(t, ctx, fl.clean, p, kept[p], "after expiry")
		for _, area := range []string{loglake.AreaRaw, loglake.AreaCompacted} {
			if k := keys(t, ctx, fl.clean, p.Prefix(area), ""); kept[p] == 0 && len(k) > 0 {
				t.Errorf("expired partition %s still holds %q", p, k)
			}
		}
	}
	qc.setWant(kept)
	qc.check(t, ctx, "after expiry")
	if n, _ := tally(t, ctx, fl.clean, loglake.AreaRaw+"/"); n != 0 {
		t.Errorf("%d records left in raw/ after compaction", n)
	}
}

// queryChecker counts each tenant's records with the query engine, over
// the days the data spans.
type queryChecker struct {
	e        *query.Engine
	want     map[string]int // records per tenant
	from, to loglake.Day
}

func newQueryChecker(t testing.TB, l *loglake.Lake, byPartition map[loglake.Partition]int) *queryChecker {
	t.Helper()
	qc := &queryChecker{}
	qc.setWant(byPartition)
	for p := range byPartition {
		if !qc.from.IsValid() || p.Day.Before(qc.from) {
			qc.from = p.Day
		}
		if !qc.to.IsValid() || p.Day.After(qc.to) {
			qc.to = p.Day
		}
	}
	// NOW is fixed just after the data, so the dt projection covers it
	// whatever the machine's clock says.
	now := qc.to.AddDays(1).Start(l.Location())
	e, err := query.New(l, &query.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	qc.e = e
	return qc
}

// setWant sets the expected counts, per partition, of later checks.
func (qc *queryChecker) setWant(byPartition map[loglake.Partition]int) {
	qc.want = map[string]int{}
	for p, n := range byPartition {
		qc.want[p.Tenant] += n
	}
}

// check counts every tenant.
func (qc *queryChecker) check(t testing.TB, ctx context.Context, when string) {
	t.Helper()
	for _, tenant := range slices.Sorted(maps.Keys(qc.want)) {
		qc.checkTenant(t, ctx, tenant, when)
	}
}

// checkTenant counts one tenant's records with a count(*) query.
func (qc *queryChecker) checkTenant(t testing.TB, ctx context.Context, tenant, when string) {
	t.Helper()
	sql := fmt.Sprintf("SELECT count(*) AS n FROM logs WHERE tenant_id = '%s' AND dt BETWEEN '%s' AND '%s'", tenant, qc.from, qc.to)
	q, err := query.Parse(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	rows, err := qc.e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %s: %v", when, sql, err)
	}
	var n int64
	for rows.Next() {
		b := rows.RecordBatch()
		col, ok := b.Column(0).(*array.Int64)
		if !ok || b.NumRows() != 1 {
			rows.Close()
			t.Fatalf("%s: %s: got %d rows of %T, want one int64", when, sql, b.NumRows(), b.Column(0))
		}
		n += col.Value(0)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %s: %v", when, sql, err)
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("%s: %s: Close: %v", when, sql, err)
	}
	if n != int64(qc.want[tenant]) {
		t.Fatalf("%s: count(*) of tenant %s = %d, want %d", when, tenant, n, qc.want[tenant])
	}
}
