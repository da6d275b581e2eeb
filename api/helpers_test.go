package api_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/egress"
	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
	"github.com/rollcall/rollcall/internal/recognizer"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

const testSecret = "test-secret-0123456789-abcdefghijklmnop"

// harness is one API over a fresh database and a private Redis prefix,
// with the stack's Temporal (namespace of the api tests) and MinIO.
// lockedBuffer collects a harness's server log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	logs     *lockedBuffer // the server's log
	t        *testing.T
	handler  http.Handler
	api      huma.API
	db       *bun.DB
	cfg      config.Config
	tokens   *auth.Tokens
	checks   map[string]api.Checker
	temporal client.Client
	streams  *rctemporal.Streams
	blobs    *blob.Store
	box      *secrets.Box
	engine   *builtin.Engine
	faces    *recognizer.Manager
	// live, when set before startWorker, receives the activities' events.
	live   activities.Publisher
	recent *live.Recent
}

// apiNamespace is the Temporal namespace of this package's tests.
var apiNamespace = testenv.NamespaceName("rollcall-test-api")

type harnessOption func(*config.Config, map[string]api.Checker)

// newHarness is newHarnessWith the synthetic recognizer, for the tests of
// facegen people.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	return newHarnessWith(t, synthetic.New(), opts...)
}

var (
	faceNetsOnce sync.Once
	faceNets     *facenet.Models
	faceNetsErr  error
)

// realFaces is the built-in provider's face recognition, for the tests of
// real photos.
func realFaces(t *testing.T) builtin.Recognizer {
	t.Helper()
	dir := testenv.Require(t, "ROLLCALL_MODELS_DIR")
	faceNetsOnce.Do(func() { faceNets, faceNetsErr = facenet.Load(dir) })
	if faceNetsErr != nil {
		t.Fatal(faceNetsErr)
	}
	return builtin.NewFaceNet(faceNets, builtin.FaceNetOptions{})
}

