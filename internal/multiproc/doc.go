// Package multiproc holds the test in which several OS processes compact
// one lake at once and one of them is killed with SIGKILL in the middle of
// a partition: the proof that compaction leases split a lake's partitions
// among compactors and that the commit protocol loses and duplicates
// nothing when a compactor dies. It has no API; see multiproc_test.go.
//
// The test re-executes its own test binary as the compactor processes
// (TestMain recognises them by an environment variable), so it needs no
// build step. It runs on file:// always, and on S3 when
// LOGLAKE_TEST_S3_URL is set (required under CI=true; see internal/s3test).
package multiproc
