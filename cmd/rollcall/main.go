// Command rollcall is the single Rollcall binary: the HTTP API, the Temporal
// worker, migrations and seeding.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `rollcall — CCTV face attendance backend

Usage:
  rollcall serve                 run the HTTP API
  rollcall worker                run the Temporal worker
  rollcall all                   run the API and the worker in one process
  rollcall migrate up|down|status
  rollcall seed                  create the roles and the first admin
  rollcall provider              serve the built-in reference face provider (demos, tests)
  rollcall demo-images DIR       write the demo person's camera still and enrolment photos into DIR
  rollcall version

Configuration comes from ROLLCALL_* environment variables; see .env.example.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(os.Stderr, usage)
		}
		fmt.Fprintln(os.Stderr, "rollcall:", err)
		os.Exit(1)
	}
}

type usageError string

func (u usageError) Error() string { return string(u) }

// run is main without the process: tests call it with their own
// environment and a context they cancel.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, nil)
}

// runWith is run that, when ready is not nil, sends the API's listening
// address on it once the API serves.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	if len(args) == 0 {
		return usageError("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "provider":
		// The reference provider needs none of Rollcall's configuration.
		return runProviderWith(ctx, rest, getenv, stdout, ready)
	case "demo-images":
		return runDemoImages(rest, stdout)
	case "serve", "worker", "all", "migrate", "seed":
	default:
		return usageError("unknown command " + cmd)
	}
	app, err := newApp(getenv, stdout)
	if err != nil {
		return err
	}
	app.ready = ready
	switch cmd {
	case "serve":
		return app.serve(ctx, true, false)
	case "worker":
		return app.serve(ctx, false, true)
	case "all":
		return app.serve(ctx, true, true)
	case "migrate":
		sub := "up"
		if len(rest) > 0 {
			sub = rest[0]
		}
		return app.migrate(ctx, sub)
	case "seed":
		return app.seed(ctx)
	}
	return usageError("unknown command " + cmd)
}
