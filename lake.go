package loglake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// lakes
	_ "gocloud.dev/blob/memblob"  // mem:// lakes
	_ "gocloud.dev/blob/s3blob"   // s3:// lakes
	"gocloud.dev/gcerrors"
)

// SettingsKey is the key of the object at a lake's root that records its
// settings. It is written once, when the lake is first opened.
const SettingsKey = "_loglake.json"

// FormatVersion is the version of the lake layout this package writes and
// reads. A lake with a newer version is refused rather than misread.
const FormatVersion = 1

// Compression names a codec for raw objects.
type Compression string

// The codecs for raw NDJSON objects. The extension of each object says how
// it was written, so a lake can hold objects of several codecs.
const (
	CompressionZstd Compression = "zstd" // default: fast to write and ~2 GB/s to read
	CompressionGzip Compression = "gzip" // for tools that only read gzip
	CompressionNone Compression = "none" // plain NDJSON
)

// Ext returns the object-name extension of the codec, e.g. ".ndjson.zst".
func (c Compression) Ext() string {
	switch c {
	case CompressionGzip:
		return ".ndjson.gz"
	case CompressionNone:
		return ".ndjson"
	default:
		return ".ndjson.zst"
	}
}

// TimestampFormat names an accepted encoding of a record's event time.
type TimestampFormat string

// Accepted timestamp formats. A JSON string is tried as RFC 3339 (with "Z"
// or a numeric offset, fractional seconds optional); a JSON number is taken
// as epoch seconds or epoch milliseconds by magnitude (values at or above
// 1e11 are milliseconds: 1e11 seconds is the year 5138).
const (
	TimestampRFC3339     TimestampFormat = "rfc3339"
	TimestampEpochSecond TimestampFormat = "epoch_seconds"
	TimestampEpochMilli  TimestampFormat = "epoch_millis"
)

// Settings are the properties of a lake that every writer and reader must
// agree on. They live in the object [SettingsKey] at the lake's root, so a
// lake describes itself; see [Open].
type Settings struct {
	// FormatVersion is the lake layout version; see [FormatVersion].
	FormatVersion int `json:"format_version"`
	// TimeZone is the IANA name of the zone in which a record's time gives
	// its day (dt). Default: "UTC".
	TimeZone string `json:"time_zone"`
	// TenantField is the JSON field that carries the tenant id, in
	// envelopes and in formatted records. Default: "tenant_id".
	TenantField string `json:"tenant_field"`
	// TimestampField is the JSON field that carries a record's event time.
	// Default: "timestamp".
	TimestampField string `json:"timestamp_field"`
	// TimestampFormats are the accepted encodings of the event time.
	// Default: all of rfc3339, epoch_seconds, epoch_millis.
	TimestampFormats []TimestampFormat `json:"timestamp_formats"`
	// RawCompression is the codec of new raw objects. Default: zstd.
	RawCompression Compression `json:"raw_compression"`
	// SchemaVersion is the version of the record schema conventions
	// (reserved for future migrations). Default: 1.
	SchemaVersion int `json:"schema_version"`
}

func defaultSettings() Settings {
	return Settings{
		FormatVersion:    FormatVersion,
		TimeZone:         "UTC",
		TenantField:      "tenant_id",
		TimestampField:   "timestamp",
		TimestampFormats: []TimestampFormat{TimestampRFC3339, TimestampEpochSecond, TimestampEpochMilli},
		RawCompression:   CompressionZstd,
		SchemaVersion:    1,
	}
}

// Option configures [Open] and [New]. Options that name a setting (time
// zone, fields, formats, compression) apply when the lake is created and are
// checked against the stored settings when it already exists: a conflict is
// [ErrSettingsMismatch], never a silent change.
type Option func(*options)

type options struct {
	set       map[string]bool // settings named by the caller
	s         Settings
	localDir  string
	mustExist bool
	readOnly  bool
}

