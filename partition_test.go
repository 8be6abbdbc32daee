package loglake_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
)

func TestValidateTenant(t *testing.T) {
	valid := []string{
		"a", "A", "0", "acme", "tenant-001", "Tenant_42", "acme.corp", "a.b.c",
		"0123456789abcdef0123456789abcdef", // 32 hex chars
		"550e8400-e29b-41d4-a716-446655440000",
		strings.Repeat("x", loglake.MaxTenantLen),
	}
	for _, id := range valid {
		if err := loglake.ValidateTenant(id); err != nil {
			t.Errorf("ValidateTenant(%q) = %v, want nil", id, err)
		}
	}
	hostile := []struct{ name, id string }{
		{"empty", ""},
		{"too long", strings.Repeat("x", loglake.MaxTenantLen+1)},
		{"slash", "a/b"},
		{"traversal", "../etc"},
		{"traversal inside", "a/../b"},
		{"double dot", "a..b"},
		{"trailing dots", "a.."},
		{"leading dot", ".hidden"},
		{"leading dash", "-rf"},
		{"leading underscore", "_manifest"},
		{"backslash", `a\b`},
		{"equals", "tenant_id=x"},
		{"percent", "a%2Fb"},
		{"space", "a b"},
		{"NUL", "a\x00b"},
		{"newline", "a\nb"},
		{"DEL", "a\x7f"},
		{"tab", "a\tb"},
		{"fullwidth A look-alike", "Ａcme"},
		{"cyrillic a look-alike", "аcme"},
		{"zero-width space", "ac\u200bme"},
		{"RTL override", "acme\u202e"},
		{"fullwidth solidus", "a／b"},
		{"invalid utf8", "a\xffb"},
		{"colon", "a:b"},
		{"star", "a*"},
		{"question", "a?"},
		{"quote", `a"b`},
		{"hash", "a#b"},
		{"brace template", "${tenant}"},
	}
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			err := loglake.ValidateTenant(tc.id)
			if !errors.Is(err, loglake.ErrInvalidTenant) {
				t.Fatalf("ValidateTenant(%q) = %v, want ErrInvalidTenant", tc.id, err)
			}
			p := loglake.Partition{Tenant: tc.id, Day: loglake.NewDay(2026, 1, 2)}
			if err := p.Validate(); !errors.Is(err, loglake.ErrInvalidTenant) {
				t.Fatalf("Partition.Validate() = %v, want ErrInvalidTenant", err)
			}
			if _, err := loglake.ParsePartitionKey(p.Key()); err == nil {
				t.Fatalf("ParsePartitionKey(%q) accepted a hostile tenant", p.Key())
			}
		})
	}
}

func TestValidateTenantAllocs(t *testing.T) {
	ids := []string{"tenant-001", "acme.corp", strings.Repeat("x", 64)}
	allocs := testing.AllocsPerRun(100, func() {
		for _, id := range ids {
			if loglake.ValidateTenant(id) != nil {
				t.Fatal("unexpected error")
			}
		}
	})
	if allocs != 0 {
		t.Errorf("ValidateTenant of valid ids allocates %v times, want 0", allocs)
	}
}

func TestParseDay(t *testing.T) {
	f := func(in string, want loglake.Day, ok bool) {
		t.Helper()
		got, err := loglake.ParseDay(in)
		if ok != (err == nil) {
			t.Fatalf("ParseDay(%q) error = %v, want ok=%v", in, err, ok)
		}
		if !ok {
			if !errors.Is(err, loglake.ErrInvalidDay) {
				t.Fatalf("ParseDay(%q) = %v, want ErrInvalidDay", in, err)
			}
			return
		}
		if got != want {
			t.Fatalf("ParseDay(%q) = %v, want %v", in, got, want)
		}
	}
	f("2026-11-23", loglake.NewDay(2026, 11, 23), true)
	f("2024-02-29", loglake.NewDay(2024, 2, 29), true)
	f("0001-01-01", loglake.NewDay(1, 1, 1), true)
	f("9999-12-31", loglake.NewDay(9999, 12, 31), true)
	f("2023-02-29", loglake.Day{}, false)
	f("1900-02-29", loglake.Day{}, false)
	f("2026-13-01", loglake.Day{}, false)
	f("2026-00-10", loglake.Day{}, false)
	f("2026-04-31", loglake.Day{}, false)
	f("0000-01-01", loglake.Day{}, false)
	f("2026-1-01", loglake.Day{}, false)
	f("2026/01/01", loglake.Day{}, false)
	f("+026-01-01", loglake.Day{}, false)
	f("2026-01-0a", loglake.Day{}, false)
	f("", loglake.Day{}, false)
	f("2026-01-01T00:00:00Z", loglake.Day{}, false)
}

