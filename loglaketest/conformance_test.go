package loglaketest_test

import (
	"testing"

	"github.com/loglake/loglake/loglaketest"
)

// backends are the stores loglake's own suite runs on, in this order: mem
// first (fastest, and a failure there is loglake's, not a backend's), then
// the local file system, plain and under a prefix, then S3 (MinIO), which
// skips without LOGLAKE_TEST_S3_URL. They run one after another, never in
// parallel: a failure is easier to read, and the S3 server is shared.
var backends = []struct {
	name       string
	newHarness loglaketest.HarnessMaker
}{
	{"mem", newMemHarness},
	{"file", newFileHarness},
	{"fileprefix", newFilePrefixHarness},
	{"s3", newS3Harness},
}

func TestConformance(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			loglaketest.RunConformanceTests(t, be.newHarness)
		})
	}
}

func BenchmarkConformance(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			loglaketest.RunBenchmarks(b, be.newHarness)
		})
	}
}
