// Package bootstrap decides which cluster a member with an empty data dir
// founds or joins.
//
//   - Static founds a new cluster from --initial-cluster (or the cluster
//     that DNS SRV records describe, see internal/srv) and the token: it
//     returns the founding members and this member, with the guide's error
//     texts for a name not listed or advertised URLs that differ. URLs
//     that differ as text are compared by resolved address (SameURLs), so
//     a member advertising its IP matches an SRV record naming its host.
//   - FetchCluster and Join join a running cluster
//     (--initial-cluster-state existing): FetchCluster asks the other
//     members' peer URLs for GET /members (etcd's layout, which
//     EncodeMembers writes and DecodeMembers reads); Join checks
//     --initial-cluster against the answer and returns this member with
//     the ID the cluster gave it at "member add".
//   - Discover bootstraps from a v2 discovery URL (--discovery): it reads
//     K/_config/size, refuses a full directory, registers this member as
//     K/<member-id-hex> = name=url[,...] with prevExist=false, checks
//     again, and long-polls K until it holds size members; the first size
//     by createdIndex, joined with ",", are the initial cluster, hashed
//     with DiscoveryToken(URL). Each request but the poll has a 5 s
//     timeout; network errors and 5xx answers are retried with backoff
//     (up to 256 s) and each retry is logged; only the caller's ctx ends
//     it. Errors carry etcd's texts (ErrFullCluster, ErrDuplicateID,
//     ErrDuplicateName, ErrBadSizeKey) and the guide's size text
//     (SizeNotFoundError). DiscoveredCluster reads without registering,
//     for --discovery-fallback=proxy.
//
// Callers use it only when the data dir holds no member: a restarted
// member ignores every bootstrap flag, as etcd does.
package bootstrap
