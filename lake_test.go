package loglake_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
)

func fileURL(dir string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

func TestOpenCreatesFileLake(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new", "lake")
	lake, err := loglake.Open(ctx, fileURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	if _, err := os.Stat(filepath.Join(dir, loglake.SettingsKey)); err != nil {
		t.Fatalf("settings object not written: %v", err)
	}
	// A plain path opens the same lake.
	again, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if diff := cmp.Diff(lake.Settings(), again.Settings()); diff != "" {
		t.Errorf("settings differ (-first +second):\n%s", diff)
	}
	// No sidecar metadata files: external engines globbing the lake would see them.
	err = lake.WriteAll(ctx, "raw/x.ndjson", []byte("{}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "raw", "x.ndjson.attrs")); !os.IsNotExist(err) {
		t.Errorf("fileblob sidecar written: %v", err)
	}
}

func TestOpenPrefix(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, fileURL(dir)+"?prefix=team-a/")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	if _, err := os.Stat(filepath.Join(dir, "team-a", loglake.SettingsKey)); err != nil {
		t.Fatalf("settings not under the prefix: %v", err)
	}
	if err := lake.CreateOnly(ctx, "compacted/m/1.json", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "team-a", "compacted", "m", "1.json")); err != nil {
		t.Fatalf("create-only object not under the prefix: %v", err)
	}
	got, err := lake.ReadAll(ctx, "compacted/m/1.json")
	if err != nil || string(got) != "1" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
}

func TestSettingsConflict(t *testing.T) {
	ctx := context.Background()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir, loglake.WithTimeZone(tokyo), loglake.WithTenantField("company"))
	if err != nil {
		t.Fatal(err)
	}
	lake.Close()

	// Opening without options adopts the stored settings.
	lake, err = loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := lake.Location().String(); got != "Asia/Tokyo" {
		t.Errorf("Location = %s, want Asia/Tokyo", got)
	}
	if got := lake.Settings().TenantField; got != "company" {
		t.Errorf("TenantField = %s, want company", got)
	}
	lake.Close()

	// Agreeing options are fine.
	lake, err = loglake.Open(ctx, dir, loglake.WithTimeZone(tokyo))
	if err != nil {
		t.Fatal(err)
	}
	lake.Close()

	// Conflicting options are an error that names the setting.
	_, err = loglake.Open(ctx, dir, loglake.WithTimeZone(time.UTC), loglake.WithRawCompression(loglake.CompressionGzip))
	if !errors.Is(err, loglake.ErrSettingsMismatch) {
		t.Fatalf("Open with a conflicting zone = %v, want ErrSettingsMismatch", err)
	}
	for _, want := range []string{"time_zone", "Asia/Tokyo", "UTC", "raw_compression"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer b.Close()
	_, err := loglake.New(ctx, b,
		loglake.WithTimeZone(time.Local),
		loglake.WithTenantField(`te"nant`),
		loglake.WithTimestampFormats(),
		loglake.WithRawCompression("lz9"),
	)
	if !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Fatalf("New = %v, want ErrInvalidOptions", err)
	}
	for _, want := range []string{"TimeZone", "TenantField", "TimestampFormats", "RawCompression"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := loglake.New(ctx, nil); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v, want ErrInvalidOptions", err)
	}
	if _, err := loglake.Open(ctx, ""); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("Open(\"\") = %v, want ErrInvalidOptions", err)
	}
	// A fileblob bucket without its directory cannot get atomic create-only writes.
	fb, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	if _, err := loglake.New(ctx, fb); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("New(fileblob) without WithLocalDir = %v, want ErrInvalidOptions", err)
	}
}

