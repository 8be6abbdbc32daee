package loglaketest_test

import (
	"context"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/loglaketest"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// fileHarness makes fileblob buckets in temporary directories, opened the
// way loglake.Open opens file:// lakes: no sidecar metadata files, and
// temporary files next to their targets.
type fileHarness struct{ t testing.TB }

func newFileHarness(_ context.Context, t testing.TB) (loglaketest.Harness, error) {
	return fileHarness{t}, nil
}

func (h fileHarness) MakeBucket(context.Context) (*blob.Bucket, []loglake.Option, error) {
	dir := h.t.TempDir()
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true})
	if err != nil {
		return nil, nil, err
	}
	// loglake needs the directory: fileblob's IfNotExist is not atomic, so
	// create-only writes link a local file into place themselves.
	return b, []loglake.Option{loglake.WithLocalDir(dir)}, nil
}

// Close does nothing: t.TempDir removes the directories.
func (fileHarness) Close() {}
