// Package faultblob wraps a blob bucket in a driver that injects failures —
// errors, delays, writes cut off after some bytes — at chosen operations, so
// tests can prove loglake's invariants by counting records under faults. Its
// rules are shaped like pebble's vfs/errorfs injectors: an operation kind, a
// key predicate, how many matches to let pass, and how many to fail.
//
// Semantics follow object storage: a write that fails (in Write or Close)
// leaves nothing visible, exactly as a failed S3 upload does.
package faultblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// ErrInjected is the error injected when a rule names none.
var ErrInjected = errors.New("faultblob: injected failure")

// OpKind is a kind of bucket operation.
type OpKind int

// Operation kinds.
const (
	OpRead   OpKind = iota // opening a reader (NewRangeReader)
	OpWrite                // committing a write (Writer.Close)
	OpData                 // each Writer.Write call
	OpDelete               // Delete
	OpList                 // each list page
	OpAttrs                // Attributes
	OpCopy                 // Copy
	numOps
)

var opNames = [...]string{"read", "write", "data", "delete", "list", "attrs", "copy"}

func (k OpKind) String() string {
	if k >= 0 && int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one operation on the bucket.
type Op struct {
	Kind OpKind
	Key  string // the object key; the prefix for OpList
}

// Rule says which operations fail and how. A zero Rule fails every
// operation forever with [ErrInjected].
type Rule struct {
	// Kinds are the operation kinds the rule applies to; empty means all.
	Kinds []OpKind
	// KeyPrefix, if set, limits the rule to keys with this prefix.
	KeyPrefix string
	// KeyContains, if set, limits the rule to keys containing it.
	KeyContains string
	// Match, if set, limits the rule to operations it returns true for.
	Match func(Op) bool
	// Skip lets the first Skip matching operations pass ("fail the Nth").
	Skip int
	// Times is how many matching operations fail after Skip; 0 means all.
	Times int
	// Err is the injected error. Default: ErrInjected.
	Err error
	// Delay, if set, delays each matching operation (honouring ctx)
	// instead of, or before, failing it. With Delay and no Fail the
	// operation then proceeds.
	Delay time.Duration
	// DelayOnly makes the rule delay matching operations without failing
	// them.
	DelayOnly bool
	// PartialBytes, for OpWrite rules: the write accepts this many bytes,
	// then fails (the object is not created).
	PartialBytes int

	seen atomic.Int64
}

func (r *Rule) matches(op Op) bool {
	if len(r.Kinds) > 0 {
		ok := false
		for _, k := range r.Kinds {
			if k == op.Kind || (k == OpWrite && op.Kind == OpData && r.PartialBytes > 0) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if r.KeyPrefix != "" && !strings.HasPrefix(op.Key, r.KeyPrefix) {
		return false
	}
	if r.KeyContains != "" && !strings.Contains(op.Key, r.KeyContains) {
		return false
	}
	return r.Match == nil || r.Match(op)
}

// fires counts a matching operation and reports whether this one fails.
func (r *Rule) fires() bool {
	n := r.seen.Add(1)
	if n <= int64(r.Skip) {
		return false
	}
	return r.Times == 0 || n <= int64(r.Skip+r.Times)
}

func (r *Rule) err(op Op) error {
	e := r.Err
	if e == nil {
		e = ErrInjected
	}
	return &InjectedError{Op: op, Err: e}
}

// InjectedError is the error an operation failed with. It unwraps to the
// rule's Err.
type InjectedError struct {
	Op  Op
	Err error
}

func (e *InjectedError) Error() string {
	return fmt.Sprintf("%v %s: %v", e.Op.Kind, e.Op.Key, e.Err)
}

func (e *InjectedError) Unwrap() error { return e.Err }

// Bucket is a fault-injecting view of an inner bucket.
type Bucket struct {
	inner  *blob.Bucket
	mu     sync.Mutex
	rules  []*Rule
	counts [numOps]atomic.Int64
	hook   atomic.Pointer[func(ctx context.Context, op Op) error]
}

// New wraps inner. The caller keeps ownership of inner; closing the bucket
// returned by [Bucket.Bucket] does not close it.
func New(inner *blob.Bucket) *Bucket {
	return &Bucket{inner: inner}
}

// Bucket returns a portable bucket whose operations go through f.
func (f *Bucket) Bucket() *blob.Bucket { return blob.NewBucket(&drv{f: f}) }

// Add adds a rule and returns it (its counters are live).
func (f *Bucket) Add(r *Rule) *Rule {
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
	return r
}

// Reset removes every rule.
func (f *Bucket) Reset() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// SetHook sets a function called before every operation (after the rules
// passed it); a non-nil error fails the operation. Tests use it to crash at
// the Nth operation of a sequence. nil removes the hook.
func (f *Bucket) SetHook(h func(ctx context.Context, op Op) error) {
	if h == nil {
		f.hook.Store(nil)
		return
	}
	f.hook.Store(&h)
}

// Count returns how many operations of kind were attempted.
func (f *Bucket) Count(kind OpKind) int64 { return f.counts[kind].Load() }

// check runs the rules for op; it returns the injected error, if any, and
// the rule that injected it.
func (f *Bucket) check(ctx context.Context, op Op) (error, *Rule) {
	f.counts[op.Kind].Add(1)
	f.mu.Lock()
	rules := f.rules
	f.mu.Unlock()
	for _, r := range rules {
		if !r.matches(op) {
			continue
		}
		if r.PartialBytes > 0 && op.Kind != OpData {
			continue // partial-write rules act on the data
		}
		if !r.fires() {
			continue
		}
		if r.Delay > 0 {
			t := time.NewTimer(r.Delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err(), r
			case <-t.C:
			}
		}
		if r.DelayOnly {
			continue
		}
		return r.err(op), r
	}
	if h := f.hook.Load(); h != nil {
		if err := (*h)(ctx, op); err != nil {
			return err, nil
		}
	}
	return nil, nil
}

// drv adapts Bucket to driver.Bucket.
type drv struct{ f *Bucket }

var _ driver.Bucket = (*drv)(nil)

func (d *drv) ErrorCode(err error) gcerrors.ErrorCode {
	var ie *InjectedError
	if errors.As(err, &ie) {
		if c := gcerrors.Code(ie.Err); c != gcerrors.Unknown {
			return c
		}
		return gcerrors.Internal
	}
	return gcerrors.Code(err)
}

func (d *drv) As(i any) bool { return d.f.inner.As(i) }

func (d *drv) ErrorAs(err error, i any) bool { return d.f.inner.ErrorAs(err, i) }

func (d *drv) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	if err, _ := d.f.check(ctx, Op{OpAttrs, key}); err != nil {
		return nil, err
	}
	a, err := d.f.inner.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition,
		ContentEncoding: a.ContentEncoding, ContentLanguage: a.ContentLanguage,
		ContentType: a.ContentType, Metadata: a.Metadata, CreateTime: a.CreateTime,
		ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag, AsFunc: a.As,
	}, nil
}

func (d *drv) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	if err, _ := d.f.check(ctx, Op{OpList, opts.Prefix}); err != nil {
		return nil, err
	}
	size := opts.PageSize
	if size <= 0 {
		size = 1000
	}
	token := opts.PageToken
	if len(token) == 0 {
		token = blob.FirstPageToken
	}
	objs, next, err := d.f.inner.ListPage(ctx, token, size, &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter})
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: next}
	for _, o := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir})
	}
	return page, nil
}

