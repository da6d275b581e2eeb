// Package config loads Rollcall's configuration from ROLLCALL_* environment variables.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole runtime configuration of a Rollcall process.
type Config struct {
	Env      string // "dev" or "production"; dev logs text, production JSON
	LogLevel string

	HTTPAddr        string
	PublicURL       string
	CORSOrigins     []string
	ShutdownTimeout time.Duration
	AutoMigrate     bool
	TrustProxy      bool // take the client IP from X-Forwarded-For (only behind a trusted proxy)
	// TrustedProxies are the networks of the proxies in front of the API:
	// X-Forwarded-For is read only from them, right to left, skipping
	// their own addresses.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is required as a Bearer token on /metrics.
	MetricsToken string
	// CameraAllowCIDRs and ProviderAllowCIDRs let networks the egress
	// policy refuses by default (loopback, link-local) be dialled for
	// cameras and providers.
	CameraAllowCIDRs, ProviderAllowCIDRs []netip.Prefix
	// WebhookAllowCIDRs lets alert webhooks reach networks the egress
	// policy refuses by default (ROLLCALL_WEBHOOK_ALLOW_CIDRS).
	WebhookAllowCIDRs []netip.Prefix
	// WSPerUser caps one user's live WebSocket connections per replica.
	WSPerUser int
	// MetricsAddr, when set, serves /metrics on a listener of its own
	// (e.g. 127.0.0.1:9464) instead of the API's.
	MetricsAddr string

	DatabaseURL     string
	DatabaseMaxConn int

	RedisAddr     string
	RedisPassword string
	RedisDB       int
	RedisPrefix   string

	S3Endpoint        string
	S3AccessKey       string
	S3SecretKey       string
	S3Bucket          string
	S3UseSSL          bool
	S3Region          string
	S3PresignedExpiry time.Duration

	TemporalAddress   string
	TemporalNamespace string
	TemporalUIURL     string

	JWT JWTConfig

	// EncryptionKey (32 bytes) seals stored credentials (camera passwords,
	// provider and Odoo keys) with AES-256-GCM.
	EncryptionKey []byte
	// ProviderDataDir is where the in-process built-in provider keeps its
	// enrolled faces.
	ProviderDataDir string
	// Builtin configures the built-in provider's recognizer.
	Builtin BuiltinConfig
	// DetectionSnapshots stores each camera frame with a face in the
	// object store, linked from its detections.
	DetectionSnapshots bool
	// StreamFrameWidth downscales sampled frames to this width before
	// recognition; 0 keeps the camera's size.
	StreamFrameWidth int
	// StreamWatchdog fails a camera stream after this long without a frame.
	StreamWatchdog time.Duration
	// StreamSlots bounds the camera stream sessions one worker runs (one
	// machine saturates at about 125 cameras at 1 fps).
	StreamSlots int
	// StreamPlacement is how long a session waits for a free slot before
	// its status says no_stream_slot.
	StreamPlacement time.Duration
	// StreamFirstFrame is how long a stream session waits for its first
	// frame (a long key-frame interval delays it).
	StreamFirstFrame time.Duration
	// CameraOfflineGrace is how long an active camera's stream may go
	// without frames before the camera is marked offline.
	CameraOfflineGrace time.Duration
	// WorkflowWait bounds how long an API call waits for a workflow it
	// started (camera probe, snapshot) before answering 504.
	WorkflowWait time.Duration

	LoginRateIP      RateLimit
	LoginRateAccount RateLimit
	// APIRateUser is the overall ceiling on one user's authenticated
	// requests, whatever their class; the class limits (Rates) apply too.
	APIRateUser RateLimit
	// Rates are the limits of each endpoint class, per user and per
	// client IP (ROLLCALL_RATE_<CLASS>_USER and _IP).
	Rates ClassRates
	// UnauthRateIP limits the requests one client IP may send without a
	// valid token (refused ones: 401), before any more work is done.
	UnauthRateIP RateLimit

	PasswordMinLength int
	AuditRetention    time.Duration

	// MetricsRetention keeps system metric samples this long
	// (ROLLCALL_METRICS_RETENTION, default 30 days); MetricsDiskPath is
	// the directory whose file system's use is sampled
	// (ROLLCALL_METRICS_DISK_PATH, default the working directory).
	MetricsRetention time.Duration
	MetricsDiskPath  string

	AdminUsername string
	AdminPassword string
	AdminEmail    string

	Attendance AttendanceConfig
	Retention  RetentionConfig
}