// WithTimeZone sets the zone in which records' times give their day. loc
// must have an IANA name (time.LoadLocation); time.Local is refused because
// it differs from machine to machine.
func WithTimeZone(loc *time.Location) Option {
	return func(o *options) {
		name := "<nil>"
		if loc != nil {
			name = loc.String()
		}
		o.s.TimeZone = name
		o.set["time_zone"] = true
	}
}

// WithTenantField sets the JSON field that carries the tenant id.
func WithTenantField(name string) Option {
	return func(o *options) { o.s.TenantField = name; o.set["tenant_field"] = true }
}

// WithTimestampField sets the JSON field that carries the event time.
func WithTimestampField(name string) Option {
	return func(o *options) { o.s.TimestampField = name; o.set["timestamp_field"] = true }
}

// WithTimestampFormats sets the accepted encodings of the event time.
func WithTimestampFormats(f ...TimestampFormat) Option {
	return func(o *options) {
		o.s.TimestampFormats = slices.Clone(f)
		o.set["timestamp_formats"] = true
	}
}

// WithRawCompression sets the codec of raw objects.
func WithRawCompression(c Compression) Option {
	return func(o *options) { o.s.RawCompression = c; o.set["raw_compression"] = true }
}

// WithLocalDir tells [New] that bucket is a fileblob bucket rooted at dir
// (including any prefix). loglake needs the directory to make create-only
// writes atomic on a local file system, where fileblob's IfNotExist is not
// (it checks, then renames). [Open] derives it from the URL by itself.
func WithLocalDir(dir string) Option {
	return func(o *options) { o.localDir = dir }
}

// WithMustExist makes [Open] and [New] fail, with an error for which
// [IsNotFound] is true, when the lake has no settings object yet, instead of
// creating the lake. Tools that only read use it so that a typo in a URL
// does not create an empty lake.
func WithMustExist() Option {
	return func(o *options) { o.mustExist = true }
}

// Lake is a log lake: a blob bucket, the layout of keys in it, and the lake's
// settings. It is the only way loglake's stages reach storage. A Lake is safe
// for concurrent use.
type Lake struct {
	bucket     *blob.Bucket
	ownsBucket bool
	settings   Settings
	loc        *time.Location
	localDir   string // non-empty for file-backed lakes; see CreateOnly

	closeOnce sync.Once
	closed    atomic.Bool
}

// Open opens the lake at urlstr, any gocloud.dev blob URL: "file:///var/lake"
// (the directory is created if it does not exist), "mem://" (lives as long
// as the process), "s3://bucket?region=…" (credentials from the usual AWS
// environment). "?prefix=dir/" puts the lake under a prefix. The file, mem
// and s3 drivers are linked in; for "gs://" or "azblob://", blank-import
// gocloud.dev/blob/gcsblob or gocloud.dev/blob/azureblob.
//
// A path without a scheme is taken as a local directory.
//
// The first Open of a lake writes its settings object; later ones read it and
// refuse options that conflict with it ([ErrSettingsMismatch]). The Lake owns
// the bucket it opened: Close closes it.
func Open(ctx context.Context, urlstr string, opts ...Option) (*Lake, error) {
	u, localDir, err := normalizeURL(urlstr)
	if err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("loglake: open %s: %w", redactURL(u), err)
	}
	if localDir != "" {
		opts = append(opts[:len(opts):len(opts)], WithLocalDir(localDir))
	}
	l, err := New(ctx, b, opts...)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	l.ownsBucket = true
	return l, nil
}

