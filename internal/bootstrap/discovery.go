package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cairn-db/cairn/internal/membership"
)

// The errors of v2 discovery carry etcd's texts, because operators and
// scripts match on them. ErrSizeNotFound is wrapped in an error whose text
// is the guide's (see SizeNotFoundError); the others are returned bare.
var (
	ErrSizeNotFound         = errors.New("discovery: size key not found")
	ErrBadSizeKey           = errors.New("discovery: size key is bad")
	ErrFullCluster          = errors.New("discovery: cluster is full")
	ErrDuplicateID          = errors.New("discovery: found duplicate id")
	ErrDuplicateName        = errors.New("discovery: found duplicate name")
	ErrInvalidURL           = errors.New("discovery: invalid URL")
	ErrBadDiscoveryEndpoint = errors.New("discovery: bad discovery endpoint")
)

// SizeNotFoundError is the guide's error for a token directory without
// _config/size. It matches ErrSizeNotFound under errors.Is.
type SizeNotFoundError struct {
	URL string // the --discovery URL as given
}

func (e *SizeNotFoundError) Error() string {
	return fmt.Sprintf("error: the cluster doesn't have a size configuration value in %s/_config", e.URL)
}

func (e *SizeNotFoundError) Unwrap() error { return ErrSizeNotFound }

// v2 error codes the client acts on (etcd's v2 API numbering).
const (
	v2KeyNotFound   = 100
	v2NodeExist     = 105
	v2EventsCleared = 401
)

// maxBackoffShift caps the exponential backoff at RetryBase<<8: with
// etcd's one-second base, 256 s between attempts.
const maxBackoffShift = 8

// DiscoveryOptions configures Discover. Zero values take the defaults
// named on each field.
type DiscoveryOptions struct {
	// URL is --discovery: scheme://host[:port]/<token directory>. Its path
	// is the directory K of the protocol; a query string is ignored, as
	// etcd ignores it. Required.
	URL string
	// Proxy is --discovery-proxy: an HTTP proxy for every discovery
	// request; "http://" is assumed when it has no http(s) scheme. Empty
	// means no proxy, and then, as in etcd, HTTP_PROXY is not consulted
	// either.
	Proxy string
	// Name is --name, written into this member's entry. Required.
	Name string
	// MemberID is this member's ID, hashed from its advertise peer URLs
	// with DiscoveryToken(URL) as the token; its hex form is the member's
	// key in K. Required.
	MemberID uint64
	// PeerURLs are --initial-advertise-peer-urls. Required.
	PeerURLs []string
	// Client sends the requests (set it for TLS). Default: a client on a
	// clone of http.DefaultTransport. A Proxy is applied to a clone of its
	// transport, which must then be an *http.Transport.
	Client *http.Client
	// Logger receives one warning per retry and progress lines. Default:
	// zap.NewNop().
	Logger *zap.Logger
	// RequestTimeout bounds each request but the long poll. Default 5 s
	// (etcd's).
	RequestTimeout time.Duration
	// WaitTimeout bounds one long poll for more members; when it passes
	// the directory is read again and a new poll starts. Default 5 min.
	WaitTimeout time.Duration
	// RetryBase is the first step of the backoff after a network error:
	// the n-th retry in a row waits RetryBase<<min(n, 8). Default 1 s
	// (etcd's: 2 s, 4 s, ... 256 s). Tests shorten it.
	RetryBase time.Duration
}

// EnsureDefaults fills the zero fields that have defaults.
func (o *DiscoveryOptions) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 5 * time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
}

// Validate checks the required fields.
func (o *DiscoveryOptions) Validate() error {
	if _, _, err := splitDiscoveryURL(o.URL); err != nil {
		return err
	}
	return o.validateMember()
}

func (o *DiscoveryOptions) validateMember() error {
	switch {
	case o.Name == "":
		return errors.New("discovery: member name is empty")
	case o.MemberID == 0:
		return errors.New("discovery: member ID is zero")
	case len(o.PeerURLs) == 0:
		return errors.New("discovery: no advertise peer URLs")
	}
	return nil
}

// DiscoveryToken is the cluster token of a member bootstrapped by v2
// discovery: etcd hashes member IDs with the whole discovery URL.
func DiscoveryToken(discoveryURL string) string { return discoveryURL }