// newHarnessWith is the API over the test stack, with the in-process
// built-in provider recognising faces with rec.
func newHarnessWith(t *testing.T, rec builtin.Recognizer, opts ...harnessOption) *harness {
	t.Helper()
	db := testenv.DB(t)
	rdb, prefix := testenv.Redis(t)
	cfg, err := config.LoadFrom(func(k string) string {
		switch k {
		case "ROLLCALL_JWT_SECRET":
			return testSecret
		case "ROLLCALL_ENCRYPTION_KEY":
			return "mryhsrYzwDhnWg8R3iFouxnQojvCv8t+ADCm5JiMXPA="
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedisPrefix = prefix
	cfg.TemporalNamespace = apiNamespace
	cfg.S3Bucket = ""
	// The permission walk sends hundreds of unauthenticated requests from
	// one address; tests of that limit set their own.
	cfg.UnauthRateIP.Limit = 1 << 20
	// Tests send many requests per user and from one address (the class
	// limits' defaults are tight for uploads, exports, the console and
	// auth); tests of those limits set their own.
	for _, name := range config.RateClassNames {
		c := cfg.Rates.Class(name)
		c.User.Limit, c.IP.Limit = 1<<20, 1<<20
	}
	checks := map[string]api.Checker{"postgres": db.PingContext}
	for _, o := range opts {
		o(&cfg, checks)
	}
	tokens, err := auth.NewTokens(auth.TokenOptions{Algorithm: "HS256", Secret: []byte(testSecret),
		Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience, TTL: cfg.JWT.AccessTTL})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	tc, err := client.NewLazyClient(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"), Namespace: apiNamespace,
		Logger: tlog.NewStructuredLogger(log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: cmp.Or(cfg.S3Bucket, os.Getenv("ROLLCALL_S3_BUCKET")), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := secrets.NewBox(key)
	streams := &rctemporal.Streams{Client: tc, Namespace: apiNamespace}
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: rec})
	if err != nil {
		t.Fatal(err)
	}
	faces := recognizer.New(db, box, engine)
	recent := live.NewRecent(rdb, prefix, live.DefaultWindow, live.DefaultPerCamera)
	h, humaAPI, err := api.New(api.Deps{Config: cfg, Log: log, DB: db, Redis: rdb, Tokens: tokens, Checks: checks,
		Temporal: tc, Streams: streams, Blobs: blobs, Secrets: box, Providers: faces, Recent: recent})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, logs: logs, handler: h, api: humaAPI, db: db, cfg: cfg, tokens: tokens, checks: checks,
		temporal: tc, streams: streams, blobs: blobs, box: box, engine: engine, faces: faces, recent: recent}
}

// workerOption changes what startWorker runs.
type workerOption func(*workerSetup)

type workerSetup struct {
	streams  bool
	settings activities.StreamSettings
}

// withoutStreams runs no camera streams: for tests of what the health
// schedule alone does.
func withoutStreams(w *workerSetup) { w.streams = false }

// withSnapshotFrames stores every frame with a face in the object store.
func withSnapshotFrames(w *workerSetup) { w.settings.SnapshotFrames = true }

// startWorker runs Rollcall's workers for this harness until the test
// ends; camera streams report to their workflows every second.
func (h *harness) startWorker(opts ...workerOption) {
	h.t.Helper()
	testenv.TemporalNamespace(h.t, apiNamespace)
	if err := h.blobs.EnsureBucket(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	setup := workerSetup{streams: true, settings: activities.StreamSettings{ReportEvery: time.Second, HeartbeatEvery: 500 * time.Millisecond}}
	for _, o := range opts {
		o(&setup)
	}
	var logTo io.Writer = io.Discard
	if os.Getenv("ROLLCALL_TEST_VERBOSE") != "" {
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	writer := activities.NewDetectionWriter(h.db, log)
	writer.FlushEvery, writer.Blobs = 50*time.Millisecond, h.blobs
	ctx, stop := context.WithCancel(context.Background())
	// Stored recognitions become attendance, as in the worker process.
	feeder := activities.NewAttendanceFeeder(h.db, attendance.DefaultRules(), h.live, log, 1024, 2)
	writer.OnWritten = feeder.OfferDetections
	done := make(chan struct{})
	go func() { defer close(done); writer.Run(ctx) }()
	go feeder.Run(ctx)
	h.t.Cleanup(func() { stop(); <-done })
	acts := &activities.Activities{DB: h.db, Log: log, Secrets: h.box,
		FFmpeg: ffmpeg.Runner{}, Blobs: h.blobs, Streams: h.streams, Workflows: h.streams, Providers: h.faces, Live: h.live, Recent: h.recent,
		Sampler: ffmpeg.Runner{}, Reporter: h.streams, Writer: writer, Stream: setup.settings,
		ExportPDFMaxRows: h.cfg.Attendance.ExportPDFMaxRows,
		// Webhook receivers of tests listen on loopback.
		WebhookHTTP: activities.NewWebhookClient(egress.New("webhook", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil))}
	acts.Alerts = &alerts.Service{DB: h.db, Log: log, Temporal: h.temporal, TaskQueue: rctemporal.TaskQueueDefault}
	if h.live != nil {
		acts.Alerts.Live = h.live
	}
	// As the worker process does: its workflows' search attributes.
	if err := rctemporal.EnsureSearchAttributes(context.Background(), h.temporal, apiNamespace); err != nil {
		h.t.Fatal(err)
	}
	workers := rctemporal.NewWorkers(h.temporal, rctemporal.WorkerOptions{Activities: acts})
	if !setup.streams {
		workers = workers[:1]
	}
	for _, w := range workers {
		if err := w.Start(); err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(w.Stop)
	}
}

// response is a recorded answer with helpers to read it.
type response struct {
	*httptest.ResponseRecorder
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body.String())
	}
	return m
}

// request sends one request. body may be nil, a string or a value to encode.
func (h *harness) request(method, url string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, url, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "RemoteAddr" {
			req.RemoteAddr = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return response{rec}
}

// as sends a request with a bearer token.
func (h *harness) as(token, method, url string, body any, headers ...string) response {
	h.t.Helper()
	return h.request(method, url, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// mustCreateUser inserts a user directly and returns it with its password.
func (h *harness) mustCreateUser(username string, role auth.Role) (*store.User, string) {
	h.t.Helper()
	password := "pw-" + username + "-Xy7!kq"
	hash, err := auth.HashPassword(password)
	if err != nil {
		h.t.Fatal(err)
	}
	u := &store.User{Username: username, Email: username + "@example.com", FullName: strings.ToUpper(username[:1]) + username[1:],
		PasswordHash: hash, Role: string(role), IsActive: true}
	if err := store.CreateUser(context.Background(), h.db, u); err != nil {
		h.t.Fatal(err)
	}
	return u, password
}

type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// mustLogin logs in through the API and returns the token pair.
func (h *harness) mustLogin(username, password string) tokenPair {
	h.t.Helper()
	res := h.request(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": username, "password": password})
	if res.Code != http.StatusOK {
		h.t.Fatalf("login %s: %d %s", username, res.Code, res.Body.String())
	}
	var tp tokenPair
	if err := json.Unmarshal(res.Body.Bytes(), &tp); err != nil {
		h.t.Fatal(err)
	}
	return tp
}

// mustUserToken creates a user of the role and returns an access token for it.
func (h *harness) mustUserToken(username string, role auth.Role) (*store.User, string) {
	h.t.Helper()
	u, pw := h.mustCreateUser(username, role)
	return u, h.mustLogin(username, pw).AccessToken
}

// scenario is one API call and what must come back.
type scenario struct {
	Name         string
	Method       string
	URL          string
	Body         any
	Headers      []string
	WantStatus   int
	WantContains []string
	WantHeaders  map[string]string
}

func (h *harness) check(t *testing.T, s scenario, res response) {
	t.Helper()
	if res.Code != s.WantStatus {
		t.Fatalf("%s %s: status %d, want %d\n%s", s.Method, s.URL, res.Code, s.WantStatus, res.Body.String())
	}
	for _, want := range s.WantContains {
		if !strings.Contains(res.Body.String(), want) {
			t.Errorf("%s %s: body lacks %q\n%s", s.Method, s.URL, want, res.Body.String())
		}
	}
	for k, v := range s.WantHeaders {
		if got := res.Header().Get(k); got != v && !(v == "*" && got != "") {
			t.Errorf("%s %s: header %s = %q, want %q", s.Method, s.URL, k, got, v)
		}
	}
}

var errDown = errors.New("connection refused")
