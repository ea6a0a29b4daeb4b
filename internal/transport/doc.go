// Package transport carries raft messages between Cairn members over the
// peer port. It speaks Cairn's own protocol and only ever talks to other
// Cairn members.
//
// Wire format: for each peer, the sender keeps one long-lived connection,
// opened as an HTTP/1.1 POST to <peerURL>/raft/stream with the headers
// X-Cairn-Cluster-ID (hex), X-Cairn-From and X-Cairn-To (decimal member
// IDs), "Connection: Upgrade" and "Upgrade: cairn-raft/1" (StreamProtocol).
// After the receiver's 101 the connection carries, from sender to
// receiver only, a sequence of frames, each a uvarint length followed by
// that many bytes of a marshalled raftpb.Message; the sender writes them
// on the connection itself and the receiver reads them from it, with no
// HTTP body encoding and no goroutine of net/http in between. A frame
// longer than MaxFrameSize, or one that does not decode, ends that stream.
//
// The receiver answers before it reads any frame:
//
//  1. 412 "cluster ID mismatch" if the cluster IDs differ;
//  2. 410 "the member has been permanently removed from the cluster" if the
//     sender has been removed;
//  3. 400 if the stream is addressed to another member;
//  4. 426 if the request does not upgrade to StreamProtocol;
//  5. otherwise 101, after which every frame goes to Raft.Process in order.
//
// Callers:
//
//  1. Build a Transport with New; mount Handler on the peer listener at
//     StreamPath, SnapshotPath and ProbePath, next to /members and
//     /version.
//  2. Tell it the peer set with AddPeer, UpdatePeer and RemovePeer (the
//     membership apply step does this).
//  3. Hand outgoing messages to Send. Send never blocks: each peer has a
//     bounded FIFO queue; when it is full, or the peer is unknown, the message
//     is dropped, and for a full queue Raft.ReportUnreachable is called from
//     Send's goroutine, so ReportUnreachable must not block either.
//  4. Messages to one peer leave in the order Send saw them over a single
//     stream. A broken stream loses what was in flight (raft tolerates loss);
//     the sender redials with capped backoff, trying the peer's URLs in turn,
//     and calls ReportUnreachable after each failed attempt.
//  5. Stop closes every stream and waits for every goroutine the Transport
//     started, and for every running Handler call; no Raft method is called
//     after Stop returns.
//
// Snapshots: SendSnapshot posts to <peerURL>/raft/snapshot, with the same
// headers and admission checks as a stream: one frame holding the MsgSnap,
// whose metadata Options.Snapshots rewrites to describe exactly the state
// that follows, then that state in the Snapshotter's format. The receiver
// hands both to Snapshotter.ReceiveSnapshot and answers 200 only once the
// snapshot is staged and stepped into raft; the sender then reports the
// outcome through Raft.ReportSnapshot.
//
// Probes: every peer's /raft/probing is fetched every 5 s to record
// etcd_network_peer_round_trip_time_seconds{To}.
//
// RemovePeer also cuts the inbound streams from that member, so a removed
// member's next connection attempt is refused with 410 and it learns it
// was removed (Options.OnRemoved on its side).
package transport