// Discover registers this member under the discovery URL and waits until
// the directory holds the configured number of members. It returns the
// initial cluster, "name=url,..." in registration order, to be used as
// --initial-cluster with DiscoveryToken(o.URL) as the token.
//
// Network errors and 5xx answers are retried forever with backoff, each
// retry logged; only ctx ends the wait.
func Discover(ctx context.Context, o DiscoveryOptions) (initialCluster string, err error) {
	d, err := newDiscoverer(o, true)
	if err != nil {
		return "", err
	}
	return d.join(ctx)
}

// DiscoveredCluster reads the cluster a discovery URL describes without
// registering: when the directory is already full it returns the first
// size members (what --discovery-fallback=proxy proxies to), otherwise it
// waits for them like Discover. Name, MemberID and PeerURLs are not used.
func DiscoveredCluster(ctx context.Context, o DiscoveryOptions) (string, error) {
	d, err := newDiscoverer(o, false)
	if err != nil {
		return "", err
	}
	nodes, size, index, err := d.checkRetry(ctx)
	if errors.Is(err, ErrFullCluster) {
		return nodesToCluster(nodes, size)
	}
	if err != nil {
		return "", err
	}
	return d.waitAll(ctx, nodes, size, index)
}

// discoverer runs one discovery. It is used by one goroutine.
type discoverer struct {
	o      DiscoveryOptions
	lg     *zap.Logger
	client *http.Client
	base   string // scheme://host of the discovery URL
	dir    string // K: the token directory, "/..." without trailing slash
	self   string // this member's key name: its ID in hex
	value  string // this member's entry: sorted name=url pairs
	// retries counts the retries in a row; a success resets it, so a
	// blip late in a long wait does not inherit a 256 s backoff.
	retries uint
}

// newDiscoverer checks o; asMember says this member registers, so its
// name, ID and URLs are required. Without them self is "", which matches
// no key.
func newDiscoverer(o DiscoveryOptions, asMember bool) (*discoverer, error) {
	o.EnsureDefaults()
	base, dir, err := splitDiscoveryURL(o.URL)
	if err != nil {
		return nil, err
	}
	self := ""
	if asMember {
		if err := o.validateMember(); err != nil {
			return nil, err
		}
		self = membership.FormatID(o.MemberID)
	}
	client, err := discoveryClient(o)
	if err != nil {
		return nil, err
	}
	pairs := make([]string, 0, len(o.PeerURLs))
	for _, u := range o.PeerURLs {
		pairs = append(pairs, o.Name+"="+u)
	}
	slices.Sort(pairs)
	return &discoverer{
		o:      o,
		lg:     o.Logger,
		client: client,
		base:   base,
		dir:    dir,
		self:   self,
		value:  strings.Join(pairs, ","),
	}, nil
}

// splitDiscoveryURL splits the discovery URL into the endpoint and the
// token directory K.
func splitDiscoveryURL(s string) (base, dir string, err error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%w: %q", ErrInvalidURL, s)
	}
	dir = path.Clean("/" + u.Path)
	if dir == "/" {
		return "", "", fmt.Errorf("%w: %q has no token path", ErrInvalidURL, s)
	}
	return u.Scheme + "://" + u.Host, dir, nil
}

// discoveryClient builds the HTTP client, applying --discovery-proxy.
func discoveryClient(o DiscoveryOptions) (*http.Client, error) {
	proxy, err := proxyFunc(o.Proxy)
	if err != nil {
		return nil, err
	}
	if o.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = proxy
		return &http.Client{Transport: tr}, nil
	}
	if proxy == nil {
		return o.Client, nil
	}
	var tr *http.Transport
	switch t := o.Client.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("discovery: cannot apply proxy %q to a %T transport", o.Proxy, t)
	}
	tr.Proxy = proxy
	c := *o.Client
	c.Transport = tr
	return &c, nil
}

