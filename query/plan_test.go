package query

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/datadriven"
	"github.com/loglake/loglake/projection"
)

// TestPlanDataDriven runs testdata/plan/*: query plans as text (STYLE.md
// point 15), made by Engine.Explain without reading any object.
// Commands:
//
//	lake [tenants=(a,b)]          a mem:// lake holding a raw object for each
//	                              tenant (for cross-tenant listing)
//	foreign [date=COL] [delay=D] [event-time]
//	                              a foreign layout from the Firehose prefix
//	                              on the input line
//	plan [now=RFC3339] [cross-tenant] [retention=N] [max-partitions=N]
//	                              Explain the SQL of the input; errors print
//	                              as "error: …"
func TestPlanDataDriven(t *testing.T) {
	var (
		lake   *loglake.Lake
		layout *ForeignLayout
	)
	datadriven.Walk(t, "testdata/plan", func(t *testing.T, d *datadriven.TestData) string {
		arg := func(k string) string {
			if a, ok := d.Arg(k); ok && len(a.Vals) > 0 {
				return strings.Join(a.Vals, ",")
			}
			return ""
		}
		has := func(k string) bool { _, ok := d.Arg(k); return ok }
		switch d.Cmd {
		case "lake":
			lake, layout = memLake(t), nil
			tenants := []string{"acme", "beta"}
			if a, ok := d.Arg("tenants"); ok {
				tenants = a.Vals
			}
			for _, tn := range tenants {
				putRaw(t, lake, loglake.Partition{Tenant: tn, Day: loglake.NewDay(2026, 11, 20)}, "a",
					[][]byte{[]byte(`{"timestamp":"2026-11-20T00:00:00Z"}`)}, loglake.CompressionZstd)
			}
			return "ok"
		case "foreign":
			fo := &projection.FirehoseOptions{DateColumn: arg("date"), Now: func() time.Time { return testNow }}
			c, err := projection.FromFirehosePrefix("", strings.TrimSpace(d.Input), fo)
			if err != nil {
				return "error: " + err.Error()
			}
			l := ForeignLayout{Projection: c, EventTime: has("event-time")}
			if s := arg("delay"); s != "" {
				if l.MaxDelay, err = time.ParseDuration(s); err != nil {
					t.Fatalf("%s: %v", d.Pos, err)
				}
			}
			lake, layout = nil, &l
			return "ok"
		case "plan":
			now := testNow
			if s := arg("now"); s != "" {
				var err error
				if now, err = time.Parse(time.RFC3339, s); err != nil {
					t.Fatalf("%s: %v", d.Pos, err)
				}
			}
			o := &Options{Now: func() time.Time { return now }, AllowCrossTenant: has("cross-tenant")}
			o.RetentionDays, _ = strconv.Atoi(arg("retention"))
			o.MaxPartitions, _ = strconv.Atoi(arg("max-partitions"))
			var (
				e   *Engine
				err error
			)
			if layout != nil {
				b := memblob.OpenBucket(nil)
				defer b.Close()
				e, err = NewForeign(b, *layout, o)
			} else {
				e, err = New(lake, o)
			}
			if err != nil {
				return "error: " + err.Error()
			}
			defer e.Close()
			q, err := Parse(d.Input)
			if err != nil {
				return "error: " + err.Error()
			}
			out, err := e.Explain(context.Background(), q)
			if err != nil {
				return "error: " + err.Error()
			}
			return out
		}
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		return ""
	})
}
