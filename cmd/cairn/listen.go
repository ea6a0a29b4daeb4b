package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"syscall"

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
// are closed.
func listenAll(us []url.URL, o listenOptions) ([]net.Listener, error) {
	lc := o.config()
	var lns []net.Listener
	for _, u := range us {
		ln, err := lc.Listen(context.Background(), "tcp", u.Host)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen %s: %w", u.String(), err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
