package loglaketest

// lifecycleTests run loglake's stages end to end on the backend and check
// the invariants by counting records: nothing accepted is lost, nothing is
// counted twice.
//
// Lifecycle tests join here as the stages land: ingest (spill/recover with
// faults), compact (crash points), query (exactly-once counts), expire.
var lifecycleTests = []test{}
