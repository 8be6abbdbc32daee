package query

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// isolationWorld holds two tenants whose records lie about who they are:
// acme's records carry tenant_id "evil" and a dt of their own, evil's carry
// tenant_id "acme". It records every key the engine touches.
type isolationWorld struct {
	lake    *loglake.Lake
	plain   *loglake.Lake
	mu      sync.Mutex
	touched []string
}

func newIsolationWorld(t *testing.T) *isolationWorld {
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	t.Cleanup(func() { inner.Close() })
	fb := faultblob.New(inner)
	w := &isolationWorld{}
	var err error
	if w.lake, err = loglake.New(ctx, fb.Bucket()); err != nil {
		t.Fatal(err)
	}
	if w.plain, err = loglake.New(ctx, inner); err != nil {
		t.Fatal(err)
	}
	day := loglake.NewDay(2026, 11, 20)
	acme := loglake.Partition{Tenant: "acme", Day: day}
	evil := loglake.Partition{Tenant: "evil", Day: day}
	putRaw(t, w.plain, acme, "a", [][]byte{
		[]byte(`{"timestamp":"2026-11-20T01:00:00Z","tenant_id":"evil","dt":"1999-01-01","msg":"acme one"}`),
		[]byte(`{"timestamp":"2026-11-20T02:00:00Z","msg":"acme two 社外秘"}`),
	}, loglake.CompressionZstd)
	putRaw(t, w.plain, evil, "e", [][]byte{
		[]byte(`{"timestamp":"2026-11-20T01:00:00Z","tenant_id":"acme","msg":"evil one 社外秘"}`),
		[]byte(`{"timestamp":"2026-11-20T03:00:00Z","tenant_id":"acme","dt":"2026-11-20","msg":"evil two"}`),
	}, loglake.CompressionZstd)
	compactAll(t, w.plain, evil) // one tenant compacted, one raw
	fb.SetHook(func(_ context.Context, op faultblob.Op) error {
		w.mu.Lock()
		w.touched = append(w.touched, op.Key)
		w.mu.Unlock()
		return nil
	})
	return w
}

func (w *isolationWorld) reset() {
	w.mu.Lock()
	w.touched = nil
	w.mu.Unlock()
}

// touchedOther reports keys of tenants other than acme.
func (w *isolationWorld) touchedOther() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var bad []string
	for _, k := range w.touched {
		if k != loglake.SettingsKey && !strings.Contains(k, "tenant_id=acme/") {
			bad = append(bad, k)
		}
	}
	return bad
}

func TestTenantIsolation(t *testing.T) {
	w := newIsolationWorld(t)
	e := newEngine(t, w.lake, &Options{RetentionDays: 30})

	scoped := []string{
		"SELECT * FROM logs WHERE tenant_id = 'acme'",
		"SELECT * FROM logs WHERE tenant_id IN ('acme')",
		"SELECT * FROM logs WHERE 'acme' = tenant_id AND msg LIKE '%' -- ' OR tenant_id = 'evil'",
		"SELECT * FROM logs WHERE tenant_id = 'acme' AND (tenant_id = 'evil' OR 1 = 1)",
		"SELECT * FROM logs WHERE tenant_id = 'acme' AND msg LIKE '%社外秘%' OR tenant_id = 'acme' AND NOT tenant_id = 'evil'" + " AND tenant_id = 'acme'",
		"SELECT * FROM logs WHERE tenant_id = 'acme' /* AND tenant_id = 'evil' */",
		"SELECT * FROM logs WHERE (tenant_id = 'acme') AND dt = '1999-01-01' OR tenant_id = 'acme'",
	}
	for _, sql := range scoped {
		q, err := Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		w.reset()
		got, _, err := collect(t, e, q)
		if errors.Is(err, ErrUnscopedQuery) {
			if bad := w.touchedOther(); len(bad) > 0 {
				t.Errorf("%s: unscoped, yet touched %v", sql, bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for _, r := range got {
			if r[TenantColumn] != "acme" || r[DayColumn] != "2026-11-20" {
				t.Errorf("%s: row %v: tenant_id/dt not the partition's", sql, r)
			}
			if m, _ := r["msg"].(string); strings.HasPrefix(m, "evil") {
				t.Errorf("%s: returned another tenant's record %v", sql, r)
			}
		}
		if bad := w.touchedOther(); len(bad) > 0 {
			t.Errorf("%s: touched other tenants' objects %v", sql, bad)
		}
	}

	// Queries that must be refused before any object is read.
	refused := map[string]error{
		"SELECT * FROM logs": ErrUnscopedQuery,
		"SELECT * FROM logs WHERE tenant_id = 'acme' OR 1 = 1":              ErrUnscopedQuery,
		"SELECT * FROM logs WHERE tenant_id = 'acme' OR tenant_id = 'evil'": ErrUnscopedQuery,
		"SELECT * FROM logs WHERE NOT tenant_id <> 'acme'":                  ErrUnscopedQuery,
		"SELECT * FROM logs WHERE tenant_id LIKE 'acme%'":                   ErrUnscopedQuery,
		"SELECT * FROM logs WHERE tenant_id = '../raw/tenant_id=evil'":      loglake.ErrInvalidTenant,
		"SELECT * FROM logs WHERE tenant_id IN ('acme', 'evil/..')":         loglake.ErrInvalidTenant,
		"SELECT * FROM logs WHERE tenant_id = 'acme/dt=2026-11-20/../..'":   loglake.ErrInvalidTenant,
	}
	for sql, want := range refused {
		w.reset()
		_, _, err := collect(t, e, mustParse(t, sql))
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", sql, err, want)
		}
		if len(w.touchedOther()) > 0 {
			t.Errorf("%s: touched %v", sql, w.touchedOther())
		}
	}

	// Contradictory tenants select nothing and read nothing.
	w.reset()
	got, st, err := collect(t, e, mustParse(t, "SELECT * FROM logs WHERE tenant_id = 'acme' AND tenant_id = 'evil'"))
	if err != nil || len(got) != 0 || st.PartitionsConsidered != 0 || len(w.touched) != 0 {
		t.Errorf("contradiction: %v rows, %v, touched %v, %v", got, st, w.touched, err)
	}

	// A record's own tenant_id or dt never matches in place of the
	// partition's.
	for _, sql := range []string{
		"SELECT msg FROM logs WHERE tenant_id = 'acme' AND dt = '1999-01-01'",
		"SELECT msg FROM logs WHERE tenant_id = 'acme' AND msg LIKE 'evil%'",
	} {
		got, _, err := collect(t, e, mustParse(t, sql))
		if err != nil || len(got) != 0 {
			t.Errorf("%s: %v, %v", sql, got, err)
		}
	}
	got, _, err = collect(t, e, mustParse(t, "SELECT count(*) AS n FROM logs WHERE tenant_id = 'acme' AND dt = '2026-11-20'"))
	if err != nil || got[0]["n"] != int64(2) {
		t.Errorf("acme count: %v, %v", got, err)
	}

	// Only an engine built for it reads across tenants.
	all := newEngine(t, w.lake, &Options{RetentionDays: 30, AllowCrossTenant: true})
	got, _, err = collect(t, all, mustParse(t, "SELECT tenant_id, count(*) AS n FROM logs GROUP BY tenant_id ORDER BY tenant_id"))
	if err != nil || len(got) != 2 || got[0]["n"] != int64(2) || got[1]["n"] != int64(2) || got[1][TenantColumn] != "evil" {
		t.Errorf("cross-tenant: %v, %v", got, err)
	}
}
