package server

import "errors"

// Sentinels returned by the server's operations. The API layer maps each to
// the etcd rpctypes error clients expect.
var (
	ErrStopped               = errors.New("server: stopped")
	ErrTimeout               = errors.New("server: request timed out")
	ErrTimeoutLeaderLost     = errors.New("server: request timed out, possibly due to previous leader failure")
	ErrNoLeader              = errors.New("server: no leader")
	ErrNotLeader             = errors.New("server: not leader")
	ErrLeaderChanged         = errors.New("server: leader changed")
	ErrRequestTooLarge       = errors.New("server: request is too large")
	ErrTooManyRequests       = errors.New("server: too many requests")
	ErrNoSpace               = errors.New("server: mvcc: database space exceeded")
	ErrUnhealthy             = errors.New("server: unhealthy cluster")
	ErrNotSupported          = errors.New("server: not supported yet")
	ErrCorrupt               = errors.New("server: corrupt state")
	ErrBadLeaderTransferee   = errors.New("server: bad leader transferee")
	ErrTimeoutLeaderTransfer = errors.New("server: request timed out, leader transfer took too long")

	// Runtime reconfiguration.
	ErrBadPeerURLs            = errors.New("server: given member URLs are invalid")
	ErrNotEnoughStarted       = errors.New("server: re-configuration failed due to not enough started members")
	ErrLearnerNotReady        = errors.New("server: can only promote a learner member which is in sync with leader")
	ErrTooManyLearners        = errors.New("server: too many learner members in cluster")
	ErrNotSupportedForLearner = errors.New("server: rpc not supported for learner")
	// ErrRemoved stops a member that was removed from the cluster.
	ErrRemoved = errors.New("server: the member has been permanently removed from the cluster")
)
