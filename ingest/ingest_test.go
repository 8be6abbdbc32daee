package ingest

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{CarryFields: []string{"device_id"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Add(ctx, envelopeLine("acme", "2026-11-20", 0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, o := range readArea(t, lake.Bucket(), "") {
		t.Log(o.Key)
		for _, l := range o.Lines {
			t.Log("  ", l)
		}
	}
	t.Logf("%+v", in.Stats())
}
