package compact

import (
	"context"
	"testing"

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
