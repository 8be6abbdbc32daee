package loglaketest_test

import (
	"context"
	"testing"

	"github.com/loglake/loglake/internal/s3test"
	"github.com/loglake/loglake/loglaketest"
)

// newS3Harness runs the suite against the S3-compatible server named by
// LOGLAKE_TEST_S3_URL (scripts/minio.sh starts a MinIO and writes it). The
// run works under a fresh prefix of the bucket and deletes it at the end.
// Without the variable the run is skipped, saying how to enable it; under
// CI=true it fails instead.
func newS3Harness(ctx context.Context, t testing.TB) (loglaketest.Harness, error) {
	u := s3test.URL(t)
	if err := s3test.EnsureBucket(ctx, u); err != nil {
		return nil, err
	}
	return loglaketest.URLHarness(u)(ctx, t)
}
