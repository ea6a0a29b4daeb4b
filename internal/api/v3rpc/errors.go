package v3rpc

import (
	"context"
	"errors"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/server"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errorTable is the one place where internal errors become etcd's wire
// errors. Order does not matter: each internal sentinel appears once.
var errorTable = []struct {
	internal error
	wire     error
}{
	{mvcc.ErrCompacted, rpctypes.ErrGRPCCompacted},
	{mvcc.ErrFutureRev, rpctypes.ErrGRPCFutureRev},
	{mvcc.ErrKeyNotFound, rpctypes.ErrGRPCKeyNotFound},
	{mvcc.ErrEmptyKey, rpctypes.ErrGRPCEmptyKey},
	{mvcc.ErrTooManyOps, rpctypes.ErrGRPCTooManyOps},
	{mvcc.ErrDuplicateKey, rpctypes.ErrGRPCDuplicateKey},
	{mvcc.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{mvcc.ErrValueProvided, rpctypes.ErrGRPCValueProvided},
	{mvcc.ErrLeaseProvided, rpctypes.ErrGRPCLeaseProvided},

	{lease.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{lease.ErrLeaseExists, rpctypes.ErrGRPCLeaseExist},
	{lease.ErrLeaseTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge},

	{membership.ErrIDExists, rpctypes.ErrGRPCMemberExist},
	{membership.ErrPeerURLExists, rpctypes.ErrGRPCPeerURLExist},
	{membership.ErrIDNotFound, rpctypes.ErrGRPCMemberNotFound},
	{membership.ErrIDRemoved, rpctypes.ErrGRPCMemberNotFound},
	{membership.ErrNotLearner, rpctypes.ErrGRPCMemberNotLearner},

	{server.ErrStopped, rpctypes.ErrGRPCStopped},
	{server.ErrTimeout, rpctypes.ErrGRPCTimeout},
	{server.ErrTimeoutLeaderLost, rpctypes.ErrGRPCTimeoutDueToLeaderFail},
	{server.ErrNoLeader, rpctypes.ErrGRPCNoLeader},
	{server.ErrNotLeader, rpctypes.ErrGRPCNotLeader},
	{server.ErrLeaderChanged, rpctypes.ErrGRPCLeaderChanged},
	{server.ErrRequestTooLarge, rpctypes.ErrGRPCRequestTooLarge},
	{server.ErrTooManyRequests, rpctypes.ErrGRPCRequestTooManyRequests},
	{server.ErrNoSpace, rpctypes.ErrGRPCNoSpace},
	{server.ErrUnhealthy, rpctypes.ErrGRPCUnhealthy},
	{server.ErrBadLeaderTransferee, rpctypes.ErrGRPCBadLeaderTransferee},
	{server.ErrBadPeerURLs, rpctypes.ErrGRPCMemberBadURLs},
	{server.ErrNotEnoughStarted, rpctypes.ErrGRPCMemberNotEnoughStarted},
	{server.ErrLearnerNotReady, rpctypes.ErrGRPCLearnerNotReady},
	{server.ErrTooManyLearners, rpctypes.ErrGRPCTooManyLearners},
	{server.ErrNotSupportedForLearner, rpctypes.ErrGRPCNotSupportedForLearner},
	{server.ErrRemoved, rpctypes.ErrGRPCStopped},
	{server.ErrTimeoutLeaderTransfer, status.Error(codes.Unavailable, "etcdserver: request timed out, leader transfer took too long")},
}

// toGRPC maps an internal error to the error a client sees.
func toGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err // already a wire error
	}
	for _, e := range errorTable {
		if errors.Is(err, e.internal) {
			return e.wire
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, context.Canceled.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	case errors.Is(err, server.ErrNotSupported):
		return status.Error(codes.Unimplemented, "etcdserver: not supported by Cairn yet")
	}
	return status.Error(codes.Unknown, err.Error())
}
