// Package odoo is a client of Odoo's external API for HR attendance: the
// JSON-RPC API at /jsonrpc (every version; an API key is the password) and
// Odoo 19's JSON-2 API at /json/2/<model>/<method> (bearer API key). The
// API key is never logged, never put in an error and never returned.
package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols.
const (
	ProtocolAuto    = ""        // JSON-2 from Odoo 19, JSON-RPC before
	ProtocolJSONRPC = "jsonrpc" // /jsonrpc, common.authenticate + object.execute_kw
	ProtocolJSON2   = "json2"   // /json/2/<model>/<method>, Odoo 19+
)

// Config says where Odoo is and how to sign in.
type Config struct {
	URL      string // base URL, e.g. https://mycompany.odoo.com
	Database string
	Login    string // the user the API key belongs to (JSON-RPC)
	APIKey   string
	Protocol string
	// Timeout bounds one call (default 30 s).
	Timeout time.Duration
	// HTTP, when set, sends the requests (tests, egress policies).
	HTTP *http.Client
}

// Client calls one Odoo database. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client

	mu       sync.Mutex
	uid      int    // JSON-RPC: from authenticate
	protocol string // resolved
	version  *Version
	calls    atomic.Int64
	nextID   atomic.Int64
}

// New checks cfg and returns a client; it does not call Odoo.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("odoo: the URL must be http:// or https:// with a host")
	}
	if u.User != nil {
		return nil, errors.New("odoo: the URL must not carry credentials")
	}
	switch cfg.Protocol {
	case ProtocolAuto, ProtocolJSONRPC, ProtocolJSON2:
	default:
		return nil, fmt.Errorf("odoo: unknown protocol %q (want jsonrpc or json2)", cfg.Protocol)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	// Odoo answers; a redirect is a misconfigured URL, never followed
	// (it would carry the API key elsewhere).
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{cfg: cfg, base: u, http: &c, protocol: cfg.Protocol}, nil
}

// Calls counts the model method calls made (for benchmarks).
func (c *Client) Calls() int64 { return c.calls.Load() }

// Version is what the server says it is.
type Version struct {
	ServerVersion string `json:"server_version"`
	Major         int    `json:"-"`
}