func TestDayArithmetic(t *testing.T) {
	d := loglake.NewDay(2024, 2, 28)
	cases := []struct {
		n    int
		want loglake.Day
	}{
		{0, loglake.NewDay(2024, 2, 28)},
		{1, loglake.NewDay(2024, 2, 29)},
		{2, loglake.NewDay(2024, 3, 1)},
		{-59, loglake.NewDay(2023, 12, 31)},
		{1825, loglake.NewDay(2029, 2, 26)},
	}
	for _, c := range cases {
		got := d.AddDays(c.n)
		if got != c.want {
			t.Errorf("%v.AddDays(%d) = %v, want %v", d, c.n, got, c.want)
		}
		if back := got.DaysSince(d); back != c.n {
			t.Errorf("%v.DaysSince(%v) = %d, want %d", got, d, back, c.n)
		}
		if c.n > 0 && !got.After(d) || c.n < 0 && !got.Before(d) || c.n == 0 && got.Compare(d) != 0 {
			t.Errorf("ordering of %v and %v is wrong", got, d)
		}
	}
}

func TestDayOfTimeZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	ts := time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC) // 01:30 on the 23rd in Tokyo
	if got, want := loglake.DayOf(ts, time.UTC), loglake.NewDay(2026, 11, 22); got != want {
		t.Errorf("DayOf UTC = %v, want %v", got, want)
	}
	if got, want := loglake.DayOf(ts, tokyo), loglake.NewDay(2026, 11, 23); got != want {
		t.Errorf("DayOf Tokyo = %v, want %v", got, want)
	}
	start := loglake.NewDay(2026, 11, 23).Start(tokyo)
	if got := start.UTC(); !got.Equal(time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Start(Tokyo) = %v", got)
	}
}