// normalizeURL turns a path or URL into a blob URL. For file URLs it returns
// the local directory of the lake (prefix included) and sets fileblob's
// options: no sidecar metadata files (external engines would see them) and
// temp files next to their target (a rename across file systems fails).
func normalizeURL(s string) (string, string, error) {
	if s == "" {
		return "", "", fmt.Errorf("%w: empty lake URL", ErrInvalidOptions)
	}
	if !strings.Contains(s, "://") {
		abs, err := filepath.Abs(s)
		if err != nil {
			return "", "", fmt.Errorf("loglake: lake path %q: %w", s, err)
		}
		s = "file://" + filepath.ToSlash(abs)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("%w: lake URL: %w", ErrInvalidOptions, err)
	}
	if u.Scheme != "file" {
		return s, "", nil
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", "", fmt.Errorf("%w: file URL %q has a host; want file:///abs/path", ErrInvalidOptions, s)
	}
	q := u.Query()
	if q.Get("metadata") == "" {
		q.Set("metadata", "skip")
	}
	if q.Get("no_tmp_dir") == "" {
		q.Set("no_tmp_dir", "true")
	}
	dir := filepath.FromSlash(u.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("loglake: create lake directory: %w", err)
	}
	if p := q.Get("prefix"); p != "" {
		dir = filepath.Join(dir, filepath.FromSlash(p))
	}
	u.RawQuery = q.Encode()
	return u.String(), dir, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<lake URL>"
	}
	return u.Redacted()
}

// New returns a Lake over an open bucket. The caller keeps ownership of
// bucket: [Lake.Close] does not close it. See [Open] for settings and options.
// For a fileblob bucket, pass [WithLocalDir].
func New(ctx context.Context, bucket *blob.Bucket, opts ...Option) (*Lake, error) {
	if bucket == nil {
		return nil, fmt.Errorf("%w: nil bucket", ErrInvalidOptions)
	}
	o := options{set: map[string]bool{}, s: defaultSettings()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validateSettings(o.s); err != nil {
		return nil, err
	}
	var fi os.FileInfo
	if bucket.As(&fi) { // fileblob: its IfNotExist is not atomic
		if o.localDir == "" {
			return nil, fmt.Errorf("%w: a file-backed bucket needs WithLocalDir (or use Open with a file:// URL)", ErrInvalidOptions)
		}
		if err := os.MkdirAll(o.localDir, 0o755); err != nil {
			return nil, fmt.Errorf("%w: WithLocalDir %q: %v", ErrInvalidOptions, o.localDir, err)
		}
	}
	l := &Lake{bucket: bucket, localDir: o.localDir}
	s, err := l.loadOrCreateSettings(ctx, &o)
	if err != nil {
		return nil, err
	}
	l.settings = s
	l.loc, _ = time.LoadLocation(s.TimeZone) // validated
	return l, nil
}

func validateSettings(s Settings) error {
	var errs []string
	if s.TimeZone == "Local" || s.TimeZone == "<nil>" {
		errs = append(errs, fmt.Sprintf("TimeZone %q: want an IANA zone name such as \"UTC\" or \"Asia/Tokyo\"", s.TimeZone))
	} else if _, err := time.LoadLocation(s.TimeZone); err != nil {
		errs = append(errs, fmt.Sprintf("TimeZone %q: %v", s.TimeZone, err))
	}
	if !validFieldName(s.TenantField) {
		errs = append(errs, fmt.Sprintf("TenantField %q: want 1-128 printable ASCII bytes without quotes or backslashes", s.TenantField))
	}
	if !validFieldName(s.TimestampField) {
		errs = append(errs, fmt.Sprintf("TimestampField %q: want 1-128 printable ASCII bytes without quotes or backslashes", s.TimestampField))
	}
	if s.TenantField == s.TimestampField {
		errs = append(errs, fmt.Sprintf("TenantField and TimestampField are both %q", s.TenantField))
	}
	if len(s.TimestampFormats) == 0 {
		errs = append(errs, "TimestampFormats: empty")
	}
	for _, f := range s.TimestampFormats {
		switch f {
		case TimestampRFC3339, TimestampEpochSecond, TimestampEpochMilli:
		default:
			errs = append(errs, fmt.Sprintf("TimestampFormats: unknown format %q", f))
		}
	}
	switch s.RawCompression {
	case CompressionZstd, CompressionGzip, CompressionNone:
	default:
		errs = append(errs, fmt.Sprintf("RawCompression %q: want zstd, gzip or none", s.RawCompression))
	}
	if s.FormatVersion < 1 || s.FormatVersion > FormatVersion {
		errs = append(errs, fmt.Sprintf("FormatVersion %d: this loglake reads versions 1 to %d", s.FormatVersion, FormatVersion))
	}
	if s.SchemaVersion < 1 {
		errs = append(errs, fmt.Sprintf("SchemaVersion %d: want >= 1", s.SchemaVersion))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(errs, "; "))
	}
	return nil
}

