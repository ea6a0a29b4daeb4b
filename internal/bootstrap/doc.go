// Package bootstrap turns the bootstrap flags into the founding member
// list of a new cluster and the local member among them. Static bootstrap
// (--initial-cluster) lives here now; discovery and DNS SRV join it later.
//
// It is used only when the data dir holds no member: a restarted member
// ignores every bootstrap flag, as etcd does.
package bootstrap
