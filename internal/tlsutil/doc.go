// Package tlsutil turns one side's TLS flags (client side or peer side)
// into tls.Configs and TLS listeners that behave as etcd 3.5/3.6 does.
//
// The config layer fills an Info per side from the flags (or the config
// file's client-transport-security / peer-transport-security keys):
//
//	client side             peer side                              Info field
//	--cert-file             --peer-cert-file                       CertFile
//	--key-file              --peer-key-file                        KeyFile
//	--client-cert-file      --peer-client-cert-file                ClientCertFile
//	--client-key-file       --peer-client-key-file                 ClientKeyFile
//	--trusted-ca-file       --peer-trusted-ca-file                 TrustedCAFile
//	--client-cert-auth      --peer-client-cert-auth                ClientCertAuth
//	--client-crl-file       --peer-crl-file                        CRLFile
//	(allowed-cn, file only) --peer-cert-allowed-cn                 AllowedCNs
//	--client-cert-allowed-hostname --peer-cert-allowed-hostname    AllowedHostnames
//	                        --peer-skip-client-san-verification    SkipClientSANVerify
//	--auto-tls              --peer-auto-tls                        SelfCert, then SelfSigned
//	--self-signed-cert-validity (both)                             SelfCert's validityYears
//	--cipher-suites, --tls-min-version, --tls-max-version (both)   CipherSuites, MinVersion, MaxVersion
//
// Side ("client" or "peer") picks the flag names printed in errors.
//
// Callers:
//
//  1. At start-up call Validate on each side that will serve or dial TLS. It
//     reads every named file and returns a *ConfigError naming the flag and
//     the file ("tlsutil: --cert-file /x/a.crt: open: no such file or
//     directory"; a key that does not match names both files).
//  2. To serve, wrap the TCP listener with Info.NewListener (ServerConfig
//     plus NewListener with Info.ListenerOptions). Accept returns only
//     *tls.Conn whose handshake is done. Handshakes run off the Accept
//     path, each bounded by ListenerOptions.HandshakeTimeout (10 s).
//  3. To dial the same side's servers, use ClientConfig.
//  4. To learn who a client is, call CommonName on the connection state
//     (gRPC credentials.TLSInfo.State, or *http.Request.TLS). Only a
//     verified certificate's CN counts.
//  5. Close the listener to stop; it returns after every goroutine it
//     started has ended.
//
// Behaviour, following etcd:
//
//   - Client certificates are required and verified when ClientCertAuth is
//     set or TrustedCAFile is given; --trusted-ca-file alone is enough.
//   - The serving certificate, and the certificate presented when dialing,
//     are re-read when their files change (checked by stat at each
//     handshake), so rotation needs no restart. A half-done rotation (the
//     new certificate with the old key) keeps the last good pair and logs
//     once, where etcd fails the handshakes.
//   - The CRL file is re-read when it changes; a client certificate whose
//     serial (or an intermediate's) is listed is refused. A CRL that cannot
//     be read refuses every client certificate until it can (fail closed).
//     DER and PEM CRLs are accepted; the CRL's signature is not checked.
//   - AllowedCNs / AllowedHostnames are checked against the verified
//     certificate, on the server side and, as in etcd, on the dialing side
//     against the server's certificate (skipped when verification is off).
//   - On the peer side the listener also checks that a client certificate
//     with IP/DNS SANs was presented from an address they cover, unless
//     SkipClientSANVerify. This needs the remote address, so it lives in the
//     listener; a ServerConfig used without NewListener skips it.
//   - The minimum version is TLS 1.2 unless set; cipher suites cannot be
//     combined with a TLS 1.3 minimum. Cipher suites Go marks insecure are
//     accepted, as etcd accepts them; InsecureCipherSuites names them so
//     the caller can warn.
//   - ServerConfig offers ALPN "h2" and "http/1.1", so gRPC clients, which
//     insist on h2, and HTTP/1 clients share the port.
//
// Refused connections: each failed handshake is closed and logged as one
// line, "refused TLS connection from <addr> (client certificate
// "<subject>"): <reason>", limited per remote IP (ListenerOptions.LogBurst).
// A plaintext HTTP/1 request on the TLS port is answered with net/http's
// "400 Bad Request / Client sent an HTTP request to an HTTPS server." and
// closed; other non-TLS bytes (a cleartext gRPC preface) are closed at
// once. A connection closed by the client mid-handshake (a port probe) is
// logged at debug level only.
//
// Under cmux: the returned connections are handshaked *tls.Conn and work
// with cmux either way round, but net/http only sets Request.TLS, and
// negotiates HTTP/2 by ALPN, when it is handed the *tls.Conn itself, so put
// cmux below this listener (etcd's layout) when handlers need the peer's
// certificate.
package tlsutil