func validFieldName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (l *Lake) loadOrCreateSettings(ctx context.Context, o *options) (Settings, error) {
	for attempt := 0; ; attempt++ {
		data, err := l.ReadAll(ctx, SettingsKey)
		switch {
		case err == nil:
			var s Settings
			if err := json.Unmarshal(data, &s); err != nil {
				return Settings{}, MarkCorrupt("loglake: settings "+SettingsKey, err)
			}
			if err := validateSettings(s); err != nil {
				return Settings{}, MarkCorrupt("loglake: settings "+SettingsKey, err)
			}
			if err := checkConflicts(s, o); err != nil {
				return Settings{}, err
			}
			return s, nil
		case !IsNotFound(err):
			return Settings{}, err
		case o.mustExist:
			return Settings{}, fmt.Errorf("loglake: no lake here (%s not found; open without WithMustExist to create one): %w", SettingsKey, err)
		}
		data, err = json.MarshalIndent(o.s, "", "  ")
		if err != nil {
			return Settings{}, fmt.Errorf("loglake: encode settings: %w", err)
		}
		err = l.CreateOnly(ctx, SettingsKey, append(data, '\n'))
		if errors.Is(err, ErrConflict) && attempt == 0 {
			continue // another process created the lake first: read its settings
		}
		if err != nil {
			return Settings{}, err
		}
		return o.s, nil
	}
}

func checkConflicts(stored Settings, o *options) error {
	var errs []string
	diff := func(name string, have, want any) {
		if o.set[name] && fmt.Sprint(have) != fmt.Sprint(want) {
			errs = append(errs, fmt.Sprintf("%s is %v, options ask for %v", name, have, want))
		}
	}
	diff("time_zone", stored.TimeZone, o.s.TimeZone)
	diff("tenant_field", stored.TenantField, o.s.TenantField)
	diff("timestamp_field", stored.TimestampField, o.s.TimestampField)
	diff("timestamp_formats", stored.TimestampFormats, o.s.TimestampFormats)
	diff("raw_compression", stored.RawCompression, o.s.RawCompression)
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrSettingsMismatch, strings.Join(errs, "; "))
	}
	return nil
}

// Settings returns the lake's settings.
func (l *Lake) Settings() Settings {
	s := l.settings
	s.TimestampFormats = slices.Clone(s.TimestampFormats)
	return s
}

// Location returns the time zone in which records' times give their day.
func (l *Lake) Location() *time.Location { return l.loc }

// Today returns the current day in the lake's time zone.
func (l *Lake) Today() Day { return DayOf(time.Now(), l.loc) }

// Bucket returns the underlying bucket: an escape hatch for what the Lake
// does not offer. Writing into the lake's areas behind loglake's back can
// break its guarantees.
func (l *Lake) Bucket() *blob.Bucket { return l.bucket }

// Close releases the lake; if the lake was opened by [Open], it closes the
// bucket. After Close every method returns [ErrClosed], a second Close
// included.
func (l *Lake) Close() error {
	err := ErrClosed
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		err = nil
		if l.ownsBucket {
			if cerr := l.bucket.Close(); cerr != nil {
				err = fmt.Errorf("loglake: close bucket: %w", cerr)
			}
		}
	})
	return err
}

func (l *Lake) check() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return nil
}

