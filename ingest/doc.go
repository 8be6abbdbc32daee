// Package ingest owns the first stage of a lake: it splits envelopes into
// records, routes each record to its partition (tenant and day), buffers
// partitions, and writes them as compressed NDJSON objects — Kinesis Data
// Firehose's dynamic partitioning as a library, without its active-partition
// errors, its duplicates on retry, or the transform Lambda it needs to split
// a nested array.
//
//	in, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
//	…
//	err = in.Add(ctx, body)   // an envelope, a bare record, or NDJSON of either
//	…
//	err = in.Close(ctx)       // flushes; nil means every record landed
//
// # Formatting
//
// An envelope {"tenant_id":"acme","device_id":"d-1","log":[{…},{…}]} becomes
// one NDJSON line per element of its log array. Each line is the element's
// bytes as received, with the tenant field and the envelope fields named in
// [Options.CarryFields] inserted after its opening brace:
//
//	{"tenant_id":"acme","device_id":"d-1","timestamp":"2026-11-20T09:30:00Z",…}
//
// Nothing is re-encoded: numbers, escapes and key order stay as sent. A
// record that has a carried field itself keeps its own; a record whose own
// tenant field differs from its envelope's is a dead letter. A JSON object
// without the log field is a bare record and is stored as it is. The tenant,
// timestamp and log field names come from the lake's settings and the
// options. Raw newlines between tokens (pretty-printed input) become spaces,
// so every record is one line.
//
// The scanner that finds the tenant, the time and the record bounds makes
// one pass over the bytes and does not unmarshal: see internal/envelope.
//
// # Layout
//
// A record goes to raw/tenant_id=<T>/dt=<YYYY-MM-DD>/<name><ext>, where dt is
// the day of its timestamp in the lake's time zone (RFC 3339 with Z or an
// offset, epoch seconds, or epoch milliseconds, as the lake's
// TimestampFormats allow). A record without a usable time takes its arrival
// day ([ArrivalTime], the default) or becomes a dead letter ([DeadLetter]).
//
// Object names use only [A-Za-z0-9._-]:
//
//   - buffered objects: <writer>-<sequence> (with Options.WriterID:
//     <WriterID>-<random run id>-<sequence>), unique per Ingestor;
//   - batch objects: b-<96-bit hash of batch id and partition>-<chunk>,
//     deterministic (see [Ingestor.AddBatch]);
//   - dead letters: errors/<reason>/dt=<arrival day>/<name><ext>, one JSON
//     object per line: {"reason","error","batch_id","index","line","data"},
//     where data is the original bytes as a JSON string, or, when they are
//     not valid UTF-8, their base64 (standard, padded) with
//     "data_encoding":"base64";
//   - spill: spill/<writer>/<YYYY-MM-DD>.<name>.<tenant><ext>, the formatted
//     records of one partition whose upload failed, moved into raw/ by
//     [Ingestor.Recover] under <name>.
//
// Objects are written whole (one WriteAll), so readers never see a part.
// zstd objects are one frame at [Options.ZstdLevel] (default 2, zstd's
// default level): the raw area is read by every query of recent days, so
// the default spends a little ingest CPU (about 8% over the fastest level)
// for objects 6% smaller and 10% faster to decompress.
//
// # Buffering
//
// Each partition buffers until it holds [Options.BufferBytes] (default 5 MiB
// before compression, Firehose's default; at most 128 MiB, Firehose's
// maximum), until its oldest record has waited [Options.BufferInterval]
// (0, the default, means never — Firehose allows 0–900 s and defaults to
// 300 s; long-running services should set [RecommendedBufferInterval]), or
// until Flush or Close. All buffers and uploads in flight together stay
// under [Options.MaxBufferedBytes] (default 256 MiB): when it is reached the
// largest buffers are flushed first, and when everything is in flight
// already Add waits ([Hooks.OnStall]). Memory is bounded by
// MaxBufferedBytes, plus a free list of recycled buffers (a quarter of it, at
// most 64 MiB), plus per-upload compression state, whatever the input size.
//
// # Active partitions
//
// At most [Options.MaxActivePartitions] partitions (default 500, as
// Firehose) buffer at once, and at most MaxActivePartitionsPerTenant of them
// belong to one tenant, so that one tenant cannot take every slot. A record
// that needs a new partition past either limit follows [Options.Policy]:
// [FlushOldest] (the default) flushes the least recently written partition
// — the tenant's own, when the tenant is at its cap — and takes its slot;
// [Block] waits for a slot; [Reject] refuses with
// [loglake.ErrTooManyActivePartitions], as Firehose does, naming the refused
// inputs in a [*FlushError].
//
// # Guarantees
//
// Once Flush or Close returns nil, every record handed in before it is in
// raw/, spill/ or errors/ (invariant 1 of the design). A failed upload is
// retried with exponential backoff and full jitter; when retries are
// exhausted the buffer is written to spill/; only when that fails too does
// Flush fail, with a [*FlushError] that names each input (batch id and item
// index, or Add call number, and the line within it) and how many of its
// records did not land. Bad input never fails its neighbours: malformed JSON
// (the rest of its line), missing or invalid tenant ids, oversized records,
// invalid UTF-8, non-object records and envelopes whose log is not an array
// are dead-lettered with a [Reason], counted, and the rest goes on.
//
// Records of [Ingestor.Add] may be written twice only if the caller retries
// an Add whose records already landed; for at-least-once sources, use
// [Ingestor.AddBatch], whose objects have deterministic keys so that a
// redelivered batch overwrites instead of duplicating — and
// [Ingestor.AddBatchAt] when the source stamps an arrival time, so that
// records without a time of their own also keep their day on a
// redelivery after midnight. For files and other streams,
// [Ingestor.AddStream] cuts batches at line ends by size and names them by
// a hash of their bytes, so that ingesting the same stream again after a
// crash rewrites what the first run wrote.
//
// # Concurrency
//
// An Ingestor is safe for use by many goroutines. Add does the scanning and
// formatting in the caller's goroutine without locks and takes the
// Ingestor's lock once per ~1 MiB of formatted records to route them; a
// pool of MaxConcurrentUploads goroutines compresses and uploads. Every
// goroutine the Ingestor starts has ended when Close returns. Hooks run on
// those goroutines and must not block.
//
// # Errors
//
// Constructors wrap [loglake.ErrInvalidOptions] and name every bad field.
// Every method of a closed Ingestor, a second Close included, returns
// [loglake.ErrClosed]. Partial failures are [*FlushError]s whose Unwrap
// returns every cause, so errors.Is works with loglake's sentinels,
// context.Canceled and the backend's errors alike.
package ingest
