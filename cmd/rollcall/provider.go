package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

// runProviderWith is `rollcall provider`: the built-in face provider
// (package builtin) over Rollcall's http provider protocol. It needs none
// of the rest of Rollcall's configuration. Flags override the environment:
//
//	--addr  ROLLCALL_PROVIDER_ADDR  listen address (127.0.0.1:8090)
//	--data  ROLLCALL_PROVIDER_DATA  where enrollments are kept (.local/provider)
//	        ROLLCALL_PROVIDER_API_KEY  bearer key clients must send (optional)
//	        ROLLCALL_BUILTIN_ENGINE, ROLLCALL_MODELS_DIR, ROLLCALL_FACE_MIN_SIZE,
//	        ROLLCALL_FACE_INPUT_SIZE  the recognizer, as for `serve`; engine
//	        facenet's models are loaded before it listens, and failing to is an error
//
// Logging follows ROLLCALL_ENV and ROLLCALL_LOG_LEVEL as for `serve`. It
// serves until ctx is done, then shuts down gracefully. When ready is not
// nil it sends the listening address on it once it serves.
func runProviderWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("provider", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", env("ROLLCALL_PROVIDER_ADDR", "127.0.0.1:8090"), "listen address (env ROLLCALL_PROVIDER_ADDR)")
	dataDir := fs.String("data", env("ROLLCALL_PROVIDER_DATA", ".local/provider"), "directory of enrolled faces (env ROLLCALL_PROVIDER_DATA)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("provider: " + err.Error())
	}
	if fs.NArg() > 0 {
		return usageError("provider: unexpected argument " + fs.Arg(0))
	}
	logCfg := config.Config{Env: env("ROLLCALL_ENV", "dev"), LogLevel: env("ROLLCALL_LOG_LEVEL", "info")}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logCfg.LogLevel)); err != nil {
		return fmt.Errorf("provider: ROLLCALL_LOG_LEVEL: %w", err)
	}
	log := newLogger(logCfg, os.Stderr)

	bc, err := config.LoadBuiltin(getenv)
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	rec, err := newRecognizer(bc)
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	engine, err := builtin.NewEngine(builtin.Options{DataDir: *dataDir, Recognizer: rec})
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	apiKey := getenv("ROLLCALL_PROVIDER_API_KEY")
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("provider: listen %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           builtin.NewServer(engine, apiKey, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	subjects, images := engine.Subjects()
	log.Info("builtin provider listening",
		slog.String("addr", ln.Addr().String()), slog.String("data", *dataDir), slog.String("recognizer", rec.Name()),
		slog.Int("subjects", subjects), slog.Int("images", images), slog.Bool("api_key", apiKey != ""))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("provider: http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down provider")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("provider: http shutdown: %w", err)
	}
	return nil
}