// ReadAll reads the object at key. A missing object gives an error for which
// [IsNotFound] is true.
func (l *Lake) ReadAll(ctx context.Context, key string) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if data, ok, err := l.readAllLocal(ctx, key); ok {
		return data, err
	}
	data, err := l.bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("loglake: read %s: %w", key, err)
	}
	return data, nil
}

// NewReader opens the object at key for reading. The caller closes it.
func (l *Lake) NewReader(ctx context.Context, key string) (*blob.Reader, error) {
	return l.NewRangeReader(ctx, key, 0, -1)
}

// NewRangeReader opens length bytes of the object at key from offset
// (length -1: to the end). The caller closes it.
func (l *Lake) NewRangeReader(ctx context.Context, key string, offset, length int64) (*blob.Reader, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	r, err := l.bucket.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, fmt.Errorf("loglake: read %s: %w", key, err)
	}
	return r, nil
}

// Attributes returns the size, modification time and other attributes of the
// object at key.
func (l *Lake) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	a, err := l.bucket.Attributes(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("loglake: stat %s: %w", key, err)
	}
	return a, nil
}

// WriteAll writes data to key, replacing any object there. The object is
// visible only once the write succeeded.
func (l *Lake) WriteAll(ctx context.Context, key string, data []byte, opts *blob.WriterOptions) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := l.bucket.WriteAll(ctx, key, data, opts); err != nil {
		return fmt.Errorf("loglake: write %s: %w", key, err)
	}
	return nil
}

// NewWriter opens a writer to key. The object becomes visible when Close
// returns nil; a writer whose ctx is canceled before Close writes nothing.
// The writer keeps ctx.
func (l *Lake) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (*blob.Writer, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	w, err := l.bucket.NewWriter(ctx, key, opts)
	if err != nil {
		return nil, fmt.Errorf("loglake: write %s: %w", key, err)
	}
	return w, nil
}

// Delete deletes the object at key. Deleting a missing object is not an
// error: deletes are retried after crashes, and must be idempotent.
func (l *Lake) Delete(ctx context.Context, key string) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := l.bucket.Delete(ctx, key); err != nil && !IsNotFound(err) {
		return fmt.Errorf("loglake: delete %s: %w", key, err)
	}
	return nil
}

// List yields the objects whose keys start with prefix, in key order. With
// a non-empty delimiter it yields "directories" too (IsDir), as
// [blob.ListOptions] does. Like the backends, List is not guaranteed to
// include objects written very recently on eventually consistent stores.
//
// loglake lists only inside one partition or one area (never the bucket to
// find partitions on a query's path: see the projection package).
func (l *Lake) List(ctx context.Context, prefix, delimiter string) iter.Seq2[*blob.ListObject, error] {
	return func(yield func(*blob.ListObject, error) bool) {
		if err := l.check(); err != nil {
			yield(nil, err)
			return
		}
		// A local file system lists by reading directories and then
		// stat-ing each entry; fileblob fails the whole page when an entry
		// vanishes in between (a writer's temp file renamed into place, an
		// object a compaction deleted). Such a listing is restarted after
		// the last key yielded — keys come in order — a few times.
		if delimiter == "/" {
			objs, ok, err := l.listLocal(prefix)
			if err != nil {
				yield(nil, fmt.Errorf("loglake: list %s: %w", prefix, err))
				return
			}
			if ok {
				for _, o := range objs {
					if err := ctx.Err(); err != nil {
						yield(nil, err)
						return
					}
					if !yield(o, nil) {
						return
					}
				}
				return
			}
		}
		last, restarts := "", 0
	restart:
		it := l.bucket.List(&blob.ListOptions{Prefix: prefix, Delimiter: delimiter})
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				if l.localDir != "" && IsNotFound(err) && restarts < maxListRestarts && ctx.Err() == nil {
					restarts++
					goto restart
				}
				yield(nil, fmt.Errorf("loglake: list %s: %w", prefix, err))
				return
			}
			if restarts > 0 && obj.Key <= last {
				continue // yielded before the restart
			}
			last = obj.Key
			if !yield(obj, nil) {
				return
			}
		}
	}
}

