package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"golang.org/x/sync/errgroup"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/egress"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/recognizer"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/internal/telemetry"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/temporal"
)

// app holds configuration and lazily opened connections of one process.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	stdout io.Writer
	// ready, if set, receives the API's listening address once it serves (tests).
	ready chan<- string
}

func newApp(getenv func(string) string, stdout io.Writer) (*app, error) {
	cfg, err := config.LoadFrom(getenv)
	if err != nil {
		return nil, err
	}
	return &app{cfg: cfg, log: newLogger(cfg, os.Stderr), stdout: stdout}, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.Env == "dev" {
		h = slog.NewTextHandler(w, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}

func (a *app) openDB(ctx context.Context) (*bun.DB, error) {
	db, err := store.Open(ctx, a.cfg.DatabaseURL, a.cfg.DatabaseMaxConn)
	if err != nil {
		return nil, err
	}
	db.WithQueryHook(store.Logger(a.log, 500*time.Millisecond))
	return db, nil
}

func (a *app) openRedis() (rueidis.Client, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{a.cfg.RedisAddr},
		Password:    a.cfg.RedisPassword,
		SelectDB:    a.cfg.RedisDB,
	})
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", a.cfg.RedisAddr, err)
	}
	return c, nil
}

func (a *app) tokens() (*auth.Tokens, error) {
	j := a.cfg.JWT
	return auth.NewTokens(auth.TokenOptions{Algorithm: j.Algorithm, Secret: j.Secret, PrivateKeyPEM: j.PrivateKeyPEM,
		Issuer: j.Issuer, Audience: j.Audience, TTL: j.AccessTTL})
}

