// Package bootstrap decides which cluster a member with an empty data dir
// founds or joins.
//
//   - Static founds a new cluster from --initial-cluster and the token: it
//     returns the founding members and this member, with the guide's error
//     texts for a name not listed or advertised URLs that differ.
//   - FetchCluster and Join join a running cluster
//     (--initial-cluster-state existing): FetchCluster asks the other
//     members' peer URLs for GET /members (etcd's layout, which
//     EncodeMembers writes and DecodeMembers reads); Join checks
//     --initial-cluster against the answer and returns this member with
//     the ID the cluster gave it at "member add".
//
// Discovery and DNS SRV join this package later. Callers use it only when
// the data dir holds no member: a restarted member ignores every bootstrap
// flag, as etcd does.
package bootstrap
