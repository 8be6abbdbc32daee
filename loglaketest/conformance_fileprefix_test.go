package loglaketest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/loglaketest"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// filePrefixHarness makes fileblob buckets under a prefix two levels deep,
// as "file:///dir?prefix=team-a/lake/" opens them: every key, create-only
// commits included, must land under the prefix.
type filePrefixHarness struct{ t testing.TB }

func newFilePrefixHarness(_ context.Context, t testing.TB) (loglaketest.Harness, error) {
	return filePrefixHarness{t}, nil
}

const filePrefix = "team-a/lake/"

func (h filePrefixHarness) MakeBucket(context.Context) (*blob.Bucket, []loglake.Option, error) {
	dir := h.t.TempDir()
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true})
	if err != nil {
		return nil, nil, err
	}
	return blob.PrefixedBucket(b, filePrefix), []loglake.Option{loglake.WithLocalDir(filepath.Join(dir, filepath.FromSlash(filePrefix)))}, nil
}

func (filePrefixHarness) Close() {}