func TestPartitionKeys(t *testing.T) {
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 3)}
	if got, want := p.Key(), "tenant_id=acme/dt=2026-11-03"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
	if got, want := p.Prefix(loglake.AreaRaw), "raw/tenant_id=acme/dt=2026-11-03/"; got != want {
		t.Errorf("Prefix(raw) = %q, want %q", got, want)
	}
	if got, want := loglake.TenantPrefix(loglake.AreaCompacted, "acme"), "compacted/tenant_id=acme/"; got != want {
		t.Errorf("TenantPrefix = %q, want %q", got, want)
	}
	for _, key := range []string{"tenant_id=acme/dt=2026-11-03", "tenant_id=acme/dt=2026-11-03/"} {
		got, err := loglake.ParsePartitionKey(key)
		if err != nil {
			t.Fatalf("ParsePartitionKey(%q): %v", key, err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("ParsePartitionKey(%q) mismatch (-want +got):\n%s", key, diff)
		}
	}
	bad := []string{
		"", "acme/2026-11-03", "tenant_id=acme", "tenant_id=/dt=2026-11-03",
		"tenant_id=acme/dt=2026-02-30", "tenant_id=acme/dt=2026-11-03/x",
		"tenant_id=a/b/dt=2026-11-03", "tenant_id=../dt=2026-11-03",
		"dt=2026-11-03/tenant_id=acme", "tenant_id=acme/dt=2026-11-03//",
	}
	for _, key := range bad {
		if _, err := loglake.ParsePartitionKey(key); !errors.Is(err, loglake.ErrInvalidKey) {
			t.Errorf("ParsePartitionKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestParseObjectKey(t *testing.T) {
	cases := []struct {
		key  string
		want loglake.ObjectKey
		ok   bool
	}{
		{"raw/tenant_id=acme/dt=2026-11-03/w1-000001.ndjson.zst", loglake.ObjectKey{Area: "raw", Partition: loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 3)}, Name: "w1-000001.ndjson.zst"}, true},
		{"compacted/tenant_id=a.b/dt=2020-02-29/_manifest/00000000000000000003.json", loglake.ObjectKey{Area: "compacted", Partition: loglake.Partition{Tenant: "a.b", Day: loglake.NewDay(2020, 2, 29)}, Name: "_manifest/00000000000000000003.json"}, true},
		{"raw/tenant_id=acme/dt=2026-11-03/", loglake.ObjectKey{}, false},
		{"spill/w1/x.ndjson.zst", loglake.ObjectKey{}, false},
		{"raw/tenant_id=acme/dt=2026-11-3/x", loglake.ObjectKey{}, false},
		{"raw/tenant_id=ac/me/dt=2026-11-03/x", loglake.ObjectKey{}, false},
		{"raw/x", loglake.ObjectKey{}, false},
	}
	for _, c := range cases {
		got, err := loglake.ParseObjectKey(c.key)
		if c.ok != (err == nil) {
			t.Errorf("ParseObjectKey(%q) error = %v, want ok=%v", c.key, err, c.ok)
			continue
		}
		if !c.ok {
			if !errors.Is(err, loglake.ErrInvalidKey) {
				t.Errorf("ParseObjectKey(%q) = %v, want ErrInvalidKey", c.key, err)
			}
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseObjectKey(%q) mismatch (-want +got):\n%s", c.key, diff)
		}
	}
}

func TestAppendKeyAllocs(t *testing.T) {
	p := loglake.Partition{Tenant: "tenant-001", Day: loglake.NewDay(2026, 11, 3)}
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		buf = p.AppendPrefix(buf[:0], loglake.AreaRaw)
	})
	if allocs != 0 {
		t.Errorf("AppendPrefix allocates %v times, want 0", allocs)
	}
}

func FuzzPartitionKey(f *testing.F) {
	f.Add("acme", 2026, 11, 3)
	f.Add("a..b", 2024, 2, 29)
	f.Add("../x", 1, 1, 1)
	f.Add("Ａ", 9999, 12, 31)
	f.Fuzz(func(t *testing.T, tenant string, y, m, d int) {
		p := loglake.Partition{Tenant: tenant, Day: loglake.NewDay(y, time.Month(m), d)}
		key := p.Key() // must not panic, whatever the values
		got, err := loglake.ParsePartitionKey(key)
		if p.Validate() != nil {
			if err == nil && got == p {
				t.Fatalf("invalid partition %#v round-tripped through %q", p, key)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParsePartitionKey(%q) of a valid partition: %v", key, err)
		}
		if got != p {
			t.Fatalf("round trip of %q: got %#v, want %#v", key, got, p)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add("tenant_id=acme/dt=2026-11-03")
	f.Add("raw/tenant_id=acme/dt=2026-11-03/x.ndjson.zst")
	f.Add("tenant_id=a/dt=2026-11-03/dt=2026-11-03")
	f.Add("compacted/tenant_id=/dt=")
	f.Fuzz(func(t *testing.T, key string) {
		if p, err := loglake.ParsePartitionKey(key); err == nil {
			if p.Validate() != nil {
				t.Fatalf("ParsePartitionKey(%q) returned invalid %#v", key, p)
			}
			if p.Key() != strings.TrimSuffix(key, "/") {
				t.Fatalf("ParsePartitionKey(%q) = %q: not the same key", key, p.Key())
			}
		}
		if k, err := loglake.ParseObjectKey(key); err == nil {
			if k.Partition.Validate() != nil {
				t.Fatalf("ParseObjectKey(%q) returned invalid %#v", key, k)
			}
			if got := k.Partition.Prefix(k.Area) + k.Name; got != key {
				t.Fatalf("ParseObjectKey(%q) does not rebuild: %q", key, got)
			}
		}
	})
}
