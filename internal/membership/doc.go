// Package membership owns who is in the cluster: member records, removed
// IDs, the cluster ID, and how IDs are computed.
//
// IDs are computed exactly as etcd computes them (spec/compat.md §2), so the
// same flags give the same member and cluster IDs on Cairn and on etcd.
//
// Contract:
//
//  1. At bootstrap, build the initial member list with NewMember for each
//     --initial-cluster entry and compute the cluster ID with ClusterID.
//  2. Load a Cluster from storage with Load; mutate it only from the apply
//     goroutine (Add, Remove, UpdateAttributes, ...), passing the apply batch
//     so the change is durable together with the applied index.
//  3. Readers on other goroutines call Members, Member, ID: they take a read
//     lock and return copies.
package membership
