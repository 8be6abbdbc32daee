package loglaketest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// lakeTests open lakes on the backend: settings are written once, read
// back, and never silently changed.
var lakeTests = []test{
	{"Lake/CreatesSettings", testLakeCreatesSettings},
	{"Lake/ReopenAdoptsSettings", testLakeReopen},
	{"Lake/ConflictingOptions", testLakeConflict},
	{"Lake/ConcurrentCreate", testLakeConcurrentCreate},
	{"Lake/MustExist", testLakeMustExist},
	{"Lake/CorruptSettings", testLakeCorruptSettings},
	{"Lake/Closed", testLakeClosed},
	{"Lake/ErrorsAreWrapped", testLakeErrorsAreWrapped},
}

func testLakeCreatesSettings(t *testing.T, f *fixture) {
	b, bopts := f.bucket(t)
	l := f.lakeOn(t, b, bopts)
	data, err := l.ReadAll(f.ctx, loglake.SettingsKey)
	if err != nil {
		t.Fatalf("settings object: %v", err)
	}
	var stored loglake.Settings
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatalf("settings object is not JSON: %v\n%s", err, data)
	}
	if diff := cmp.Diff(l.Settings(), stored); diff != "" {
		t.Errorf("stored settings differ from the lake's (-lake +stored):\n%s", diff)
	}
	// The settings object is the only object a new lake writes.
	if got := keys(t, f.ctx, l, "", ""); !cmp.Equal(got, []string{loglake.SettingsKey}) {
		t.Errorf("a new lake holds %q, want only %q", got, loglake.SettingsKey)
	}
}

func testLakeReopen(t *testing.T, f *fixture) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	b, bopts := f.bucket(t)
	first := f.lakeOn(t, b, bopts, loglake.WithTimeZone(tokyo), loglake.WithTenantField("company"))
	// A second lake on the same objects, without options, adopts them.
	again := f.lakeOn(t, b, bopts)
	if diff := cmp.Diff(first.Settings(), again.Settings()); diff != "" {
		t.Errorf("reopened settings differ (-first +again):\n%s", diff)
	}
	if got := again.Location().String(); got != "Asia/Tokyo" {
		t.Errorf("Location = %s, want Asia/Tokyo", got)
	}
	// Agreeing options are fine.
	f.lakeOn(t, b, bopts, loglake.WithTimeZone(tokyo))
}