// proxyFunc parses --discovery-proxy the way etcd does: a value that does
// not parse, or whose scheme is not http(s), is tried again with
// "http://" in front ("10.0.0.1:3128", "proxy.local:8080").
func proxyFunc(s string) (func(*http.Request) (*url.URL, error), error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || !strings.HasPrefix(u.Scheme, "http") {
		if u2, err2 := url.Parse("http://" + s); err2 == nil {
			u, err = u2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid proxy address %q: %v", s, err)
	}
	return http.ProxyURL(u), nil
}

// join is the protocol of compat §4, steps 1 to 6.
func (d *discoverer) join(ctx context.Context) (string, error) {
	if d.o.Proxy != "" {
		d.lg.Info("running proxy with discovery", zap.String("proxy-url", d.o.Proxy))
	}
	// Fast path: a full directory is refused before writing to it, so a
	// late member leaves no key behind.
	if _, _, _, err := d.checkRetry(ctx); err != nil {
		return "", err
	}
	if err := d.register(ctx); err != nil {
		return "", err
	}
	// Check again: members racing for the last places all registered, and
	// only the first size by createdIndex are in.
	nodes, size, index, err := d.checkRetry(ctx)
	if err != nil {
		return "", err
	}
	return d.waitAll(ctx, nodes, size, index)
}

// waitAll long-polls K until it holds size members, then returns them.
func (d *discoverer) waitAll(ctx context.Context, nodes []*v2Node, size, index uint64) (string, error) {
	d.logFound(nodes)
	for uint64(len(nodes)) < size {
		d.lg.Info("found peers from discovery server; waiting for more",
			zap.String("discovery-url", d.o.URL),
			zap.Int("found-peers", len(nodes)),
			zap.Uint64("needed-peers", size-uint64(len(nodes))))
		if err := d.retry(ctx, "waiting for other members", func(ctx context.Context) error {
			return d.wait(ctx, index+1)
		}); err != nil {
			return "", err
		}
		// Read the directory again rather than add up watch events: a
		// listing cannot count a key twice or miss one the poll skipped.
		var err error
		if nodes, size, index, err = d.checkRetry(ctx); err != nil {
			return "", err
		}
	}
	d.lg.Info("found all needed peers from discovery server",
		zap.String("discovery-url", d.o.URL), zap.Int("found-peers", len(nodes)))
	return nodesToCluster(nodes, size)
}

func (d *discoverer) logFound(nodes []*v2Node) {
	for _, n := range nodes {
		if path.Base(n.Key) == d.self {
			d.lg.Info("found self from discovery server", zap.String("discovery-url", d.o.URL), zap.String("self", d.self))
		} else {
			d.lg.Info("found peer from discovery server", zap.String("discovery-url", d.o.URL), zap.String("peer", path.Base(n.Key)))
		}
	}
}

// checkRetry is check, retried across network errors.
func (d *discoverer) checkRetry(ctx context.Context) (nodes []*v2Node, size, index uint64, err error) {
	err = d.retry(ctx, "cluster status check", func(ctx context.Context) error {
		nodes, size, index, err = d.check(ctx)
		if errors.Is(err, ErrFullCluster) {
			return &stopRetry{err}
		}
		return err
	})
	var s *stopRetry
	if errors.As(err, &s) {
		err = s.err
	}
	return nodes, size, index, err
}

// stopRetry carries a final error out of retry together with results.
type stopRetry struct{ err error }

func (s *stopRetry) Error() string { return s.err.Error() }

// check reads the size and the members (steps 1 and 2). The members are
// the children of K but _config, in createdIndex order, cut to size; index
// is the X-Etcd-Index of the listing. ErrFullCluster comes with the first
// size members when this member is not among them.
func (d *discoverer) check(ctx context.Context) (nodes []*v2Node, size, index uint64, err error) {
	resp, err := d.do(ctx, http.MethodGet, d.dir+"/_config/size", nil, nil)
	if err != nil {
		var ve *v2Error
		if errors.As(err, &ve) && ve.Code == v2KeyNotFound {
			return nil, 0, 0, &SizeNotFoundError{URL: d.o.URL}
		}
		return nil, 0, 0, err
	}
	size, perr := strconv.ParseUint(resp.Node.Value, 10, 0)
	if perr != nil || size == 0 {
		return nil, 0, 0, ErrBadSizeKey
	}
	resp, err = d.do(ctx, http.MethodGet, d.dir, nil, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	for _, n := range resp.Node.Nodes {
		if path.Base(n.Key) != "_config" && !n.Dir {
			nodes = append(nodes, n)
		}
	}
	slices.SortStableFunc(nodes, func(a, b *v2Node) int {
		switch {
		case a.CreatedIndex < b.CreatedIndex:
			return -1
		case a.CreatedIndex > b.CreatedIndex:
			return 1
		}
		return 0
	})
	for i, n := range nodes {
		if path.Base(n.Key) == d.self {
			break
		}
		if uint64(i) >= size-1 {
			return nodes[:size], size, resp.Index, ErrFullCluster
		}
	}
	if uint64(len(nodes)) > size {
		nodes = nodes[:size]
	}
	return nodes, size, resp.Index, nil
}

// register creates this member's key (step 3). A create is retried after
// a network error; if the retry finds the key holding this member's own
// value, the lost attempt had succeeded and that is not a duplicate.
func (d *discoverer) register(ctx context.Context) error {
	key := d.dir + "/" + d.self
	ambiguous := false
	return d.retry(ctx, "registering this member", func(ctx context.Context) error {
		_, err := d.do(ctx, http.MethodPut, key, url.Values{"prevExist": {"false"}}, url.Values{"value": {d.value}})
		var ve *v2Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ve) && ve.Code == v2NodeExist:
			if ambiguous {
				if resp, gerr := d.do(ctx, http.MethodGet, key, nil, nil); gerr == nil && resp.Node.Value == d.value {
					return nil
				}
			}
			return ErrDuplicateID
		}
		ambiguous = true
		return err
	})
}

