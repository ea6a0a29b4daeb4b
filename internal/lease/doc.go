// Package lease is Cairn's lessor: it grants, attaches, checkpoints and
// revokes leases on every member, and on the leader alone tracks when each
// lease is due. It is a pure core: it starts no goroutines, reads time only
// through Options.Now, and writes only into batches its caller commits.
//
// # State
//
// Durable (storage.PrefixLease, see record.go): one record per lease (ID →
// granted TTL, last checkpointed remaining TTL) and one empty-valued key per
// attachment (ID + user key). Attached keys are never held in memory; Revoke
// and TimeToLive find them by prefix scan, so memory does not grow with the
// number of leased keys. In memory: one small struct per lease (TTL,
// checkpoint, deadline, heap positions) — leases are few next to keys — and,
// on the primary, two min-heaps: deadlines and checkpoint due times.
//
// # Contract
//
//  1. Open storage, then call New once, before applying any entry. Every
//     lease starts with an unknown deadline: nothing expires, Renew and
//     TimeToLive fail with ErrNotPrimary.
//  2. Only the apply goroutine calls Grant, Revoke, Attach, Detach,
//     Checkpoint and Reload, in log order, with the apply batch. They check
//     in-memory state and write into that batch; the in-memory state changes
//     at once, the durable state when the batch commits. If the commit fails
//     the member must stop: memory and disk would disagree. Their results
//     are deterministic — the same on every member — and a rejection
//     (ErrLeaseNotFound, ErrLeaseExists, ErrLeaseTTLTooLarge) is a normal
//     apply result.
//  3. The batch given to Revoke must be indexed, so it sees attachments
//     written earlier in the same batch. The server deletes the keys Revoke
//     returns through MVCC in the same batch, at one revision.
//  4. After a snapshot install, call Reload from the apply goroutine.
//  5. Call Promote(electionTimeout) when this member is leader and has
//     applied every entry of earlier terms — as etcd does, on applying the
//     empty entry a new leader appends. Call Demote as soon as leadership is
//     lost. Timing is leader-only; the deadlines a lessor computes never
//     enter the log.
//  6. On the primary, a timer loop (NextExpiry and NextCheckpoint tell when)
//     proposes a LeaseRevoke for each ID from Expired, and a LeaseCheckpoint
//     request for the entries from DueCheckpoints. Limit both to the revoke
//     and checkpoint rates (etcd: 1000 a second each).
//  7. Renew and TimeToLive serve the leader's clients; a follower's server
//     forwards them to the leader (ErrNotPrimary says so).
//
// Renew, TimeToLive, Leases, Exists, IsPrimary, Expired, NextExpiry,
// DueCheckpoints and NextCheckpoint are safe from any goroutine, concurrently
// with the apply goroutine.
package lease
