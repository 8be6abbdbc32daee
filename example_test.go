package loglake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/loglake/loglake"
)

// Open a lake in a local directory: the directory and the lake's settings
// object are created on first use.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lake-")
	defer os.RemoveAll(dir)

	lake, err := loglake.Open(ctx, filepath.Join(dir, "lake"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lake.Close()
	s := lake.Settings()
	fmt.Println(s.TimeZone, s.TenantField, s.TimestampField, s.RawCompression)
	// Output: UTC tenant_id timestamp zstd
}

// A lake's settings never change silently: opening it with a conflicting
// option is an error.
func ExampleOpen_settingsMismatch() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lake-")
	defer os.RemoveAll(dir)

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		fmt.Println("true") // no tz database on this machine
		return
	}
	lake, _ := loglake.Open(ctx, dir, loglake.WithTimeZone(tokyo))
	lake.Close()

	_, err = loglake.Open(ctx, dir, loglake.WithTimeZone(time.UTC))
	fmt.Println(errors.Is(err, loglake.ErrSettingsMismatch))
	// Output: true
}

// Partitions render to Hive-style keys and parse back.
func ExamplePartition() {
	p := loglake.Partition{Tenant: "acme", Day: loglake.NewDay(2026, 11, 23)}
	fmt.Println(p.Key())
	fmt.Println(p.Prefix(loglake.AreaRaw))

	q, err := loglake.ParsePartitionKey("tenant_id=acme/dt=2026-11-23")
	fmt.Println(q == p, err)
	// Output:
	// tenant_id=acme/dt=2026-11-23
	// raw/tenant_id=acme/dt=2026-11-23/
	// true <nil>
}

// Tenant ids never change the meaning of a key.
func ExampleValidateTenant() {
	for _, id := range []string{"acme-corp", "../other", "a/b", "Ａcme"} {
		err := loglake.ValidateTenant(id)
		fmt.Println(id, errors.Is(err, loglake.ErrInvalidTenant))
	}
	// Output:
	// acme-corp false
	// ../other true
	// a/b true
	// Ａcme true
}

// DayOf gives the day of an instant in the lake's time zone.
func ExampleDayOf() {
	t := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	fmt.Println(loglake.DayOf(t, time.UTC))
	fmt.Println(loglake.DayOf(t, time.FixedZone("JST", 9*3600)))
	// Output:
	// 2026-11-22
	// 2026-11-23
}

// CreateOnly is the commit primitive: of concurrent writers exactly one
// succeeds, the others get ErrConflict.
func ExampleLake_CreateOnly() {
	ctx := context.Background()
	lake, _ := loglake.Open(ctx, "mem://")
	defer lake.Close()

	err1 := lake.CreateOnly(ctx, "compacted/tenant_id=acme/dt=2026-11-23/_manifest/1.json", []byte("{}"))
	err2 := lake.CreateOnly(ctx, "compacted/tenant_id=acme/dt=2026-11-23/_manifest/1.json", []byte("{}"))
	fmt.Println(err1, errors.Is(err2, loglake.ErrConflict))
	// Output: <nil> true
}
