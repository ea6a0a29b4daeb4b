package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

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
// etcd does (unix://localhost:2379 is the file "localhost:2379"). A host
// name other than localhost is bound on each local address it resolves
// to (compat §1), so one URL may give several listeners.
func listenAll(us []url.URL, o listenOptions, sec *tlsutil.Info) ([]net.Listener, error) {
	lc := o.config()
	var lns []net.Listener
	for _, u := range us {
		addrs, err := bindAddrs(u)
		if err == nil {
			for _, a := range addrs {
				var ln net.Listener
				if ln, err = listenOne(lc, u, a, sec); err != nil {
					break
				}
				lns = append(lns, ln)
			}
		}
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen %s: %w", u.String(), err)
		}
	}
	return lns, nil
}

// resolveTimeout bounds the lookup of a host name in a listen URL.
const resolveTimeout = 10 * time.Second

// bindAddrs gives the addresses to bind for u: its host as it is for a unix
// socket, an IP literal, an empty host or localhost (Go binds localhost on
// its IPv4 loopback, as etcd does); otherwise the name's addresses that
// belong to this machine. A name with none is an error naming the
// addresses it has, so that a member started on the wrong host says so.
func bindAddrs(u url.URL) ([]string, error) {
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		return []string{u.Host}, nil
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	if host == "" || host == "localhost" || net.ParseIP(host) != nil {
		return []string{u.Host}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the host name to bind: %w", err)
	}
	local, err := localIPs()
	if err != nil {
		return nil, err
	}
	var addrs, elsewhere []string
	seen := map[string]bool{}
	for _, ip := range ips {
		s := ip.IP.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		if !local[s] {
			elsewhere = append(elsewhere, s)
			continue
		}
		if ip.Zone != "" {
			s += "%" + ip.Zone
		}
		addrs = append(addrs, net.JoinHostPort(s, port))
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("host %s resolves to %s, none of which is an address of this machine", host, strings.Join(elsewhere, ", "))
	}
	return addrs, nil
}

// localIPs is the set of this machine's interface addresses.
func localIPs() (map[string]bool, error) {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing this machine's addresses: %w", err)
	}
	local := make(map[string]bool, len(ifAddrs))
	for _, a := range ifAddrs {
		if n, ok := a.(*net.IPNet); ok {
			local[n.IP.String()] = true
		}
	}
	return local, nil
}

// listenOne binds addr, the address bindAddrs chose for u.
func listenOne(lc net.ListenConfig, u url.URL, addr string, sec *tlsutil.Info) (net.Listener, error) {
	network := "tcp"
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
