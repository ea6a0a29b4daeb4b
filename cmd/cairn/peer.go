package main

import (
	"encoding/json"
	"net/http"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/server"
)

// peerHandler serves the peer port: the server's member-to-member paths
// (raft stream, forwarded lease calls), and /members and /version, which
// joining members and tools use.
func peerHandler(srv *server.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", srv.PeerHandler())
	mux.HandleFunc("/members", func(w http.ResponseWriter, r *http.Request) {
		type member struct {
			ID         string   `json:"id"`
			Name       string   `json:"name"`
			PeerURLs   []string `json:"peerURLs"`
			ClientURLs []string `json:"clientURLs"`
			IsLearner  bool     `json:"isLearner,omitempty"`
		}
		var out []member
		for _, m := range srv.Cluster().Members() {
			out = append(out, member{membership.FormatID(m.ID), m.Name, m.PeerURLs, m.ClientURLs, m.IsLearner})
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Etcd-Cluster-ID", membership.FormatID(srv.ClusterID()))
		json.NewEncoder(w).Encode(out)
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