func TestCorruptSettings(t *testing.T) {
	ctx := context.Background()
	for name, content := range map[string]string{
		"not json":       "{",
		"future version": `{"format_version": 99, "time_zone": "UTC", "tenant_field": "tenant_id", "timestamp_field": "timestamp", "timestamp_formats": ["rfc3339"], "raw_compression": "zstd", "schema_version": 1}`,
		"bad zone":       `{"format_version": 1, "time_zone": "Mars/Olympus", "tenant_field": "tenant_id", "timestamp_field": "timestamp", "timestamp_formats": ["rfc3339"], "raw_compression": "zstd", "schema_version": 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			b := memblob.OpenBucket(nil)
			defer b.Close()
			if err := b.WriteAll(ctx, loglake.SettingsKey, []byte(content), nil); err != nil {
				t.Fatal(err)
			}
			_, err := loglake.New(ctx, b)
			if !errors.Is(err, loglake.ErrCorrupt) {
				t.Fatalf("New = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestMustExist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := loglake.Open(ctx, dir, loglake.WithMustExist())
	if !loglake.IsNotFound(err) {
		t.Fatalf("Open(WithMustExist) of an empty dir = %v, want not found", err)
	}
	if _, err := os.Stat(filepath.Join(dir, loglake.SettingsKey)); !os.IsNotExist(err) {
		t.Fatalf("WithMustExist created the lake")
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.Close(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{
		"Close":      lake.Close(),
		"ReadAll":    func() error { _, err := lake.ReadAll(ctx, "x"); return err }(),
		"WriteAll":   lake.WriteAll(ctx, "x", nil, nil),
		"CreateOnly": lake.CreateOnly(ctx, "x", nil),
		"Delete":     lake.Delete(ctx, "x"),
		"NewReader":  func() error { _, err := lake.NewReader(ctx, "x"); return err }(),
		"NewWriter":  func() error { _, err := lake.NewWriter(ctx, "x", nil); return err }(),
		"Attributes": func() error { _, err := lake.Attributes(ctx, "x"); return err }(),
		"List": func() error {
			for _, err := range lake.List(ctx, "", "") {
				return err
			}
			return nil
		}(),
	}
	for name, err := range checks {
		if !errors.Is(err, loglake.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestErrorsAreWrapped(t *testing.T) {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	_, err = lake.ReadAll(ctx, "raw/missing.ndjson")
	if !loglake.IsNotFound(err) || !strings.Contains(err.Error(), "raw/missing.ndjson") {
		t.Errorf("ReadAll(missing) = %v, want a not-found error naming the key", err)
	}
	if err := lake.Delete(ctx, "raw/missing.ndjson"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil (deletes are idempotent)", err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	err = lake.WriteAll(ctx2, "x", []byte("x"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WriteAll with a canceled ctx = %v, want context.Canceled", err)
	}
}

// TestCreateOnlyRace races many create-only writers on one key, on every
// local backend, and checks that exactly one wins and its bytes are what a
// reader sees.
func TestCreateOnlyRace(t *testing.T) {
	ctx := context.Background()
	backends := map[string]func(t *testing.T) string{
		"mem":         func(t *testing.T) string { return "mem://" },
		"file":        func(t *testing.T) string { return fileURL(t.TempDir()) },
		"file-prefix": func(t *testing.T) string { return fileURL(t.TempDir()) + "?prefix=p/q/" },
	}
	for name, mk := range backends {
		t.Run(name, func(t *testing.T) {
			lake, err := loglake.Open(ctx, mk(t))
			if err != nil {
				t.Fatal(err)
			}
			defer lake.Close()
			for round := 0; round < 20; round++ {
				key := fmt.Sprintf("compacted/tenant_id=a/dt=2026-01-01/_manifest/%020d.json", round)
				const writers = 16
				var wins atomic.Int32
				var winner atomic.Value
				var wg sync.WaitGroup
				start := make(chan struct{})
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						body := fmt.Sprintf("writer %d %s", w, strings.Repeat("x", w*1000))
						err := lake.CreateOnly(ctx, key, []byte(body))
						switch {
						case err == nil:
							wins.Add(1)
							winner.Store(body)
						case !errors.Is(err, loglake.ErrConflict):
							t.Errorf("CreateOnly: %v", err)
						}
					}()
				}
				close(start)
				wg.Wait()
				if n := wins.Load(); n != 1 {
					t.Fatalf("round %d: %d winners, want exactly 1", round, n)
				}
				got, err := lake.ReadAll(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != winner.Load().(string) {
					t.Fatalf("round %d: stored object is not the winner's", round)
				}
			}
		})
	}
}

// apiError mimics an S3 API error (smithy-go's APIError shape).
type apiError struct{ code string }

func (e apiError) Error() string     { return "api error " + e.code }
func (e apiError) ErrorCode() string { return e.code }

// TestCreateOnlyRetriesConditionalConflict checks that S3's 409
// ConditionalRequestConflict (a racing conditional write still in flight) is
// retried instead of surfacing as a plain failure.
func TestCreateOnlyRetriesConditionalConflict(t *testing.T) {
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	defer inner.Close()
	fb := faultblob.New(inner)
	lake, err := loglake.New(ctx, fb.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	base := fb.Count(faultblob.OpWrite) // the settings object
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "m/", Times: 2, Err: apiError{"ConditionalRequestConflict"}})
	if err := lake.CreateOnly(ctx, "m/1", []byte("x")); err != nil {
		t.Fatalf("CreateOnly after two 409s = %v, want nil", err)
	}
	fb.Reset()
	if err := lake.CreateOnly(ctx, "m/1", []byte("y")); !errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("second CreateOnly = %v, want ErrConflict", err)
	}
	// Another API error is not retried.
	fb.Add(&faultblob.Rule{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "m/", Err: apiError{"AccessDenied"}})
	if err := lake.CreateOnly(ctx, "m/2", []byte("x")); err == nil || errors.Is(err, loglake.ErrConflict) {
		t.Fatalf("CreateOnly with AccessDenied = %v, want a plain error", err)
	}
	if n := fb.Count(faultblob.OpWrite) - base; n != 5 {
		t.Errorf("%d write attempts, want 5 (3 + 1 + 1)", n)
	}
}

// TestListSurvivesConcurrentChurn lists a file:// partition while other
// goroutines write (through temp files renamed into place) and delete objects
// in it: every listing succeeds and holds every object that stayed put.
func TestListSurvivesConcurrentChurn(t *testing.T) {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	const prefix = "raw/tenant_id=a/dt=2026-01-01/"
	const stable = 200
	for i := 0; i < stable; i++ {
		if err := lake.WriteAll(ctx, fmt.Sprintf("%sstable-%04d.ndjson", prefix, i), []byte("{}\n"), nil); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("%schurn-%d-%04d.ndjson", prefix, w, i%50)
				_ = lake.WriteAll(ctx, key, []byte("{}\n"), nil)
				_ = lake.Delete(ctx, key)
				_ = lake.CreateOnly(ctx, fmt.Sprintf("compacted/tenant_id=a/dt=2026-01-01/_manifest/%d-%d.json", w, i), []byte("{}"))
			}
		}()
	}
	for round := 0; round < 200; round++ {
		n := 0
		delim := []string{"", "/"}[round%2] // fileblob's walk, and the lake's own directory read
		for obj, err := range lake.List(ctx, prefix, delim) {
			if err != nil {
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: %v", round, err)
			}
			if strings.Contains(obj.Key, "stable-") {
				n++
			}
		}
		if n != stable {
			close(stop)
			wg.Wait()
			t.Fatalf("round %d: listed %d stable objects, want %d", round, n, stable)
		}
	}
	close(stop)
	wg.Wait()
}
