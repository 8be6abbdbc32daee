package compact

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

func TestCompactPartitionBasic(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 2, Days: 1}, 5000)
	p := biggest(parts)
	putRawSplit(t, lake, p, "w1", parts[p], 300)
	c, err := New(lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.CompactPartition(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeCompacted || res.Records != int64(len(parts[p])) {
		t.Fatalf("result %+v", res)
	}
	checkExactlyOnce(t, lake, p, seqsOf(t, parts[p]))
	if raw := keysUnder(t, lake, p.Prefix(loglake.AreaRaw)); len(raw) != 0 {
		t.Fatalf("raw left: %v", raw)
	}
	t.Logf("files %d, %d bytes, schema %v", len(res.Files), res.Files[0].Size, res.Files[0].Schema)
}

// TestCompactRemovesDeadWritersTemps: the temporary files that a killed
// writer leaves beside raw objects on a file:// lake are deleted by the
// next compaction of their partition once older than DefaultGrace — in a
// partition with raw data and in one without — and nothing else is.
func TestCompactRemovesDeadWritersTemps(t *testing.T) {
	ctx := context.Background()
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1}, 500)
	p := biggest(parts)
	empty := loglake.Partition{Tenant: p.Tenant, Day: p.Day.AddDays(-1)}
	for _, age := range []time.Duration{time.Minute, DefaultGrace + time.Minute} {
		t.Run(age.String(), func(t *testing.T) {
			lake := memLake(t)
			ref := putRaw(t, lake, p, "w1", parts[p], loglake.CompressionZstd)
			temps := []string{ref.Key + ".18ead212df2708cf.tmp", empty.Prefix(loglake.AreaRaw) + "w2.ndjson.zst.18ead212df2708d0.tmp"}
			other := p.Prefix(loglake.AreaRaw) + "notes.tmp"
			for _, k := range append(temps, other) {
				if err := lake.Bucket().WriteAll(ctx, k, []byte(`{"tenant_id":"`), nil); err != nil {
					t.Fatal(err)
				}
			}
			c, err := New(lake, &Options{Clock: func() time.Time { return time.Now().Add(age) }})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, q := range []loglake.Partition{p, empty} {
				if _, err := c.CompactPartition(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			checkExactlyOnce(t, lake, p, seqsOf(t, parts[p]))
			want := []string{other}
			if age < DefaultGrace {
				want = append(want, temps...)
			}
			slices.Sort(want)
			if got := keysUnder(t, lake, "raw/"); !slices.Equal(got, want) {
				t.Errorf("raw/ holds %q, want %q", got, want)
			}
		})
	}
}