func testLakeConflict(t *testing.T, f *fixture) {
	b, bopts := f.bucket(t)
	f.lakeOn(t, b, bopts, loglake.WithRawCompression(loglake.CompressionGzip))
	before, err := b.ReadAll(f.ctx, loglake.SettingsKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = loglake.New(f.ctx, b, append(bopts, loglake.WithRawCompression(loglake.CompressionZstd), loglake.WithTimestampField("ts"))...)
	if !errors.Is(err, loglake.ErrSettingsMismatch) {
		t.Fatalf("New with conflicting options = %v, want ErrSettingsMismatch", err)
	}
	for _, want := range []string{"raw_compression", "gzip", "zstd", "timestamp_field"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	after, err := b.ReadAll(f.ctx, loglake.SettingsKey)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("a refused open changed the settings object:\n%s\n----\n%s", before, after)
	}
}

// testLakeConcurrentCreate opens one new lake from many goroutines at once,
// half asking for one codec and half for another. The settings object is
// created once (a create-only write); the openers that agree with it
// succeed and the others get ErrSettingsMismatch — nobody sees a torn or
// overwritten settings object.
func testLakeConcurrentCreate(t *testing.T, f *fixture) {
	b, bopts := f.bucket(t)
	const openers = 8
	codecs := []loglake.Compression{loglake.CompressionGzip, loglake.CompressionNone}
	type result struct {
		codec loglake.Compression
		err   error
	}
	results := make([]result, openers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range openers {
		wg.Go(func() {
			<-start
			c := codecs[i%len(codecs)]
			l, err := loglake.New(f.ctx, b, append(bopts[:len(bopts):len(bopts)], loglake.WithRawCompression(c))...)
			if err == nil {
				if got := l.Settings().RawCompression; got != c {
					err = fmt.Errorf("opened with RawCompression %s, asked for %s", got, c)
				}
				_ = l.Close()
			}
			results[i] = result{c, err}
		})
	}
	close(start)
	wg.Wait()
	stored := f.lakeOn(t, b, bopts).Settings().RawCompression
	for i, r := range results {
		switch {
		case r.codec == stored && r.err != nil:
			t.Errorf("opener %d (%s, as stored): %v", i, r.codec, r.err)
		case r.codec != stored && !errors.Is(r.err, loglake.ErrSettingsMismatch):
			t.Errorf("opener %d (%s, stored is %s): %v, want ErrSettingsMismatch", i, r.codec, stored, r.err)
		}
	}
}

func testLakeMustExist(t *testing.T, f *fixture) {
	b, bopts := f.bucket(t)
	_, err := loglake.New(f.ctx, b, append(bopts, loglake.WithMustExist())...)
	if !loglake.IsNotFound(err) {
		t.Fatalf("New(WithMustExist) on an empty bucket = %v, want a not-found error", err)
	}
	if ok, err := b.Exists(f.ctx, loglake.SettingsKey); err != nil || ok {
		t.Fatalf("WithMustExist created the lake (exists=%v, err=%v)", ok, err)
	}
	f.lakeOn(t, b, bopts)
	f.lakeOn(t, b, bopts, loglake.WithMustExist())
}

func testLakeCorruptSettings(t *testing.T, f *fixture) {
	for name, content := range map[string]string{
		"truncated":      `{"format_version": 1, "time_zone": "UT`,
		"future version": `{"format_version": 99, "time_zone": "UTC", "tenant_field": "tenant_id", "timestamp_field": "timestamp", "timestamp_formats": ["rfc3339"], "raw_compression": "zstd", "schema_version": 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			b, bopts := f.bucket(t)
			if err := b.WriteAll(f.ctx, loglake.SettingsKey, []byte(content), nil); err != nil {
				t.Fatal(err)
			}
			_, err := loglake.New(f.ctx, b, bopts...)
			if !errors.Is(err, loglake.ErrCorrupt) {
				t.Fatalf("New = %v, want ErrCorrupt", err)
			}
		})
	}
}

func testLakeClosed(t *testing.T, f *fixture) {
	b, bopts := f.bucket(t)
	l, err := loglake.New(f.ctx, b, bopts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// New does not own the bucket: it stays usable after the lake closes.
	if _, err := b.ReadAll(f.ctx, loglake.SettingsKey); err != nil {
		t.Errorf("bucket after Lake.Close: %v", err)
	}
	ctx := f.ctx
	for name, err := range map[string]error{
		"Close":      l.Close(),
		"ReadAll":    second(l.ReadAll(ctx, "k")),
		"WriteAll":   l.WriteAll(ctx, "k", nil, nil),
		"CreateOnly": l.CreateOnly(ctx, "k", nil),
		"Delete":     l.Delete(ctx, "k"),
		"NewReader":  second(l.NewReader(ctx, "k")),
		"NewWriter":  second(l.NewWriter(ctx, "k", nil)),
		"Attributes": second(l.Attributes(ctx, "k")),
		"List":       firstErr(l.List(ctx, "", "")),
	} {
		if !errors.Is(err, loglake.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// testLakeErrorsAreWrapped fails each operation of the Lake at the driver
// and checks that the error keeps the cause (errors.Is) and names the key.
func testLakeErrorsAreWrapped(t *testing.T, f *fixture) {
	fl := f.faultyLake(t)
	ctx := f.ctx
	if err := fl.clean.WriteAll(ctx, "raw/present", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		kind faultblob.OpKind
		key  string
		call func() error
	}{
		{"ReadAll", faultblob.OpRead, "raw/present", func() error { return second(fl.lake.ReadAll(ctx, "raw/present")) }},
		{"NewReader", faultblob.OpRead, "raw/present", func() error { return second(fl.lake.NewReader(ctx, "raw/present")) }},
		{"Attributes", faultblob.OpAttrs, "raw/present", func() error { return second(fl.lake.Attributes(ctx, "raw/present")) }},
		{"WriteAll", faultblob.OpWrite, "raw/new", func() error { return fl.lake.WriteAll(ctx, "raw/new", []byte("x"), nil) }},
		{"CreateOnly", faultblob.OpWrite, "compacted/m/1.json", func() error { return fl.lake.CreateOnly(ctx, "compacted/m/1.json", []byte("x")) }},
		{"Delete", faultblob.OpDelete, "raw/present", func() error { return fl.lake.Delete(ctx, "raw/present") }},
		{"List", faultblob.OpList, "raw/", func() error { return firstErr(fl.lake.List(ctx, "raw/", "")) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			fl.faults.Reset()
			fl.faults.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{op.kind}})
			defer fl.faults.Reset()
			before := fl.faults.Count(op.kind)
			err := op.call()
			if fl.faults.Count(op.kind) == before {
				t.Skipf("%s does not go through the bucket on this backend", op.name)
			}
			if !errors.Is(err, faultblob.ErrInjected) {
				t.Fatalf("%s = %v, want an error wrapping the injected failure", op.name, err)
			}
			if !strings.Contains(err.Error(), op.key) {
				t.Errorf("%s error %q does not name key %q", op.name, err, op.key)
			}
			if errors.Is(err, loglake.ErrConflict) || loglake.IsNotFound(err) {
				t.Errorf("%s: an injected failure reads as conflict or not-found: %v", op.name, err)
			}
		})
	}
	// Context errors are never buried.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := fl.clean.WriteAll(canceled, "raw/canceled", []byte("x"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteAll with a canceled ctx = %v, want context.Canceled", err)
	}
}