// wait long-polls K recursively from waitIndex. It returns nil when
// anything changed, when the poll ended without an event (server or
// WaitTimeout closing it), or when the index was compacted away: in every
// case the caller reads the directory again.
func (d *discoverer) wait(ctx context.Context, waitIndex uint64) error {
	wctx, cancel := context.WithTimeout(ctx, d.o.WaitTimeout)
	defer cancel()
	q := url.Values{"wait": {"true"}, "recursive": {"true"}, "waitIndex": {strconv.FormatUint(waitIndex, 10)}}
	_, err := d.send(wctx, http.MethodGet, d.dir, q, nil)
	var ve *v2Error
	switch {
	case err == nil, errors.Is(err, errEmptyBody):
		return nil
	case ctx.Err() == nil && wctx.Err() != nil:
		d.lg.Debug("discovery long poll timed out; reading the directory again", zap.String("discovery-url", d.o.URL))
		return nil
	case errors.As(err, &ve) && ve.Code == v2EventsCleared:
		return nil
	}
	return err
}

// retry runs fn until it succeeds, fails for good, or ctx ends. Network
// errors and 5xx answers (marked retryable by send) are retried after an
// exponential backoff, each with one warning naming URL and error, so a
// member stuck on an unreachable service says so.
func (d *discoverer) retry(ctx context.Context, step string, fn func(context.Context) error) error {
	for {
		err := fn(ctx)
		if err == nil {
			d.retries = 0
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("discovery: %s at %s: %w", step, d.o.URL, ctx.Err())
		}
		var re *retryableError
		if !errors.As(err, &re) {
			return err
		}
		d.retries++
		backoff := d.o.RetryBase << min(d.retries, maxBackoffShift)
		d.lg.Warn("failed to reach discovery service; retrying",
			zap.String("discovery-url", d.o.URL),
			zap.String("reason", step),
			zap.Error(re.err),
			zap.Uint("retry", d.retries),
			zap.Duration("backoff", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("discovery: %s at %s: %w", step, d.o.URL, ctx.Err())
		case <-t.C:
		}
	}
}

// retryableError marks a failure worth retrying: the service was not
// reached, or answered 5xx.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// errEmptyBody: a 200 without a body, which is how a v2 long poll ends
// when the server closes it without an event.
var errEmptyBody = errors.New("discovery: empty answer")

// v2Node is a node of the v2 keys API, with the fields discovery reads.
type v2Node struct {
	Key           string    `json:"key"`
	Value         string    `json:"value,omitempty"`
	Dir           bool      `json:"dir,omitempty"`
	Nodes         []*v2Node `json:"nodes,omitempty"`
	CreatedIndex  uint64    `json:"createdIndex,omitempty"`
	ModifiedIndex uint64    `json:"modifiedIndex,omitempty"`
}

// v2Response is a successful v2 answer; Index is its X-Etcd-Index.
type v2Response struct {
	Action string  `json:"action"`
	Node   *v2Node `json:"node"`
	Index  uint64  `json:"-"`
}

// v2Error is an error answer of the v2 keys API.
type v2Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
	Index   uint64 `json:"index"`
}

