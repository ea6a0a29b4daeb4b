package mvcc

import "errors"

// Errors. Each one is a deterministic answer to a request (the same on every
// member) except ErrCorrupt and ErrClosed. The API layer maps them to etcd's
// rpctypes errors in one place.
var (
	// ErrCompacted: the revision asked for is below the compaction revision.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev: the revision asked for is above the current revision.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
	// ErrKeyNotFound: a put with ignore_value or ignore_lease names a key
	// that does not exist, or a txn holds an empty operation.
	ErrKeyNotFound = errors.New("mvcc: key not found")
	// ErrLeaseNotFound: a put names a lease that does not exist.
	ErrLeaseNotFound = errors.New("mvcc: lease not found")
	// ErrEmptyKey: a request names no key.
	ErrEmptyKey = errors.New("mvcc: key is not provided")
	// ErrTooManyOps: a txn holds more operations than allowed.
	ErrTooManyOps = errors.New("mvcc: too many operations in txn request")
	// ErrDuplicateKey: a txn writes one key twice (etcd's rule).
	ErrDuplicateKey = errors.New("mvcc: duplicate key given in txn request")
	// ErrValueProvided: a put sets both ignore_value and a value.
	ErrValueProvided = errors.New("mvcc: value is provided")
	// ErrLeaseProvided: a put sets both ignore_lease and a lease.
	ErrLeaseProvided = errors.New("mvcc: lease is provided")
	// ErrNotReadOnly: ReadTxn was given a txn that writes.
	ErrNotReadOnly = errors.New("mvcc: txn is not read-only")
	// ErrCorrupt tags stored bytes that cannot be decoded. It is never a
	// property of a request: the member must stop.
	ErrCorrupt = errors.New("mvcc: corrupt data")
	// ErrStorage tags a failure of the storage engine (I/O). Like
	// ErrCorrupt it is never a property of a request.
	ErrStorage = errors.New("mvcc: storage failure")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("mvcc: closed")
)

// IsFatal reports whether err is a failure of this member rather than an
// answer to a request: the member must stop instead of answering.
func IsFatal(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrStorage) || errors.Is(err, ErrClosed)
}
