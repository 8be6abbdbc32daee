package loglake

import (
	"errors"

	"gocloud.dev/gcerrors"
)

// Sentinel errors. Every error loglake returns that belongs to one of these
// classes wraps the sentinel, so callers test with [errors.Is]:
//
//	if errors.Is(err, loglake.ErrInvalidTenant) { … }
//
// Errors from the storage backend are wrapped with %w and the object key, so
// [gcerrors.Code] still reports the backend's code (see [IsNotFound]).
var (
	// ErrClosed is returned by every method of a closed Lake, Ingestor,
	// Compactor or Engine, a second Close included.
	ErrClosed = errors.New("loglake: closed")

	// ErrInvalidTenant is returned when a tenant id is empty, longer than
	// [MaxTenantLen], or holds a byte outside the tenant charset (see
	// [ValidateTenant]). Such an id never becomes part of an object key.
	ErrInvalidTenant = errors.New("loglake: invalid tenant id")

	// ErrInvalidKey is returned when an object key or a partition key does not
	// have the layout loglake writes (see [ParsePartitionKey]).
	ErrInvalidKey = errors.New("loglake: invalid key")

	// ErrInvalidDay is returned when a day is not a valid YYYY-MM-DD date.
	ErrInvalidDay = errors.New("loglake: invalid day")

	// ErrInvalidOptions is returned by constructors when an option is out of
	// range. The error names every bad field and its value.
	ErrInvalidOptions = errors.New("loglake: invalid options")

	// ErrSettingsMismatch is returned by [Open] and [New] when the options
	// given conflict with the settings the lake was created with (its time
	// zone, say). A lake's settings never change silently.
	ErrSettingsMismatch = errors.New("loglake: options conflict with the lake's settings")

	// ErrTooManyActivePartitions is returned by an Ingestor whose
	// active-partition policy is Reject when a record would open a partition
	// past the quota.
	ErrTooManyActivePartitions = errors.New("loglake: too many active partitions")

	// ErrScanLimitExceeded is returned by a query that would read more bytes
	// than its limit allows. The stats gathered so far come with it.
	ErrScanLimitExceeded = errors.New("loglake: scan limit exceeded")

	// ErrTooManyQueries is returned when a tenant already runs as many
	// queries as its limit allows and the query may not wait.
	ErrTooManyQueries = errors.New("loglake: too many concurrent queries")

	// ErrCorrupt marks every failure to decode data loglake reads back: an
	// NDJSON object, a Parquet file, a manifest or the lake's settings.
	ErrCorrupt = errors.New("loglake: corrupt data")

	// ErrConflict is returned by a create-only write that lost the race: the
	// object already exists (see [Lake.CreateOnly]).
	ErrConflict = errors.New("loglake: object already exists")
)

// IsNotFound reports whether err (or an error it wraps) is the storage
// backend's "object not found".
func IsNotFound(err error) bool {
	return gcerrors.Code(err) == gcerrors.NotFound
}

// markedError carries a class sentinel beside its cause, so that both
// errors.Is(err, sentinel) and errors.Is(err, cause) hold.
type markedError struct {
	msg   string
	class error
	cause error
}

func (e *markedError) Error() string   { return e.msg }
func (e *markedError) Unwrap() []error { return []error{e.class, e.cause} }

// MarkCorrupt returns an error that reads "<what>: <cause>" and matches both
// [ErrCorrupt] and cause with errors.Is. It returns nil when cause is nil.
func MarkCorrupt(what string, cause error) error {
	if cause == nil {
		return nil
	}
	return &markedError{msg: what + ": " + cause.Error(), class: ErrCorrupt, cause: cause}
}
