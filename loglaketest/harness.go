package loglaketest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"gocloud.dev/blob"
)

// Harness makes buckets of one backend for the suite.
type Harness interface {
	// MakeBucket returns a new, empty bucket, with the options [loglake.New]
	// needs to open a lake on it — [loglake.WithLocalDir] for a fileblob
	// bucket, nil for most backends. Only options about the bucket belong
	// here: the suite sets the lake's settings itself. Buckets made by one
	// Harness share no objects. The suite closes each bucket it gets.
	MakeBucket(ctx context.Context) (*blob.Bucket, []loglake.Option, error)
	// Close releases what the harness holds: temporary directories, the
	// objects it wrote on a remote store. The suite calls it once, after
	// its last test.
	Close()
}

// HarnessMaker makes the Harness of one run of the suite. It may skip the
// test (t.Skip), for example when no endpoint is configured.
type HarnessMaker func(ctx context.Context, t testing.TB) (Harness, error)

// URLHarness returns a HarnessMaker for any gocloud.dev blob URL:
// "mem://", "s3://bucket?region=…", "gs://bucket", "file:///dir". Each run
// works under a fresh prefix of the URL's bucket, "loglaketest-<time>-<random>/",
// and each bucket under a numbered prefix below it, so runs on one shared
// test bucket never collide. Close deletes every object of the run.
//
// The bucket named by the URL must exist; credentials come from the
// environment, as for [loglake.Open].
func URLHarness(urlstr string) HarnessMaker {
	return func(ctx context.Context, t testing.TB) (Harness, error) {
		u, err := url.Parse(urlstr)
		if err != nil {
			return nil, fmt.Errorf("loglaketest: bucket URL: %w", err)
		}
		h := &urlHarness{t: t, url: u, run: runPrefix()}
		if u.Scheme == "file" {
			// loglake needs the directory of a fileblob bucket for atomic
			// create-only writes, and no sidecar files in the lake.
			q := u.Query()
			q.Set("create_dir", "true")
			if q.Get("metadata") == "" {
				q.Set("metadata", "skip")
			}
			if q.Get("no_tmp_dir") == "" {
				q.Set("no_tmp_dir", "true")
			}
			h.dir = filepath.Join(filepath.FromSlash(u.Path), filepath.FromSlash(q.Get("prefix")))
			u.RawQuery = q.Encode()
		}
		// Fail early, with the URL's error, rather than in every test.
		b, err := blob.OpenBucket(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("loglaketest: open %s: %w", u.Redacted(), err)
		}
		return h, b.Close()
	}
}

// runPrefix returns a prefix unique to one run, readable in a bucket
// listing: "loglaketest-20260301T120000-1a2b3c4d/".
func runPrefix() string {
	return "loglaketest-" + time.Now().UTC().Format("20060102T150405") + "-" + randomHex(4) + "/"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type urlHarness struct {
	t   testing.TB
	url *url.URL
	run string // the run's prefix, with a trailing slash
	dir string // for file:// URLs: the directory the URL (and its prefix) names
	n   atomic.Int64
}

func (h *urlHarness) MakeBucket(ctx context.Context) (*blob.Bucket, []loglake.Option, error) {
	prefix := fmt.Sprintf("%sb%04d/", h.run, h.n.Add(1))
	b, err := blob.OpenBucket(ctx, h.url.String())
	if err != nil {
		return nil, nil, fmt.Errorf("loglaketest: open %s: %w", h.url.Redacted(), err)
	}
	// PrefixedBucket takes b over: closing the result closes b.
	pb := blob.PrefixedBucket(b, prefix)
	if h.dir != "" {
		return pb, []loglake.Option{loglake.WithLocalDir(filepath.Join(h.dir, filepath.FromSlash(prefix)))}, nil
	}
	return pb, nil, nil
}

// Close deletes the run's objects. A failure is reported on the test that
// made the harness, since Close returns nothing.
func (h *urlHarness) Close() {
	if h.dir != "" {
		if err := os.RemoveAll(filepath.Join(h.dir, filepath.FromSlash(h.run))); err != nil {
			h.t.Errorf("loglaketest: clean up: %v", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := blob.OpenBucket(ctx, h.url.String())
	if err != nil {
		h.t.Errorf("loglaketest: clean up: open %s: %v", h.url.Redacted(), err)
		return
	}
	defer b.Close()
	n, err := deleteAll(ctx, b, h.run)
	if err != nil {
		h.t.Errorf("loglaketest: clean up %s: deleted %d objects, then: %v", h.run, n, err)
	}
}

// deleteAll deletes every object under prefix, a few at a time, and
// returns how many it deleted.
func deleteAll(ctx context.Context, b *blob.Bucket, prefix string) (int, error) {
	const workers = 8 // one request at a time to a remote store is slow
	keys := make(chan string)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		n       int
		errs    []error
		listErr error
	)
	for range workers {
		wg.Go(func() {
			for k := range keys {
				err := b.Delete(ctx, k)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("delete %s: %w", k, err))
				} else {
					n++
				}
				mu.Unlock()
			}
		})
	}
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			listErr = err
			break
		}
		keys <- obj.Key
	}
	close(keys)
	wg.Wait()
	return n, errors.Join(append(errs, listErr)...)
}
