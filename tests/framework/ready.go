package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// readyPoll is the interval between readiness probes.
const readyPoll = 50 * time.Millisecond

// WaitReadyTimeout is WaitReady with a deadline d from now.
func (m *Member) WaitReadyTimeout(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return m.WaitReady(ctx)
}

// WaitReady waits until the member is ready: GET /health on the client URL
// answers 200 {"health":"true"}, then a linearizable clientv3 Get succeeds.
// It returns early, with the log tail, if the process exits.
func (m *Member) WaitReady(ctx context.Context) error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("framework: member %s was never started", m.cfg.Name)
	}
	start := time.Now()
	fail := func(what string, last error) error {
		return fmt.Errorf("framework: member %s not ready after %v: %s (last probe: %v)\n%s",
			m.cfg.Name, time.Since(start).Round(time.Millisecond), what, last, m.logTailMessage())
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	if m.cfg.ClientTLS != nil {
		hc.Transport = &http.Transport{TLSClientConfig: m.cfg.ClientTLS.Clone()}
	}
	var last error
	for {
		if last = m.probeHealth(ctx, hc); last == nil {
			break
		}
		if err := sleepOrDone(ctx, p, readyPoll); err != nil {
			return fail(err.Error(), last)
		}
	}
	ccfg := clientConfig([]string{m.Endpoint()})
	WithTLS(m.cfg.ClientTLS)(&ccfg)
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return fail("cannot create a client", err)
	}
	defer cli.Close()
	for {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, last = cli.Get(gctx, "cairn-framework-ready-probe")
		cancel()
		if last == nil || isLearnerRefusal(last) {
			return nil // a learner answers, but only serializable reads
		}
		if err := sleepOrDone(ctx, p, readyPoll); err != nil {
			return fail(err.Error(), last)
		}
	}
}

func isLearnerRefusal(err error) bool {
	return strings.Contains(err.Error(), "rpc not supported for learner")
}

// probeHealth performs one GET /health.
func (m *Member) probeHealth(ctx context.Context, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL()+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	var h struct {
		Health string `json:"health"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Health != "true" {
		return fmt.Errorf("GET /health: %s %q", resp.Status, body)
	}
	return nil
}

// sleepOrDone sleeps for d, or returns an error as soon as ctx is done or p
// has exited.
func sleepOrDone(ctx context.Context, p *process, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		if p.err == nil {
			return errors.New("the process exited with status 0")
		}
		return fmt.Errorf("the process exited: %v", p.err)
	}
}
