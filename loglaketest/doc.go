// Package loglaketest is loglake's conformance suite: one set of tests that
// every storage backend must pass for loglake's guarantees to hold on it,
// in the spirit of gocloud.dev's blob/drivertest.
//
// A backend is described by a [Harness], which only has to make fresh,
// empty buckets. [RunConformanceTests] runs the suite against it and
// [RunBenchmarks] measures it:
//
//	func TestConformance(t *testing.T) {
//		loglaketest.RunConformanceTests(t, loglaketest.URLHarness("gs://my-test-bucket"))
//	}
//
// loglake's own tests run the suite on mem://, file://, file:// with a
// prefix, and s3:// against a MinIO server (see scripts/minio.sh).
//
// # What the suite checks
//
//   - The Lake on the backend: creating and reopening a lake, its stored
//     settings and refused conflicting options, racing first opens,
//     [loglake.WithMustExist], corrupt settings, errors that keep the
//     backend's error code and name the key.
//   - Create-only writes ([loglake.Lake.CreateOnly]), the primitive under
//     the compaction commit: a second create fails with
//     [loglake.ErrConflict]; of two, and of many, concurrent writers on one
//     key exactly one wins, and a reader sees the winner's bytes; a failed
//     or canceled create leaves nothing.
//   - The object-store semantics loglake relies on: a write is visible only
//     once it succeeded, and a failed or canceled write (also over an
//     existing object) leaves the old state; range reads; listing inside a
//     prefix, in key order, across pages, without leaking a sibling prefix
//     (tenant "a" and tenant "ab"); idempotent deletes; not-found errors.
//   - The life cycle, checked by counting records: ingest generated
//     envelopes under transient write faults, with raw/ down (records
//     spill), and Recover; compact every partition with a crash after each
//     step of the commit protocol and a failed delete, then again
//     (unchanged); count each tenant with a query after every step; expire
//     the older day. Each count must equal what was handed in: nothing
//     lost, nothing counted twice.
//
// Faults are injected with a driver wrapped around the backend's bucket
// (internal/faultblob), so the same fault runs on every backend.
//
// # Running order and cost
//
// Subtests run serially, each on a bucket of its own. A run against a
// remote store makes a few thousand small requests; against MinIO on
// localhost it takes seconds.
package loglaketest