// maxListRestarts bounds the restarts of a local listing that raced a
// rename or delete (see Lake.List).
const maxListRestarts = 16

// CreateOnly writes data to key only if no object is there; otherwise it
// returns an error wrapping [ErrConflict]. Of any number of concurrent
// CreateOnly calls on one key, from goroutines or processes, exactly one
// succeeds — on every backend: S3 and GCS use their conditional writes
// (If-None-Match: *), mem:// its lock, and file:// a hard link, which the
// file system creates atomically (fileblob's own IfNotExist checks and then
// renames, and two writers can both "win").
func (l *Lake) CreateOnly(ctx context.Context, key string, data []byte) error {
	if err := l.check(); err != nil {
		return err
	}
	if l.localDir != "" {
		return l.createOnlyLocal(ctx, key, data)
	}
	for attempt := 0; ; attempt++ {
		err := l.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{IfNotExist: true})
		switch {
		case err == nil:
			return nil
		case gcerrors.Code(err) == gcerrors.FailedPrecondition:
			return fmt.Errorf("%w: %s", ErrConflict, key)
		case isConditionalConflict(err) && attempt < 8:
			// S3 answers 409 ConditionalRequestConflict to a conditional
			// write that raced another one still in flight, and asks for a
			// retry: the retry then wins or gets 412 (ErrConflict).
			d := time.Duration(1<<attempt) * 5 * time.Millisecond
			t := time.NewTimer(d/2 + time.Duration(mrand.Int64N(int64(d))))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("loglake: create %s: %w", key, ctx.Err())
			case <-t.C:
			}
		default:
			return fmt.Errorf("loglake: create %s: %w", key, err)
		}
	}
}

// isConditionalConflict reports whether err is S3's 409
// ConditionalRequestConflict (any API error with that code: the interface
// is smithy-go's APIError, matched structurally to keep driver types out).
func isConditionalConflict(err error) bool {
	var api interface{ ErrorCode() string }
	return errors.As(err, &api) && api.ErrorCode() == "ConditionalRequestConflict"
}

// localKeyOK reports whether fileblob stores key at dir/key unchanged (it
// hex-escapes a few byte sequences; loglake's own keys never contain them).
func localKeyOK(key string) bool {
	if key == "" || strings.HasSuffix(key, "/") || strings.Contains(key, "//") || strings.Contains(key, "../") || strings.HasPrefix(key, "/") {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == '\\' {
			return false
		}
	}
	return !strings.HasSuffix(key, ".attrs")
}

// localTmpDir is the directory, under a file-backed lake's root, of the
// temp files of create-only writes. Engines that read the lake skip it:
// Hive, Athena and Trino ignore names that start with '.' or '_'.
const localTmpDir = ".loglake-tmp"

func (l *Lake) createOnlyLocal(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !localKeyOK(key) {
		return fmt.Errorf("%w: create-only key %q cannot be stored atomically on a local file system", ErrInvalidKey, key)
	}
	path := filepath.Join(l.localDir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("loglake: create %s: %w", key, err)
	}
	// The temp file lives in a hidden directory of the lake (the same file
	// system, so link(2) works), not beside the target where listings of
	// the target's directory would see it come and go.
	tmpDir := filepath.Join(l.localDir, localTmpDir)
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return fmt.Errorf("loglake: create %s: %w", key, err)
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(tmpDir, hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("loglake: create %s: %w", key, err)
	}
	defer os.Remove(tmp)
	_, err = io.Copy(f, bytes.NewReader(data))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loglake: create %s: %w", key, err)
	}
	// INVARIANT: link(2) fails with EEXIST if path exists, atomically; of
	// racing creators exactly one links its complete file into place.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrConflict, key)
		}
		return fmt.Errorf("loglake: create %s: %w", key, err)
	}
	return nil
}