// JWTConfig configures access-token signing.
type JWTConfig struct {
	Algorithm     string // HS256 or EdDSA
	Secret        []byte // HS256 key, at least 32 bytes
	PrivateKeyPEM string // EdDSA private key (PKCS#8 PEM), inline or read from ROLLCALL_JWT_PRIVATE_KEY_FILE
	Issuer        string
	Audience      string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
}

// RateLimit is a fixed-window limit: Limit requests per Window.
type RateLimit struct {
	Limit  int
	Window time.Duration
}

// ClassRate is one endpoint class's limits: per user and per client IP.
type ClassRate struct {
	User RateLimit
	IP   RateLimit
}

// ClassRates are the limits of each endpoint class (see docs/api.md, Rate
// limits): sign-in and the rest of /auth, reads (GET), writes (other
// mutations), uploads (images and files), exports (export jobs) and the
// developer console's invoke.
type ClassRates struct {
	Auth, Reads, Writes, Uploads, Exports, Console ClassRate
}

// RateClassNames are the endpoint classes, as in ROLLCALL_RATE_<CLASS>_*.
var RateClassNames = []string{"auth", "reads", "writes", "uploads", "exports", "console"}

// Class returns the limits of the named class (one of RateClassNames),
// or nil for another name.
func (r *ClassRates) Class(name string) *ClassRate {
	switch name {
	case "auth":
		return &r.Auth
	case "reads":
		return &r.Reads
	case "writes":
		return &r.Writes
	case "uploads":
		return &r.Uploads
	case "exports":
		return &r.Exports
	case "console":
		return &r.Console
	}
	return nil
}

// DefaultClassRates are the class limits when no variable sets them:
// reads generous, writes moderate, and the costly or sensitive classes
// (auth per IP, uploads, exports, console) tight.
func DefaultClassRates() ClassRates {
	per := func(n int) RateLimit { return RateLimit{Limit: n, Window: time.Minute} }
	return ClassRates{
		Auth:    ClassRate{User: per(60), IP: per(120)},
		Reads:   ClassRate{User: per(3000), IP: per(12000)},
		Writes:  ClassRate{User: per(600), IP: per(2400)},
		Uploads: ClassRate{User: per(60), IP: per(240)},
		Exports: ClassRate{User: per(10), IP: per(30)},
		Console: ClassRate{User: per(60), IP: per(120)},
	}
}

// classRates reads ROLLCALL_RATE_<CLASS>_USER and _IP for every class.
func (e *env) classRates() ClassRates {
	r := DefaultClassRates()
	for _, name := range RateClassNames {
		c := r.Class(name)
		v := "ROLLCALL_RATE_" + strings.ToUpper(name)
		c.User = e.rate(v+"_USER", c.User)
		c.IP = e.rate(v+"_IP", c.IP)
	}
	return r
}

// Load reads the configuration from the environment, applying defaults that
// match the local stack started by deploy/stack.sh. It reports every invalid
// variable at once.
func Load() (Config, error) {
	return LoadFrom(os.Getenv)
}