func (d *drv) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	if err, _ := d.f.check(ctx, Op{OpRead, key}); err != nil {
		return nil, err
	}
	r, err := d.f.inner.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.BeforeRead != nil {
		if err := opts.BeforeRead(r.As); err != nil {
			r.Close()
			return nil, err
		}
	}
	return &reader{r: r}, nil
}

type reader struct{ r *blob.Reader }

func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *reader) Close() error               { return r.r.Close() }
func (r *reader) As(i any) bool              { return r.r.As(i) }
func (r *reader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

func (d *drv) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	wctx, cancel := context.WithCancel(ctx)
	w, err := d.f.inner.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType: contentType, IfNotExist: opts.IfNotExist, Metadata: opts.Metadata,
		CacheControl: opts.CacheControl, ContentDisposition: opts.ContentDisposition,
		ContentEncoding: opts.ContentEncoding, ContentLanguage: opts.ContentLanguage,
		BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return &writer{f: d.f, ctx: ctx, key: key, w: w, cancel: cancel}, nil
}

type writer struct {
	f      *Bucket
	ctx    context.Context
	key    string
	w      *blob.Writer
	cancel context.CancelFunc
	n      int
	failed error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	err, rule := w.f.check(w.ctx, Op{OpData, w.key})
	if err != nil {
		if rule != nil && rule.PartialBytes > 0 {
			// Accept up to PartialBytes in all, then fail.
			room := rule.PartialBytes - w.n
			if room > 0 {
				if room > len(p) {
					room = len(p)
				}
				n, _ := w.w.Write(p[:room])
				w.n += n
				if room == len(p) {
					return n, nil
				}
				w.failed = err
				return n, err
			}
		}
		w.failed = err
		return 0, err
	}
	n, err := w.w.Write(p)
	w.n += n
	return n, err
}

func (w *writer) Close() error {
	defer w.cancel()
	if w.failed != nil {
		w.cancel() // abort: nothing becomes visible
		_ = w.w.Close()
		return w.failed
	}
	if err, _ := w.f.check(w.ctx, Op{OpWrite, w.key}); err != nil {
		w.cancel()
		_ = w.w.Close()
		return err
	}
	return w.w.Close()
}

func (d *drv) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	if err, _ := d.f.check(ctx, Op{OpCopy, dstKey}); err != nil {
		return err
	}
	return d.f.inner.Copy(ctx, dstKey, srcKey, nil)
}

func (d *drv) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if err, _ := d.f.check(ctx, Op{OpDelete, key}); err != nil {
		return err
	}
	return d.f.inner.Delete(ctx, key)
}

func (d *drv) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	return "", gcerrUnimplemented
}

var gcerrUnimplemented = errors.New("faultblob: SignedURL not supported")

func (d *drv) Close() error { return nil }

var _ io.Closer = (*drv)(nil)