func (e *v2Error) Error() string {
	return fmt.Sprintf("discovery: %s (%s) [%d]", e.Message, e.Cause, e.Code)
}

// do is send bounded by RequestTimeout.
func (d *discoverer) do(ctx context.Context, method, key string, query, form url.Values) (*v2Response, error) {
	rctx, cancel := context.WithTimeout(ctx, d.o.RequestTimeout)
	defer cancel()
	return d.send(rctx, method, key, query, form)
}

// send makes one request and decodes the answer.
func (d *discoverer) send(ctx context.Context, method, key string, query, form url.Values) (*v2Response, error) {
	u := d.base + (&url.URL{Path: key}).EscapedPath()
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, &retryableError{err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, &retryableError{fmt.Errorf("%s %s: reading the answer: %w", method, u, err)}
	}
	return decodeV2(method, u, resp.StatusCode, resp.Header, raw)
}

// decodeV2 turns one HTTP answer into a v2 response or error. A 5xx is
// retryable (etcd's client does the same: a member without leader answers
// 500/503, a proxy whose upstream is down 502); an answer that is not the
// v2 keys API's JSON names the URL, since the usual cause is a --discovery
// URL pointing at the wrong place.
func decodeV2(method, u string, status int, h http.Header, raw []byte) (*v2Response, error) {
	if status/100 == 5 {
		return nil, &retryableError{fmt.Errorf("%s %s: %d %s", method, u, status, http.StatusText(status))}
	}
	if len(strings.TrimSpace(string(raw))) == 0 && status == http.StatusOK {
		return nil, fmt.Errorf("%w: %s %s answered 200 with no body", errEmptyBody, method, u)
	}
	var m struct {
		v2Response
		v2Error
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s %s answered %d %s with %s, not the etcd v2 keys API", ErrBadDiscoveryEndpoint,
			method, u, status, http.StatusText(status), describeBody(h, raw))
	}
	if m.Code != 0 {
		e := m.v2Error
		return nil, &e
	}
	if status/100 != 2 || m.Node == nil {
		return nil, fmt.Errorf("%w: %s %s answered %d %s without a v2 node", ErrBadDiscoveryEndpoint,
			method, u, status, http.StatusText(status))
	}
	r := m.v2Response
	r.Index, _ = strconv.ParseUint(h.Get("X-Etcd-Index"), 10, 64)
	return &r, nil
}

func describeBody(h http.Header, raw []byte) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	if len(raw) == 0 {
		return "an empty body (" + ct + ")"
	}
	return "a " + strconv.Itoa(len(raw)) + "-byte " + ct + " body"
}

// nodesToCluster joins the entries of the first size members. Entries are
// name=url lists; one name under two keys is two members claiming it.
func nodesToCluster(nodes []*v2Node, size uint64) (string, error) {
	vals := make([]string, len(nodes))
	for i, n := range nodes {
		vals[i] = n.Value
	}
	s := strings.Join(vals, ",")
	owner := map[string]int{}
	for i, n := range nodes {
		m, err := parseMemberEntry(n.Value)
		if err != nil {
			return s, ErrInvalidURL
		}
		for name := range m {
			if j, ok := owner[name]; ok && j != i {
				return s, ErrDuplicateName
			}
			owner[name] = i
		}
	}
	if uint64(len(owner)) != size {
		return s, ErrDuplicateName
	}
	return s, nil
}

// parseMemberEntry parses one member's entry, name=url[,name=url...], into
// name → URLs. Each URL must be http(s)://host:port with no path, as etcd
// requires of peer URLs.
func parseMemberEntry(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for pair := range strings.SplitSeq(s, ",") {
		name, raw, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: entry %q is not name=url", ErrInvalidURL, pair)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("%w: %q: scheme must be http or https", ErrInvalidURL, raw)
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrInvalidURL, raw, err)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("%w: %q: a peer URL has no path", ErrInvalidURL, raw)
		}
		out[name] = append(out[name], raw)
	}
	return out, nil
}
