package main

import (
	"encoding/json"
	"net/http"

	"github.com/cairn-db/cairn/internal/bootstrap"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/server"
)

// peerHandler serves the peer port: the server's member-to-member paths
// (raft stream, forwarded lease calls), and /members and /version, which
// joining members and tools use.
func peerHandler(srv *server.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", srv.PeerHandler())
	mux.HandleFunc(bootstrap.MembersPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(bootstrap.HeaderClusterID, membership.FormatID(srv.ClusterID()))
		bootstrap.EncodeMembers(w, srv.Cluster().Members())
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		cv := srv.Cluster().Version()
		if cv == "" {
			cv = "not_decided"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"etcdserver": server.Version, "etcdcluster": cv})
	})
	return mux
}
