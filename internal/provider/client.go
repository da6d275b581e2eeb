package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	defaultTimeout     = 10 * time.Second
	defaultMaxInFlight = 4
	// maxResponseBytes bounds what we read of any provider answer.
	maxResponseBytes = 4 << 20
	// retryDelay separates the one retry of an idempotent call from the first try.
	retryDelay = 100 * time.Millisecond
)

// remote is the HTTP plumbing the remote adapters share: one http.Client,
// a bound on calls in flight, a timeout per attempt, one retry of
// idempotent calls, and errors classified into the kinds with the API key
// redacted from every message.
type remote struct {
	name    string // adapter name, the prefix of every message
	base    string // base URL without a trailing slash
	apiKey  string
	timeout time.Duration
	client  *http.Client
	slots   chan struct{}
}

// call is one request to a provider.
type call struct {
	op          string // what we were doing, for messages: "recognize"
	method      string
	path        string // below base, already escaped, starting with "/"
	query       url.Values
	header      http.Header
	body        []byte
	contentType string
	// idempotent calls are retried once when the provider is unreachable
	// or answers 5xx.
	idempotent bool
}

// reply is a provider's answer: any status, its body read in full.
type reply struct {
	status int
	body   []byte
}

func newRemote(name string, cfg Config) *remote {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.MaxInFlight
	if cfg.Dial != nil {
		transport.DialContext = cfg.Dial
		transport.Proxy = nil // a proxy would dial for us, past the policy
	}
	return &remote{
		name:    name,
		base:    strings.TrimRight(cfg.URL, "/"),
		apiKey:  cfg.APIKey,
		timeout: cfg.Timeout,
		client: &http.Client{
			Transport: transport,
			// A redirect would replay the API key header to wherever it
			// points; providers have no reason to redirect API calls.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		slots: make(chan struct{}, cfg.MaxInFlight),
	}
}

// do sends c, waiting for a free slot first (as long as ctx allows), and
// returns the provider's answer whatever its status. The error, always an
// *Error, is only for answers that never came: unreachable, timed out,
// too large. A final 5xx comes back as a reply.
func (r *remote) do(ctx context.Context, c call) (reply, error) {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return reply{}, r.contextError(ctx, c.op, "waiting for a free connection slot")
	}
	defer func() { <-r.slots }()

	rep, err := r.once(ctx, c)
	if !c.idempotent || !retryable(rep, err) {
		return rep, err
	}
	select {
	case <-time.After(retryDelay):
	case <-ctx.Done():
		return reply{}, r.contextError(ctx, c.op, "before retrying")
	}
	return r.once(ctx, c)
}

func retryable(rep reply, err error) bool {
	if err != nil {
		return errors.Is(err, ErrUnreachable)
	}
	return rep.status >= 500
}

// once makes one attempt bounded by the configured timeout.
func (r *remote) once(ctx context.Context, c call) (reply, error) {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	u := r.base + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequestWithContext(actx, c.method, u, bytes.NewReader(c.body))
	if err != nil {
		return reply{}, r.errorf(ErrProvider, c.op, "cannot build the request: %v", err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	req.Header.Set("Accept", "application/json")

	resp, err := r.client.Do(req)
	if err != nil {
		return reply{}, r.transportError(ctx, actx, c.op, req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return reply{}, r.transportError(ctx, actx, c.op, req.URL.Host, err)
	}
	if len(body) > maxResponseBytes {
		return reply{}, r.errorf(ErrProvider, c.op, "answer larger than %d bytes", maxResponseBytes)
	}
	return reply{status: resp.StatusCode, body: body}, nil
}

// transportError classifies a failure to get an answer. A failure to
// connect is ErrUnreachable even when connecting timed out; a connection
// that was made but not answered in time is ErrTimeout.
func (r *remote) transportError(ctx, actx context.Context, op, host string, err error) error {
	if ctx.Err() != nil {
		return r.contextError(ctx, op, "waiting for the answer")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return r.errorf(ErrUnreachable, op, "cannot resolve %s: %v", dnsErr.Name, dnsErr.Err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return r.errorf(ErrUnreachable, op, "cannot connect to %s: %v", host, opErr.Err)
	}
	if actx.Err() != nil {
		return r.errorf(ErrTimeout, op, "no answer from %s within %s", host, r.timeout)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return r.errorf(ErrUnreachable, op, "connection to %s failed: %v", host, err)
}

// contextError is the caller's context ending; both a deadline and a
// cancellation are reported as ErrTimeout, the kind closest to "the
// answer did not come in time".
func (r *remote) contextError(ctx context.Context, op, while string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return r.errorf(ErrTimeout, op, "deadline exceeded %s", while)
	}
	return r.errorf(ErrTimeout, op, "canceled %s", while)
}

// errorf builds a classified error "<adapter> <op>: <detail>" with the
// API key redacted.
func (r *remote) errorf(kind error, op, format string, args ...any) error {
	return &Error{Kind: kind, Msg: redact(r.name+" "+op+": "+fmt.Sprintf(format, args...), r.apiKey)}
}

// statusError classifies an answer by its status alone, for what the
// adapters do not recognise themselves; detail is the provider's own
// message, if any.
func (r *remote) statusError(op string, status int, _ string) error {
	// The provider's own words are never passed on: an answer from a
	// misconfigured or hostile URL could carry anything (a database
	// password in a stack trace). The status classifies the failure.
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return r.errorf(ErrUnauthorized, op, "the provider refused the API key (HTTP %d)", status)
	case status >= 300 && status < 400:
		return r.errorf(ErrProvider, op, "unexpected redirect (HTTP %d); check the provider URL", status)
	}
	return r.errorf(ErrProvider, op, "HTTP %d", status)
}

// redact removes key from s.
func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// imageType names an image's content type and file extension by its
// content; unknown content is sent as JPEG for the provider to refuse.
func imageType(data []byte) (contentType, ext string) {
	switch ct := http.DetectContentType(data); ct {
	case "image/png":
		return ct, "png"
	case "image/gif":
		return ct, "gif"
	case "image/bmp":
		return ct, "bmp"
	case "image/webp":
		return ct, "webp"
	}
	return "image/jpeg", "jpg"
}
