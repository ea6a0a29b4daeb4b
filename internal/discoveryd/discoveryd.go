package discoveryd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Defaults of the `cairn discovery` flags (discovery.etcd.io's, but for
// --host, which there defaults to the public service's URL).
const (
	DefaultAddr = ":8087"
	DefaultEtcd = "http://127.0.0.1:2379"
	DefaultSize = 3
)

// RegistryPrefix is where tokens live in the backing cluster's v2 key
// space, the prefix etcd's discovery protocol names.
const RegistryPrefix = "/_etcd/registry"

var (
	// ErrBadOptions: Options.Validate refused a field.
	ErrBadOptions = errors.New("discoveryd: bad options")
	// errBadSize: /new was given a size that is not a positive integer.
	errBadSize = errors.New("discoveryd: size must be a positive integer")
)

// maxRedirects bounds the 307 chain followed for one request: a leader
// change mid-request may add a hop, a loop must not spin.
const maxRedirects = 10

// maxBody bounds a proxied request body; discovery writes are one
// name=url list.
const maxBody = 1 << 20

// Options configures the service. Zero values take the defaults named on
// each field.
type Options struct {
	// Etcd is --etcd: a client URL of the backing cluster. Default
	// DefaultEtcd.
	Etcd string
	// Host is --host: the URL prefix of the token URLs /new hands out,
	// e.g. "https://discovery.example.com". Default: the scheme and Host
	// of each /new request, so a service reached directly needs no flag.
	Host string
	// Client talks to the backing cluster (set it for TLS). Its
	// CheckRedirect is replaced: the handler follows 307s itself, because
	// net/http does not resend a PUT body on every redirect kind. Default:
	// a client on a clone of http.DefaultTransport.
	Client *http.Client
	// Logger logs tokens created and backing-cluster failures. Default
	// zap.NewNop().
	Logger *zap.Logger
	// RequestTimeout bounds the write /new makes. Default 5 s.
	RequestTimeout time.Duration
}

// EnsureDefaults fills the zero fields that have defaults.
func (o *Options) EnsureDefaults() {
	if o.Etcd == "" {
		o.Etcd = DefaultEtcd
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
}

// Validate checks the URLs.
func (o *Options) Validate() error {
	for name, s := range map[string]string{"--etcd": o.Etcd, "--host": o.Host} {
		if s == "" && name == "--host" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: %s %q is not an http(s) URL", ErrBadOptions, name, s)
		}
	}
	return nil
}

type handler struct {
	etcd   string // backing cluster URL, no trailing slash
	host   string // token URL prefix, no trailing slash; "" = from request
	client *http.Client
	lg     *zap.Logger
	reqTO  time.Duration
}

// New returns the discovery service's handler.
func New(opts Options) (http.Handler, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &handler{
		etcd:   strings.TrimRight(opts.Etcd, "/"),
		host:   strings.TrimRight(opts.Host, "/"),
		client: &c,
		lg:     opts.Logger,
		reqTO:  opts.RequestTimeout,
	}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		io.WriteString(w, "OK")
		return
	case "/new":
		h.serveNew(w, r)
		return
	case "/":
		io.WriteString(w, "cairn discovery service: GET /new?size=N for a token URL\n")
		return
	}
	token, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ValidToken(token) {
		http.Error(w, fmt.Sprintf("invalid discovery token %q: want 32 hex digits", token), http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
		h.proxy(w, r)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// ValidToken reports whether s is a token the service serves: 32
// lower-case hex digits as /new makes them, or 40 as in the guide.
func ValidToken(s string) bool {
	if len(s) != 32 && len(s) != 40 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// NewToken makes a random 32-hex-digit token.
func NewToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// parseSize reads /new's size parameter.
func parseSize(s string) (int, error) {
	if s == "" {
		return DefaultSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w, got %q", errBadSize, s)
	}
	return n, nil
}

func (h *handler) serveNew(w http.ResponseWriter, r *http.Request) {
	size, err := parseSize(r.FormValue("size"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token, err := h.createToken(r.Context(), size)
	if err != nil {
		h.lg.Warn("failed to create a discovery token", zap.String("etcd", h.etcd), zap.Error(err))
		http.Error(w, "unable to generate token", http.StatusBadGateway)
		return
	}
	h.lg.Info("new cluster created", zap.String("token", token), zap.Int("size", size))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, h.prefix(r)+"/"+token)
}

// prefix is --host, or the URL the request reached.
func (h *handler) prefix(r *http.Request) string {
	if h.host != "" {
		return h.host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// createToken writes _config/size under a fresh token. prevExist=false
// makes a (astronomically unlikely) token collision an error rather than
// a reset of someone's cluster.
func (h *handler) createToken(ctx context.Context, size int) (string, error) {
	token, err := NewToken()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, h.reqTO)
	defer cancel()
	u := h.etcd + "/v2/keys" + RegistryPrefix + "/" + token + "/_config/size?prevExist=false"
	body := []byte(url.Values{"value": {strconv.Itoa(size)}}.Encode())
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	resp, err := h.do(ctx, http.MethodPut, u, hdr, body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("PUT %s: %s: %s", u, resp.Status, bytes.TrimSpace(msg))
	}
	return token, nil
}

// do sends one request, following 307/308 redirects with the same method
// and body: etcd v2 followers answer writes with 307 to the leader.
func (h *handler) do(ctx context.Context, method, u string, hdr http.Header, body []byte) (*http.Response, error) {
	for range maxRedirects {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		req.Header = hdr.Clone()
		resp, err := h.client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
			return resp, nil
		}
		loc, err := resp.Location()
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s %s: redirect without a usable Location: %w", method, u, err)
		}
		u = loc.String()
	}
	return nil, fmt.Errorf("%s %s: more than %d redirects", method, u, maxRedirects)
}

// proxy forwards a token request to the backing cluster and streams the
// answer back.
func (h *handler) proxy(w http.ResponseWriter, r *http.Request) {
	u := h.etcd + "/v2/keys" + RegistryPrefix + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	var body []byte
	if r.Body != nil && r.Method != http.MethodGet {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "request body too large or unreadable", http.StatusBadRequest)
			return
		}
	}
	hdr := http.Header{}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	resp, err := h.do(r.Context(), r.Method, u, hdr, body)
	if err != nil {
		if r.Context().Err() == nil {
			h.lg.Warn("backing cluster unreachable", zap.String("etcd", h.etcd), zap.String("url", u), zap.Error(err))
			http.Error(w, "discovery: backing cluster unreachable", http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if k == "Content-Type" || strings.HasPrefix(k, "X-Etcd-") || strings.HasPrefix(k, "X-Raft-") {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	// Stream: a long poll's headers come at once and its event much later;
	// the client must see both when the backing cluster sends them.
	rc := http.NewResponseController(w)
	rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
