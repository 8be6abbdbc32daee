package loglaketest_test

import (
	"context"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/loglaketest"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
)

// memHarness makes in-memory buckets.
type memHarness struct{}

func newMemHarness(context.Context, testing.TB) (loglaketest.Harness, error) {
	return memHarness{}, nil
}

func (memHarness) MakeBucket(context.Context) (*blob.Bucket, []loglake.Option, error) {
	return memblob.OpenBucket(nil), nil, nil
}

func (memHarness) Close() {}
