package v3rpc

import (
	"context"

	"github.com/cairn-db/cairn/internal/tlsutil"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ClientCommonName returns the subject CN of the call's verified client
// certificate, or "" when the call came without one. With
// --client-cert-auth etcd takes it as the user name when auth is enabled;
// the auth layer reads it here.
func ClientCommonName(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ""
	}
	return tlsutil.CommonName(ti.State)
}
