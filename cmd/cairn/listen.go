package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"

	"github.com/cairn-db/cairn/internal/tlsutil"

	"golang.org/x/sys/unix"
)

// listenOptions are the socket flags etcd offers for its listeners.
type listenOptions struct {
	reusePort    bool // --socket-reuse-port
	reuseAddress bool // --socket-reuse-address
}

func (o listenOptions) config() net.ListenConfig {
	return net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if o.reuseAddress {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			}
			if serr == nil && o.reusePort {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
}

// listenAll binds every URL, or none: on an error the ones already bound
// are closed. https and unixs URLs serve TLS with sec, which must then be
// set; unix and unixs bind the socket file named by the URL's host, as
// etcd does (unix://localhost:2379 is the file "localhost:2379").
func listenAll(us []url.URL, o listenOptions, sec *tlsutil.Info) ([]net.Listener, error) {
	lc := o.config()
	var lns []net.Listener
	for _, u := range us {
		ln, err := listenOne(lc, u, sec)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen %s: %w", u.String(), err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func listenOne(lc net.ListenConfig, u url.URL, sec *tlsutil.Info) (net.Listener, error) {
	network, addr := "tcp", u.Host
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		network = "unix"
		// A socket file left by an earlier run would make the bind fail.
		if err := os.Remove(addr); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	ln, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "unixs" {
		return ln, nil
	}
	if sec == nil {
		ln.Close()
		return nil, errors.New("TLS is not configured for this URL")
	}
	tln, err := sec.NewListener(ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tln, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