// LoadFrom is Load with another source of variables (tests).
func LoadFrom(getenv func(string) string) (Config, error) {
	e := env{get: getenv}
	c := Config{
		Env:             e.str("ROLLCALL_ENV", "dev"),
		LogLevel:        e.str("ROLLCALL_LOG_LEVEL", "info"),
		HTTPAddr:        e.str("ROLLCALL_HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:       e.str("ROLLCALL_PUBLIC_URL", "http://127.0.0.1:8080"),
		CORSOrigins:     e.list("ROLLCALL_CORS_ORIGINS", nil),
		ShutdownTimeout: e.duration("ROLLCALL_SHUTDOWN_TIMEOUT", 20*time.Second),
		AutoMigrate:     e.bool("ROLLCALL_AUTO_MIGRATE", true),
		TrustProxy:      e.bool("ROLLCALL_TRUST_PROXY", false),
		TrustedProxies:  e.prefixes("ROLLCALL_TRUSTED_PROXIES"),
		MetricsToken:    e.str("ROLLCALL_METRICS_TOKEN", ""),
		MetricsAddr:     e.str("ROLLCALL_METRICS_ADDR", ""),
		WSPerUser:       e.int("ROLLCALL_WS_PER_USER", 8),

		CameraAllowCIDRs:   e.prefixes("ROLLCALL_CAMERA_ALLOW_CIDRS"),
		ProviderAllowCIDRs: e.prefixes("ROLLCALL_PROVIDER_ALLOW_CIDRS"),
		WebhookAllowCIDRs:  e.prefixes("ROLLCALL_WEBHOOK_ALLOW_CIDRS"),

		DatabaseURL:     e.str("ROLLCALL_DATABASE_URL", "postgres://rollcall:rollcall@127.0.0.1:55432/rollcall?sslmode=disable"),
		DatabaseMaxConn: e.int("ROLLCALL_DATABASE_MAX_CONNS", 20),

		RedisAddr:     e.str("ROLLCALL_REDIS_ADDR", "127.0.0.1:56379"),
		RedisPassword: e.str("ROLLCALL_REDIS_PASSWORD", ""),
		RedisDB:       e.int("ROLLCALL_REDIS_DB", 0),
		RedisPrefix:   e.str("ROLLCALL_REDIS_PREFIX", "rollcall:"),

		S3Endpoint:        e.str("ROLLCALL_S3_ENDPOINT", "127.0.0.1:59000"),
		S3AccessKey:       e.str("ROLLCALL_S3_ACCESS_KEY", "rollcall"),
		S3SecretKey:       e.str("ROLLCALL_S3_SECRET_KEY", "rollcall-secret"),
		S3Bucket:          e.str("ROLLCALL_S3_BUCKET", "rollcall"),
		S3UseSSL:          e.bool("ROLLCALL_S3_USE_SSL", false),
		S3Region:          e.str("ROLLCALL_S3_REGION", "us-east-1"),
		S3PresignedExpiry: e.duration("ROLLCALL_S3_PRESIGNED_EXPIRY", 15*time.Minute),

		TemporalAddress:   e.str("ROLLCALL_TEMPORAL_ADDRESS", "127.0.0.1:57233"),
		TemporalNamespace: e.str("ROLLCALL_TEMPORAL_NAMESPACE", "default"),
		TemporalUIURL:     e.str("ROLLCALL_TEMPORAL_UI_URL", "http://127.0.0.1:58233"),

		JWT: JWTConfig{
			Algorithm:     e.str("ROLLCALL_JWT_ALG", "HS256"),
			Secret:        []byte(e.str("ROLLCALL_JWT_SECRET", "")),
			PrivateKeyPEM: e.fileOrValue("ROLLCALL_JWT_PRIVATE_KEY", ""),
			Issuer:        e.str("ROLLCALL_JWT_ISSUER", "rollcall"),
			Audience:      e.str("ROLLCALL_JWT_AUDIENCE", "rollcall-api"),
			AccessTTL:     e.duration("ROLLCALL_JWT_ACCESS_TTL", 15*time.Minute),
			RefreshTTL:    e.duration("ROLLCALL_JWT_REFRESH_TTL", 14*24*time.Hour),
		},

		ProviderDataDir: e.str("ROLLCALL_PROVIDER_DATA", ".local/provider"),
		WorkflowWait:    e.duration("ROLLCALL_WORKFLOW_WAIT", 45*time.Second),

		DetectionSnapshots: e.bool("ROLLCALL_DETECTION_SNAPSHOTS", false),
		StreamFrameWidth:   e.int("ROLLCALL_STREAM_FRAME_WIDTH", 0),
		StreamWatchdog:     e.duration("ROLLCALL_STREAM_WATCHDOG", 10*time.Second),
		StreamFirstFrame:   e.duration("ROLLCALL_STREAM_FIRST_FRAME", 45*time.Second),
		CameraOfflineGrace: e.duration("ROLLCALL_CAMERA_OFFLINE_GRACE", 30*time.Second),
		StreamSlots:        e.int("ROLLCALL_STREAM_SLOTS", 100),
		StreamPlacement:    e.duration("ROLLCALL_STREAM_PLACEMENT_TIMEOUT", 2*time.Minute),

		LoginRateIP:      e.rate("ROLLCALL_LOGIN_RATE_IP", RateLimit{Limit: 30, Window: 5 * time.Minute}),
		LoginRateAccount: e.rate("ROLLCALL_LOGIN_RATE_ACCOUNT", RateLimit{Limit: 10, Window: 15 * time.Minute}),
		APIRateUser:      e.rate("ROLLCALL_API_RATE_USER", RateLimit{Limit: 6000, Window: time.Minute}),
		UnauthRateIP:     e.rate("ROLLCALL_UNAUTH_RATE_IP", RateLimit{Limit: 120, Window: time.Minute}),
		Rates:            e.classRates(),

		PasswordMinLength: e.int("ROLLCALL_PASSWORD_MIN_LENGTH", 10),
		AuditRetention:    e.duration("ROLLCALL_AUDIT_RETENTION", 365*24*time.Hour),

		MetricsRetention: e.duration("ROLLCALL_METRICS_RETENTION", 30*24*time.Hour),
		MetricsDiskPath:  e.str("ROLLCALL_METRICS_DISK_PATH", "."),

		AdminUsername: e.str("ROLLCALL_ADMIN_USERNAME", "admin"),
		AdminPassword: e.str("ROLLCALL_ADMIN_PASSWORD", ""),
		AdminEmail:    e.str("ROLLCALL_ADMIN_EMAIL", "admin@example.com"),
	}
	var level slog.Level
	if level.UnmarshalText([]byte(c.LogLevel)) != nil {
		e.fail("ROLLCALL_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.Env != "dev" && c.Env != "production" {
		e.fail("ROLLCALL_ENV", "must be dev or production")
	}
	switch c.JWT.Algorithm {
	case "HS256":
		if len(c.JWT.Secret) < 32 {
			e.fail("ROLLCALL_JWT_SECRET", "must be set to at least 32 bytes for HS256 (deploy/stack.sh env generates one into .local/rollcall.env)")
		}
	case "EdDSA":
		if c.JWT.PrivateKeyPEM == "" {
			e.fail("ROLLCALL_JWT_PRIVATE_KEY", "must hold a PKCS#8 Ed25519 key (or set ROLLCALL_JWT_PRIVATE_KEY_FILE) for EdDSA")
		}
	default:
		e.fail("ROLLCALL_JWT_ALG", "must be HS256 or EdDSA")
	}
	if key := e.str("ROLLCALL_ENCRYPTION_KEY", ""); key == "" {
		e.fail("ROLLCALL_ENCRYPTION_KEY", "must be set to 32 random bytes, base64-encoded (deploy/stack.sh env generates one)")
	} else if k, err := SecretKeyFromBase64(key, 32); err != nil {
		e.fail("ROLLCALL_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded")
	} else {
		c.EncryptionKey = k
	}
	if c.JWT.AccessTTL <= 0 || c.JWT.RefreshTTL <= c.JWT.AccessTTL {
		e.fail("ROLLCALL_JWT_REFRESH_TTL", "must be longer than the access TTL, both positive")
	}
	if c.StreamFrameWidth != 0 && (c.StreamFrameWidth < 160 || c.StreamFrameWidth > 7680) {
		e.fail("ROLLCALL_STREAM_FRAME_WIDTH", "must be 0 (camera size) or from 160 to 7680")
	}
	if c.StreamWatchdog < 2*time.Second || c.StreamWatchdog > 5*time.Minute {
		e.fail("ROLLCALL_STREAM_WATCHDOG", "must be from 2s to 5m")
	}
	if c.StreamSlots < 1 || c.StreamSlots > 2000 {
		e.fail("ROLLCALL_STREAM_SLOTS", "must be from 1 to 2000")
	}
	if c.StreamPlacement < 10*time.Second || c.StreamPlacement > time.Hour {
		e.fail("ROLLCALL_STREAM_PLACEMENT_TIMEOUT", "must be from 10s to 1h")
	}
	if c.StreamFirstFrame < c.StreamWatchdog || c.StreamFirstFrame > 10*time.Minute {
		e.fail("ROLLCALL_STREAM_FIRST_FRAME", "must be from ROLLCALL_STREAM_WATCHDOG to 10m")
	}
	if c.CameraOfflineGrace < 0 || c.CameraOfflineGrace > time.Hour {
		e.fail("ROLLCALL_CAMERA_OFFLINE_GRACE", "must be from 0 (at the first failure) to 1h")
	}
	if c.WorkflowWait < time.Second || c.WorkflowWait > 110*time.Second {
		e.fail("ROLLCALL_WORKFLOW_WAIT", "must be between 1s and 110s (the server's write timeout is 2m)")
	}
	if c.S3PresignedExpiry < time.Second || c.S3PresignedExpiry > 7*24*time.Hour {
		e.fail("ROLLCALL_S3_PRESIGNED_EXPIRY", "must be between 1s and 168h (S3's limit)")
	}
	if c.WSPerUser < 1 || c.WSPerUser > 1000 {
		e.fail("ROLLCALL_WS_PER_USER", "must be from 1 to 1000")
	}
	if c.PasswordMinLength < 8 {
		e.fail("ROLLCALL_PASSWORD_MIN_LENGTH", "must be at least 8")
	}
	c.Attendance = loadAttendance(&e)
	c.Retention = loadRetention(&e)
	c.Builtin = loadBuiltin(&e)
	checkProduction(&c, &e)
	return c, e.err()
}

// prefixes reads a comma-separated list of CIDRs (a bare address is a /32
// or /128).
func (e *env) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range e.list(name, nil) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				e.fail(name, "must be a comma-separated list of CIDRs such as 10.0.0.0/8")
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// SecretKeyFromBase64 decodes a base64 (std or URL) key of the given length.
func SecretKeyFromBase64(s string, n int) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == n {
			return b, nil
		}
	}
	return nil, fmt.Errorf("want %d bytes, base64-encoded", n)
}

