// Package raftnode runs raft for one member: it owns the raft.RawNode, keeps
// the raft log and hard state in the storage keyspace storage.PrefixRaft, and
// drives the Ready loop from a single goroutine.
//
// Before each Ready the loop takes in every input already queued
// (proposals, peer messages, read requests; at most maxDrain), so one Ready
// and one fsync cover them all. The Ready loop is then an ordered list, and
// each step keeps an invariant:
//
//  0. Install (followers, rarely): a snapshot from the leader goes to
//     Applier.ApplySnapshot before anything else of the Ready; the
//     LogStore's reset is staged in the applier's install batch.
//  1. Send (leader only): a leader may send appends to followers before its
//     own write is durable (raft thesis §10.2.1); it counts itself towards a
//     quorum only after step 2.
//  2. Persist: new entries and hard state go to pebble in one batch, synced
//     when raft says MustSync. Nothing is acknowledged before.
//  3. Send (followers): their acknowledgements leave only after step 2.
//  4. Apply: committed entries go to the Applier in log order, synchronously;
//     the applier writes the applied index in the same batch as the state.
//  5. Advance: raft is told the Ready is handled.
//
// Callers:
//
//  1. Open a LogStore on the member's storage.DB.
//  2. Call Start with a Config (Applier, Transport, callbacks). For a new
//     member pass the initial peers; a restarted member passes none and
//     resumes from the LogStore and Config.Applied.
//  3. Propose, ProposeConfChange, ReadIndex, Step and TransferLeader may be
//     called from any goroutine; they hand work to the loop through channels
//     and never block on raft itself beyond the channel send.
//  4. A MsgSnap is not sent inline: it goes to Transport.SendSnapshot, which
//     streams the state and reports back through ReportSnapshot. The
//     LogStore's snapshots carry only metadata; the state lives beside the
//     log in the same DB.
//  5. Stop ends the loop; no callback runs after Stop returns.
package raftnode
