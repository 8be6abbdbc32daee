package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Reason is why a record was dead-lettered. It names the folder under
// errors/ ("errors/<reason>/dt=<day>/…").
type Reason string

// Dead-letter reasons.
const (
	ReasonMalformed        Reason = "malformed_json"    // not valid JSON; the rest of its line is kept
	ReasonInvalidUTF8      Reason = "invalid_utf8"      // a string with bytes that are not UTF-8
	ReasonNotObject        Reason = "not_object"        // a line or a log element that is not a JSON object
	ReasonLogNotArray      Reason = "log_not_array"     // an envelope whose log field is not an array
	ReasonDuplicateKey     Reason = "duplicate_key"     // the tenant field twice with different values, or the log field twice
	ReasonMissingTenant    Reason = "missing_tenant"    // no tenant field
	ReasonInvalidTenant    Reason = "invalid_tenant"    // a tenant id that loglake.ValidateTenant refuses, or not a string
	ReasonTenantConflict   Reason = "tenant_conflict"   // a record whose own tenant field differs from its envelope's
	ReasonTooLarge         Reason = "too_large"         // a formatted record over MaxRecordBytes
	ReasonMissingTimestamp Reason = "missing_timestamp" // no timestamp field (MissingTime: DeadLetter)
	ReasonInvalidTimestamp Reason = "invalid_timestamp" // a timestamp in no accepted format (MissingTime: DeadLetter)
)

func (r Reason) String() string { return string(r) }

// InputRef names one input: a JSON value handed to Add or AddBatch.
type InputRef struct {
	// BatchID is the batch id given to AddBatch; "" for Add.
	BatchID string
	// Index is the item's index in AddBatch's items, or, for Add, the
	// call's sequence number (1 for the Ingestor's first Add, and so on).
	Index int
	// Line is the 0-based ordinal of the JSON value within the item (its
	// line, for NDJSON).
	Line int
}

func (r InputRef) String() string {
	var b strings.Builder
	if r.BatchID != "" {
		b.WriteString("batch ")
		b.WriteString(strconv.Quote(r.BatchID))
		b.WriteString(" item ")
	} else {
		b.WriteString("add #")
	}
	b.WriteString(strconv.Itoa(r.Index))
	b.WriteString(" line ")
	b.WriteString(strconv.Itoa(r.Line))
	return b.String()
}

func (r InputRef) compare(s InputRef) int {
	if c := strings.Compare(r.BatchID, s.BatchID); c != 0 {
		return c
	}
	if r.Index != s.Index {
		return r.Index - s.Index
	}
	return r.Line - s.Line
}

// FailedInput is one input some of whose records did not land.
type FailedInput struct {
	Input   InputRef
	Records int    // how many of its records did not land
	Key     string // the object they were bound for ("" when they were refused before buffering)
	Err     error
}

// FlushError reports the inputs whose records did not land — neither in
// raw/, nor spill/, nor errors/ — item by item, so that a caller can retry
// exactly those. Flush and Close return it when uploads and their spills
// failed; Add and AddBatch when records were refused (the Reject policy,
// a ctx that ended while waiting, a closed Ingestor).
//
// errors.Is and errors.As see every cause: errors.Is(err,
// loglake.ErrTooManyActivePartitions) or errors.Is(err, context.Canceled)
// tell why.
type FlushError struct {
	Failed []FailedInput // sorted by input
}

func (e *FlushError) Error() string {
	records := 0
	for _, f := range e.Failed {
		records += f.Records
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ingest: %d records of %d inputs did not land", records, len(e.Inputs()))
	for k, f := range e.Failed {
		if k == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-k)
			break
		}
		fmt.Fprintf(&b, "; %v: %d records", f.Input, f.Records)
		if f.Key != "" {
			fmt.Fprintf(&b, " for %s", f.Key)
		}
		fmt.Fprintf(&b, ": %v", f.Err)
	}
	return b.String()
}

// Unwrap returns the distinct causes.
func (e *FlushError) Unwrap() []error {
	var errs []error
	seen := map[string]bool{}
	for _, f := range e.Failed {
		if f.Err == nil {
			continue
		}
		if msg := f.Err.Error(); !seen[msg] {
			seen[msg] = true
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// Inputs returns the distinct inputs that did not land, in order.
func (e *FlushError) Inputs() []InputRef {
	var refs []InputRef
	for _, f := range e.Failed {
		if len(refs) == 0 || refs[len(refs)-1] != f.Input {
			refs = append(refs, f.Input)
		}
	}
	return refs
}

// newFlushError sorts and merges failures; nil when there are none.
func newFlushError(failed []FailedInput) error {
	if len(failed) == 0 {
		return nil
	}
	slices.SortStableFunc(failed, func(a, b FailedInput) int { return a.Input.compare(b.Input) })
	return &FlushError{Failed: failed}
}

// joinErr returns a FlushError for failed, joined with err when both exist.
func joinErr(failed []FailedInput, err error) error {
	fe := newFlushError(failed)
	switch {
	case fe == nil:
		return err
	case err == nil:
		return fe
	}
	return errors.Join(fe, err)
}