// serve runs the API and/or the worker until ctx ends, then shuts down
// gracefully within the configured timeout.
func (a *app) serve(ctx context.Context, withAPI, withWorker bool) error {
	// The built-in provider's recognizer first: missing face models stop
	// the process before it connects to anything.
	rec, err := newRecognizer(a.cfg.Builtin)
	if err != nil {
		return err
	}
	db, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if withAPI && a.cfg.AutoMigrate {
		applied, err := store.MigrateUp(ctx, db)
		if err != nil {
			return err
		}
		for _, name := range applied {
			a.log.Info("migration applied", slog.String("migration", name))
		}
	}
	tc, err := temporal.NewClient(temporal.Options{Address: a.cfg.TemporalAddress, Namespace: a.cfg.TemporalNamespace, Log: a.log})
	if err != nil {
		return err
	}
	defer tc.Close()
	d := &deps{db: db, tc: tc, streams: &temporal.Streams{Client: tc, Namespace: a.cfg.TemporalNamespace, PlacementTimeout: a.cfg.StreamPlacement}}
	if d.box, err = secrets.NewBox(a.cfg.EncryptionKey); err != nil {
		return err
	}
	// The built-in provider runs in this process when configured without a
	// URL. An unreadable data file disables it (and says so) rather than
	// stopping Rollcall, which may be configured for another provider.
	var inProcess provider.Provider
	if engine, err := builtin.NewEngine(builtin.Options{DataDir: a.cfg.ProviderDataDir, Recognizer: rec}); err != nil {
		a.log.Error("in-process built-in provider unavailable", slog.String("data_dir", a.cfg.ProviderDataDir), slog.String("error", err.Error()))
	} else {
		inProcess = engine
	}
	d.providers = recognizer.New(db, d.box, inProcess)
	own := a.ownEndpoints()
	d.providers.Egress = egress.New("provider", a.cfg.ProviderAllowCIDRs, own)
	cameras := ffmpeg.Runner{Egress: egress.New("camera", a.cfg.CameraAllowCIDRs, own)}
	d.blobs, err = blob.New(blob.Options{Endpoint: a.cfg.S3Endpoint, AccessKey: a.cfg.S3AccessKey, SecretKey: a.cfg.S3SecretKey,
		Bucket: a.cfg.S3Bucket, UseSSL: a.cfg.S3UseSSL, Region: a.cfg.S3Region})
	if err != nil {
		return err
	}
	if err := d.blobs.EnsureBucket(ctx); err != nil {
		a.log.Warn("object store not ready; /health/ready will report it", slog.String("error", err.Error()))
	}

	g, gctx := errgroup.WithContext(ctx)
	// The worker's counters: on the API's /metrics in one process, on a
	// listener of their own (ROLLCALL_METRICS_ADDR) in a worker process.
	tel := telemetry.New()
	if withWorker && withAPI {
		d.collectors = append(d.collectors, tel)
	} else if withWorker && a.cfg.MetricsAddr != "" {
		g.Go(func() error { return a.serveWorkerMetrics(gctx, tel) })
	}
	if withAPI {
		g.Go(func() error { return a.runAPI(gctx, d) })
	}
	if withWorker {
		// Activities publish live events (camera health changes) through Redis.
		rdb, err := a.openRedis()
		if err != nil {
			return err
		}
		defer rdb.Close()
		publisher := live.NewHub(rdb, a.cfg.RedisPrefix, a.log)
		writer := activities.NewDetectionWriter(db, a.log)
		writer.Blobs = d.blobs
		writer.Telemetry = tel
		writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
		// Stored recognitions become attendance in the background.
		feeder := activities.NewAttendanceFeeder(db, attendance.Rules{Threshold: a.cfg.Attendance.Threshold,
			Cooldown: a.cfg.Attendance.Cooldown, MinSession: a.cfg.Attendance.MinSession}, publisher, a.log, 8192, 4)
		writer.OnWritten = feeder.OfferDetections
		feeder.Telemetry = tel
		writerDone := make(chan struct{})
		go func() { defer close(writerDone); writer.Run(writerCtx) }()
		go feeder.Run(writerCtx)
		// The writer outlives the worker, to store the detections of
		// streams stopped by the shutdown.
		defer func() { stopWriter(); <-writerDone }()
		// The coming days' partitions (the cleanup schedule keeps them so);
		// without them rows land in the DEFAULT partition, so a failure
		// here is only logged.
		if n, err := store.EnsurePartitions(ctx, db, time.Now(), a.cfg.Retention.PartitionsAhead); err != nil {
			a.log.Warn("partitions not created", slog.String("error", err.Error()))
		} else if n > 0 {
			a.log.Info("partitions created", slog.Int("count", n))
		}
		g.Go(func() error {
			return temporal.RunWorker(gctx, tc, temporal.WorkerOptions{
				Namespace: a.cfg.TemporalNamespace,
				Activities: &activities.Activities{
					DB: db, Log: a.log, Secrets: d.box, FFmpeg: cameras, Blobs: d.blobs, Streams: d.streams, Workflows: d.streams, Providers: d.providers,
					Alerts:      &alerts.Service{DB: db, Log: a.log, Live: publisher, Temporal: tc, TaskQueue: temporal.TaskQueueDefault},
					WebhookHTTP: activities.NewWebhookClient(egress.New("webhook", a.cfg.WebhookAllowCIDRs, own)),
					Live:        publisher, Recent: live.NewRecent(rdb, a.cfg.RedisPrefix, live.DefaultWindow, live.DefaultPerCamera),
					Sampler: cameras, Reporter: d.streams, Writer: writer, Names: activities.NewProfileNames(db, a.log),
					Stream: activities.StreamSettings{SnapshotFrames: a.cfg.DetectionSnapshots, FrameWidth: a.cfg.StreamFrameWidth,
						Watchdog: a.cfg.StreamWatchdog, FirstFrame: a.cfg.StreamFirstFrame, OfflineGrace: a.cfg.CameraOfflineGrace},
					ExportPDFMaxRows: a.cfg.Attendance.ExportPDFMaxRows,
					System:           a.monitor(d, rdb),
					Telemetry:        tel,
				},
				AuditRetention: a.cfg.AuditRetention,
				Retention:      a.cfg.Retention,
				Log:            a.log,
				StopTimeout:    a.cfg.ShutdownTimeout,
				StreamSlots:    a.cfg.StreamSlots,

				MetricsRetention: a.cfg.MetricsRetention,
				Interceptors:     []interceptor.WorkerInterceptor{tel.Interceptor()},
			})
		})
	}
	return g.Wait()
}

// monitor measures the host and checks the services for the system
// metrics schedule, with the same checks as /health/ready.
func (a *app) monitor(d *deps, rdb rueidis.Client) *sysmetrics.Monitor {
	return &sysmetrics.Monitor{DB: d.db, Redis: rdb, Objects: d.blobs, Temporal: d.tc, Namespace: a.cfg.TemporalNamespace,
		Queues: temporal.TaskQueues(), Streams: d.streams, DataDir: a.cfg.MetricsDiskPath,
		Provider: d.providers, Secrets: d.box, Timeout: 3 * time.Second,
		Probes: []sysmetrics.Probe{
			{Name: "postgres", Kind: sysmetrics.KindDatabase, Check: d.db.PingContext},
			{Name: "redis", Kind: sysmetrics.KindCache, Check: func(ctx context.Context) error { return rdb.Do(ctx, rdb.B().Ping().Build()).Error() }},
			{Name: "minio", Kind: sysmetrics.KindObjectStore, Check: d.blobs.Check},
			{Name: "temporal", Kind: sysmetrics.KindWorkflow, Check: func(ctx context.Context) error { return temporal.CheckHealth(ctx, d.tc) }},
		}}
}

