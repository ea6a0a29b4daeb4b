package tlsutil

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// This file keeps the parsed form of files that are read again at handshake
// time, so that replaced certificates and CRLs take effect without a
// restart while an unchanged file costs two stat calls, not a parse.

// fileStamp identifies one version of a file: same file (device and inode),
// same modification time, same size. A rewrite that keeps all three (a
// copy with preserved times of a same-sized file) is not noticed.
type fileStamp struct{ fi os.FileInfo }

func stamp(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	return fileStamp{fi}, err
}

func (a fileStamp) same(b fileStamp) bool {
	return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi) &&
		a.fi.ModTime().Equal(b.fi.ModTime()) && a.fi.Size() == b.fi.Size()
}

// keyPairFile is a certificate and key read from disk, re-read when either
// file changes.
type keyPairFile struct {
	certFlag, certPath string
	keyFlag, keyPath   string
	lg                 *zap.Logger

	mu struct {
		sync.Mutex
		cert      *tls.Certificate // protected by mu; last good pair
		certStamp fileStamp        // protected by mu; version cert was read from
		keyStamp  fileStamp        // protected by mu
		lastErr   string           // protected by mu; last reload error logged
	}
}

func newKeyPairFile(lg *zap.Logger, certFlag, certPath, keyFlag, keyPath string) *keyPairFile {
	return &keyPairFile{certFlag: certFlag, certPath: certPath, keyFlag: keyFlag, keyPath: keyPath, lg: lg}
}

// get returns the current pair. When the files changed and the new content
// is bad (a rotation caught halfway: new certificate, old key), it keeps
// serving the last good pair and logs the problem once; only when there
// never was a good pair is the error returned, failing the handshake.
func (k *keyPairFile) get() (*tls.Certificate, error) {
	// Stat before reading: a write that lands between the two changes the
	// stamp, so the next handshake reads the file again.
	cs, cerr := stamp(k.certPath)
	ks, kerr := stamp(k.keyPath)

	k.mu.Lock()
	defer k.mu.Unlock()
	if cerr == nil && kerr == nil && k.mu.cert != nil && cs.same(k.mu.certStamp) && ks.same(k.mu.keyStamp) {
		return k.mu.cert, nil
	}
	cert, err := loadKeyPair(k.certFlag, k.certPath, k.keyFlag, k.keyPath)
	if err != nil {
		if k.mu.cert == nil {
			return nil, err
		}
		if msg := err.Error(); msg != k.mu.lastErr {
			k.mu.lastErr = msg
			k.lg.Warn("cannot reload certificate; still using the previous one", zap.Error(err))
		}
		return k.mu.cert, nil
	}
	if k.mu.cert != nil {
		k.lg.Info("reloaded certificate",
			zap.String("cert-file", k.certPath),
			zap.String("subject", cert.Leaf.Subject.String()),
			zap.Time("not-after", cert.Leaf.NotAfter))
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		k.lg.Warn("certificate has expired", zap.String("cert-file", k.certPath), zap.Time("not-after", cert.Leaf.NotAfter))
	}
	k.mu.cert, k.mu.certStamp, k.mu.keyStamp, k.mu.lastErr = cert, cs, ks, ""
	return cert, nil
}

// crlFile is the set of revoked serials of a CRL file, re-read when the
// file changes. Unlike certificates it fails closed: when the file cannot
// be read or parsed, get returns an error and the connection is refused,
// because serving with a stale revocation list could admit a revoked
// client.
type crlFile struct {
	flag, path string

	mu struct {
		sync.Mutex
		stamp   fileStamp           // protected by mu
		revoked map[string]struct{} // protected by mu; nil until first good read
	}
}

func (c *crlFile) get() (map[string]struct{}, error) {
	st, err := stamp(c.path)
	if err != nil {
		return nil, &ConfigError{Flag: c.flag, Value: c.path, Err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.revoked != nil && st.same(c.mu.stamp) {
		return c.mu.revoked, nil
	}
	set, err := readCRL(c.flag, c.path)
	if err != nil {
		return nil, err
	}
	c.mu.stamp, c.mu.revoked = st, set
	return set, nil
}

func readCRL(flag, path string) (map[string]struct{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Flag: flag, Value: path, Err: err}
	}
	crl, err := parseCRL(data)
	if err != nil {
		return nil, &ConfigError{Flag: flag, Value: path, Err: fmt.Errorf("not a CRL: %w", err)}
	}
	return revokedSerials(crl), nil
}
