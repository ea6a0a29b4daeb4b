package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the files and directories WriteFiles makes. The key is
// readable by its owner only; the certificate is public.
const (
	CertFileMode fs.FileMode = 0o644
	KeyFileMode  fs.FileMode = 0o600
	DirMode      fs.FileMode = 0o700
)

// WriteOptions configure KeyPair.WriteFiles.
type WriteOptions struct {
	// Force replaces existing files. Without it WriteFiles writes nothing
	// if either file exists (ErrExists): overwriting a CA key by mistake
	// orphans every certificate it signed.
	Force bool
}

// WriteFiles writes CertPEM to certPath (mode 0644) and KeyPEM to keyPath
// (mode 0600), whatever the umask. Missing parent directories are made
// with mode 0700; existing ones are left as they are.
//
// Each file is written atomically: to a temporary file in its directory,
// synced, then renamed (or, without Force, hard-linked, which fails rather
// than replace a file that appeared meanwhile) and the directory synced.
// Both temporary files are written before either is put in place, so most
// failures leave nothing behind. The pair as a whole is not atomic: a
// crash between the two steps can leave a new key beside an old
// certificate, which LoadKeyPair reports as ErrKeyMismatch.
func (kp *KeyPair) WriteFiles(certPath, keyPath string, opts WriteOptions) error {
	if certPath == "" || keyPath == "" {
		return fmt.Errorf("%w: WriteFiles needs a certificate path and a key path", ErrInvalidOptions)
	}
	if filepath.Clean(certPath) == filepath.Clean(keyPath) {
		return fmt.Errorf("%w: certificate and key would both be written to %s", ErrInvalidOptions, certPath)
	}
	if len(kp.CertPEM) == 0 || len(kp.KeyPEM) == 0 {
		return fmt.Errorf("%w: the key pair has no PEM to write", ErrInvalidOptions)
	}
	files := []struct {
		what, path string
		data       []byte
		mode       fs.FileMode
		tmp        string
	}{
		{what: "key file", path: keyPath, data: kp.KeyPEM, mode: KeyFileMode},
		{what: "certificate file", path: certPath, data: kp.CertPEM, mode: CertFileMode},
	}
	if !opts.Force {
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				return &fileError{what: f.what, path: f.path, err: ErrExists}
			}
		}
	}
	for i := range files {
		f := &files[i]
		tmp, err := stage(f.path, f.data, f.mode)
		if err != nil {
			return &fileError{what: f.what, path: f.path, err: err}
		}
		f.tmp = tmp
		// After a rename there is nothing left to remove; after a link or
		// a failure this removes the temporary name.
		defer os.Remove(tmp)
	}
	for i, f := range files {
		if err := publish(f.tmp, f.path, opts.Force); err != nil {
			if i > 0 && !opts.Force {
				// The key was linked in a moment ago and is ours; without
				// its certificate it is only clutter.
				_ = os.Remove(files[0].path)
			}
			return &fileError{what: f.what, path: f.path, err: err}
		}
	}
	for _, dir := range uniqueDirs(certPath, keyPath) {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("pki: sync directory %s: %w", dir, err)
		}
	}
	return nil
}

// stage writes data to a new temporary file beside path, with mode, and
// syncs it.
func stage(path string, data []byte, mode fs.FileMode) (tmp string, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	// Chmod on the descriptor is not subject to the umask.
	if err := f.Chmod(mode); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// publish puts tmp in place at path. Without force it hard-links, which
// fails if path exists, so a file created since WriteFiles checked is
// never replaced.
func publish(tmp, path string, force bool) error {
	if force {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return ErrExists
	}
	// A filesystem without hard links: check, then rename.
	if _, statErr := os.Lstat(path); statErr == nil {
		return ErrExists
	}
	return os.Rename(tmp, path)
}

func uniqueDirs(paths ...string) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, p := range paths {
		d := filepath.Dir(filepath.Clean(p))
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