// ServerVersion asks Odoo its version (common.version, or /web/version
// for JSON-2).
func (c *Client) ServerVersion(ctx context.Context) (Version, error) {
	c.mu.Lock()
	if c.version != nil {
		v := *c.version
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	var v Version
	if c.protocol == ProtocolJSON2 {
		var w struct {
			Version string `json:"version"`
		}
		if err := c.do(ctx, http.MethodGet, "/web/version", nil, nil, &w, "web.version"); err != nil {
			return v, err
		}
		v.ServerVersion = w.Version
	} else if err := c.rpc(ctx, "common", "version", []any{}, &v, "common.version"); err != nil {
		return v, err
	}
	v.Major = majorOf(v.ServerVersion)
	c.mu.Lock()
	c.version = &v
	c.mu.Unlock()
	return v, nil
}

// majorOf reads 17 from "17.0", "saas~17.2+e" and the like.
func majorOf(s string) int {
	s = strings.TrimPrefix(s, "saas~")
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(s)
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// Protocol resolves the protocol: configured, or JSON-2 from Odoo 19.
func (c *Client) Protocol(ctx context.Context) (string, error) {
	c.mu.Lock()
	p := c.protocol
	c.mu.Unlock()
	if p != ProtocolAuto {
		return p, nil
	}
	v, err := c.ServerVersion(ctx)
	if err != nil {
		return "", err
	}
	p = ProtocolJSONRPC
	if v.Major >= 19 {
		p = ProtocolJSON2
	}
	c.mu.Lock()
	c.protocol = p
	c.mu.Unlock()
	return p, nil
}

// Authenticate checks the credentials: common.authenticate for JSON-RPC
// (false means refused), a read of the current user for JSON-2.
func (c *Client) Authenticate(ctx context.Context) error {
	p, err := c.Protocol(ctx)
	if err != nil {
		return err
	}
	if p == ProtocolJSON2 {
		var n int
		return c.json2(ctx, "hr.employee", "search_count", map[string]any{"domain": []any{}}, &n)
	}
	var raw json.RawMessage
	if err := c.rpc(ctx, "common", "authenticate", []any{c.cfg.Database, c.cfg.Login, c.cfg.APIKey, map[string]any{}}, &raw, "common.authenticate"); err != nil {
		return err
	}
	var uid int
	if json.Unmarshal(raw, &uid) != nil || uid <= 0 {
		return &Error{Kind: KindAuth, Op: "common.authenticate", Message: "Odoo refused the login and API key (authenticate answered false)"}
	}
	c.mu.Lock()
	c.uid = uid
	c.mu.Unlock()
	return nil
}

// Execute calls method on model: args are positional (JSON-RPC), kwargs
// named; JSON-2 receives both by name (names gives the positional ones'
// names, in order). The result is decoded into out.
func (c *Client) Execute(ctx context.Context, model, method string, names []string, args []any, kwargs map[string]any, out any) error {
	p, err := c.Protocol(ctx)
	if err != nil {
		return err
	}
	c.calls.Add(1)
	if p == ProtocolJSON2 {
		body := map[string]any{}
		for k, v := range kwargs {
			body[k] = v
		}
		for i, n := range names {
			if i < len(args) {
				body[n] = args[i]
			}
		}
		return c.json2(ctx, model, method, body, out)
	}
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid == 0 {
		if err := c.Authenticate(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		uid = c.uid
		c.mu.Unlock()
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if args == nil {
		args = []any{}
	}
	err = c.rpc(ctx, "object", "execute_kw", []any{c.cfg.Database, uid, c.cfg.APIKey, model, method, args, kwargs}, out, model+"."+method)
	var oe *Error
	if errors.As(err, &oe) && strings.Contains(oe.Name, "SessionExpired") {
		c.mu.Lock()
		c.uid = 0 // sign in again on the next call
		c.mu.Unlock()
	}
	return err
}

func (c *Client) json2(ctx context.Context, model, method string, body map[string]any, out any) error {
	h := http.Header{
		"Authorization":   {"bearer " + c.cfg.APIKey},
		"X-Odoo-Database": {c.cfg.Database},
	}
	return c.do(ctx, http.MethodPost, "/json/2/"+url.PathEscape(model)+"/"+url.PathEscape(method), h, body, out, model+"."+method)
}

// rpcResponse is JSON-RPC's envelope; errors come with HTTP 200.
type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

func (c *Client) rpc(ctx context.Context, service, method string, args []any, out any, op string) error {
	req := map[string]any{"jsonrpc": "2.0", "method": "call", "id": c.nextID.Add(1),
		"params": map[string]any{"service": service, "method": method, "args": args}}
	var resp rpcResponse
	if err := c.do(ctx, http.MethodPost, "/jsonrpc", nil, req, &resp, op); err != nil {
		return err
	}
	if e := resp.Error; e != nil {
		name, msg := e.Data.Name, cmpOr(e.Data.Message, e.Message)
		kind := classify(name, 0)
		if e.Code == 100 {
			kind = KindTransient
		}
		if strings.Contains(name, "OperationalError") && strings.Contains(msg, "does not exist") {
			kind = KindAuth // no such database: a configuration error
		}
		return &Error{Kind: kind, Name: name, Message: c.scrub(msg), Op: op}
	}
	if out == nil || len(resp.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Result, out); err != nil {
		return &Error{Kind: KindBusiness, Op: op, Message: "unexpected answer: " + err.Error()}
	}
	return nil
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 32 << 20

func (c *Client) do(ctx context.Context, method, path string, h http.Header, body any, out any, op string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("odoo: %s: encode: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return fmt.Errorf("odoo: %s: %w", op, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Rollcall")
	res, err := c.http.Do(req)
	if err != nil {
		return &Error{Kind: KindTransient, Op: op, Message: c.scrub(netMessage(err))}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return &Error{Kind: KindTransient, Op: op, Status: res.StatusCode, Message: "reading the answer: " + c.scrub(netMessage(err))}
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		msg := e.Message
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			return &Error{Kind: KindBusiness, Op: op, Status: res.StatusCode, Message: "Odoo answered with a redirect: check the URL (https, no path)"}
		}
		return &Error{Kind: classify(e.Name, res.StatusCode), Name: e.Name, Op: op, Status: res.StatusCode, Message: c.scrub(msg)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Kind: KindBusiness, Op: op, Status: res.StatusCode, Message: "the answer is not Odoo's JSON (is the URL Odoo's?)"}
	}
	return nil
}

// netMessage says what went wrong on the wire without the URL.
func netMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// scrub removes the API key from a message, should Odoo echo it.
func (c *Client) scrub(s string) string {
	if c.cfg.APIKey != "" {
		s = strings.ReplaceAll(s, c.cfg.APIKey, "[REDACTED]")
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// APIKeyAAD binds a sealed Odoo API key to its use (internal/secrets).
const APIKeyAAD = "odoo.api_key"

// Errors of NewFromSealed.
var (
	ErrNotConfigured = errors.New("odoo: the connection is not configured (URL, database and API key)")
	ErrKeyUnreadable = errors.New("odoo: the stored API key cannot be decrypted (was ROLLCALL_ENCRYPTION_KEY changed?); enter it again")
)

// Opener opens a sealed secret (internal/secrets.Box).
type Opener interface {
	Open(sealed, aad string) ([]byte, error)
}

// NewFromSealed builds a client of a stored connection whose API key was
// sealed with APIKeyAAD: ErrNotConfigured when the URL, database or key is
// missing, ErrKeyUnreadable when the key cannot be opened. cfg.APIKey is
// the sealed key.
func NewFromSealed(cfg Config, box Opener) (*Client, error) {
	if cfg.URL == "" || cfg.Database == "" || cfg.APIKey == "" {
		return nil, ErrNotConfigured
	}
	if box == nil {
		return nil, ErrKeyUnreadable
	}
	key, err := box.Open(cfg.APIKey, APIKeyAAD)
	if err != nil {
		return nil, ErrKeyUnreadable
	}
	cfg.APIKey = string(key)
	return New(cfg)
}