type env struct {
	get  func(string) string
	errs []error
}

func (e *env) fail(name, msg string) { e.errs = append(e.errs, fmt.Errorf("%s: %s", name, msg)) }

func (e *env) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("config: %w", errors.Join(e.errs...))
}

func (e *env) str(name, def string) string {
	if v := strings.TrimSpace(e.get(name)); v != "" {
		return v
	}
	return def
}

func (e *env) fileOrValue(name, def string) string {
	if path := e.str(name+"_FILE", ""); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			e.fail(name+"_FILE", "cannot read: "+err.Error())
			return def
		}
		return string(b)
	}
	return e.str(name, def)
}

func (e *env) int(name string, def int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(name, "must be an integer")
		return def
	}
	return n
}

func (e *env) bool(name string, def bool) bool {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, "must be true or false")
		return def
	}
	return b
}

func (e *env) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(name, "must be a duration such as 30s, 15m or 24h")
		return def
	}
	return d
}

func (e *env) list(name string, def []string) []string {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// rate parses "LIMIT/WINDOW", e.g. "30/5m".
func (e *env) rate(name string, def RateLimit) RateLimit {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, w, ok := strings.Cut(v, "/")
	limit, err1 := strconv.Atoi(n)
	window, err2 := time.ParseDuration(w)
	if !ok || err1 != nil || err2 != nil || limit <= 0 || window <= 0 {
		e.fail(name, "must look like 30/5m (requests per window)")
		return def
	}
	return RateLimit{Limit: limit, Window: window}
}