// deps are the connections shared by the API and the worker of one process.
type deps struct {
	db        *bun.DB
	tc        client.Client
	streams   *temporal.Streams
	blobs     *blob.Store
	box       *secrets.Box
	providers *recognizer.Manager
	// collectors are served on the API's /metrics too.
	collectors []prometheus.Collector
}

func (a *app) runAPI(ctx context.Context, d *deps) error {
	db, tc, blobs := d.db, d.tc, d.blobs
	rdb, err := a.openRedis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	tokens, err := a.tokens()
	if err != nil {
		return err
	}
	versions := store.NewVersionWatcher(db, a.log)
	go versions.Run(ctx)
	// The hub stops before the Redis client closes (defers run in reverse);
	// stopping it closes every WebSocket, which http.Server.Shutdown does not track.
	hub := live.NewHub(rdb, a.cfg.RedisPrefix, a.log)
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := hub.Run(hubCtx); err != nil {
			a.log.Error("live hub stopped", slog.String("error", err.Error()))
		}
	}()
	defer func() { stopHub(); <-hubDone }()
	handler, _, err := api.New(api.Deps{
		Version: version, Config: a.cfg, Log: a.log, DB: db, Redis: rdb, Tokens: tokens,
		Temporal: tc, Streams: d.streams, Blobs: blobs, Secrets: d.box, Versions: versions, Providers: d.providers, Live: hub,
		Recent: live.NewRecent(rdb, a.cfg.RedisPrefix, live.DefaultWindow, live.DefaultPerCamera), Collectors: d.collectors,
		Checks: map[string]api.Checker{
			"postgres": db.PingContext,
			"redis":    func(ctx context.Context) error { return rdb.Do(ctx, rdb.B().Ping().Build()).Error() },
			"minio":    blobs.Check,
			"temporal": func(ctx context.Context) error { return temporal.CheckHealth(ctx, tc) },
		},
	})
	if err != nil {
		return err
	}
	// Task queues without workers are alerted from here: a worker cannot
	// report that no worker polls its queue.
	queues := &alerts.QueueWatch{
		Alerts:    &alerts.Service{DB: db, Log: a.log, Live: hub, Temporal: tc, TaskQueue: temporal.TaskQueueDefault},
		Temporal:  tc,
		Namespace: a.cfg.TemporalNamespace,
		Queues:    []string{temporal.TaskQueueDefault, temporal.TaskQueueStreams, temporal.TaskQueueStreamSessions},
	}
	go queues.Run(ctx)
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      2 * time.Minute, // long enough for a bounded workflow wait (ROLLCALL_WORKFLOW_WAIT)
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	a.log.Info("api listening", slog.String("addr", addr), slog.String("docs", "http://"+addr+"/docs"))
	if a.ready != nil {
		a.ready <- addr
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	// /metrics on a listener of its own (ROLLCALL_METRICS_ADDR), e.g. one
	// only the scraper's network reaches.
	var metricsSrv *http.Server
	if a.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("listen %s (metrics): %w", a.cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", handler.(*api.Handler).MetricsHandler())
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
		a.log.Info("metrics listening", slog.String("addr", mln.Addr().String()))
		go func() { errc <- metricsSrv.Serve(mln) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down api", slog.Duration("timeout", a.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func (a *app) migrate(ctx context.Context, sub string) error {
	if sub != "up" && sub != "down" && sub != "status" {
		return usageError("migrate needs up, down or status, not " + strings.TrimSpace(sub))
	}
	db, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "up":
		applied, err := store.MigrateUp(ctx, db)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(a.stdout, "database is up to date")
		}
		for _, n := range applied {
			fmt.Fprintln(a.stdout, "applied", n)
		}
	case "down":
		rolled, err := store.MigrateDown(ctx, db)
		if err != nil {
			return err
		}
		if len(rolled) == 0 {
			fmt.Fprintln(a.stdout, "nothing to roll back")
		}
		for _, n := range rolled {
			fmt.Fprintln(a.stdout, "rolled back", n)
		}
	case "status":
		ms, err := store.MigrationsStatus(ctx, db)
		if err != nil {
			return err
		}
		for _, m := range ms {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(a.stdout, "%-50s %s\n", m.Name, state)
		}
	}
	return nil
}

// ownEndpoints are Rollcall's own services (host:port): cameras and
// providers may never be pointed at them.
func (a *app) ownEndpoints() []string {
	own := []string{a.cfg.RedisAddr, a.cfg.S3Endpoint, a.cfg.TemporalAddress, a.cfg.HTTPAddr}
	if a.cfg.MetricsAddr != "" {
		own = append(own, a.cfg.MetricsAddr)
	}
	if u, err := url.Parse(a.cfg.DatabaseURL); err == nil && u.Host != "" {
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "5432")
		}
		own = append(own, host)
	}
	return own
}
