package alerts

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/internal/sysmetrics"
)

// QueueWatch raises task_queue_no_workers when no worker has polled one of
// Rollcall's task queues for a while, and clears it when one polls again.
//
// It runs in the API process, not in a worker: a check run by a worker
// could not report that no worker polls its own queue. Every API replica
// may run it; the de-duplication key keeps one alert per queue.
type QueueWatch struct {
	Alerts    *Service
	Temporal  client.Client
	Namespace string
	Queues    []string
	// Every is the time between checks (default 30 s).
	Every time.Duration
	// Grace is how long a queue may go without pollers before the alert
	// (default 90 s: a rolling restart of workers stays quiet).
	Grace time.Duration

	empty map[string]time.Time // since when each queue has had no poller
}

// Run checks until ctx ends.
func (w *QueueWatch) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check looks at every queue once.
func (w *QueueWatch) Check(ctx context.Context) {
	if w.empty == nil {
		w.empty = map[string]time.Time{}
	}
	grace := w.Grace
	if grace <= 0 {
		grace = 90 * time.Second
	}
	now := w.Alerts.now()
	for _, q := range w.Queues {
		pollers, err := w.pollers(ctx, q)
		if err != nil {
			// Temporal itself unreachable: readiness and the services view
			// say so; this watch only judges queues it can see.
			w.Alerts.Log.Warn("task queue not described", slog.String("queue", q), slog.String("error", err.Error()))
			continue
		}
		if pollers > 0 {
			delete(w.empty, q)
			if _, err := w.Alerts.Clear(ctx, TypeQueueNoWorkers, q, "a worker polls the queue again"); err != nil {
				w.Alerts.Log.Warn("alert not cleared", slog.String("queue", q), slog.String("error", err.Error()))
			}
			continue
		}
		since, ok := w.empty[q]
		if !ok {
			w.empty[q] = now
			since = now
		}
		if now.Sub(since) < grace {
			continue
		}
		if _, err := w.Alerts.Raise(ctx, Spec{Type: TypeQueueNoWorkers, SourceID: q,
			Message: "no worker has polled task queue " + q + " since " + since.UTC().Format(time.RFC3339),
			Details: map[string]any{"since": since.UTC()}}); err != nil {
			w.Alerts.Log.Warn("alert not raised", slog.String("queue", q), slog.String("error", err.Error()))
		}
	}
}

// pollerFresh is how recently a queue must have been polled to count as
// served: a live worker's long poll lasts about a minute, and Temporal
// keeps listing a stopped worker for minutes after its last poll.
const pollerFresh = 2 * time.Minute

// pollers counts the pollers of q if one polled lately, else 0.
func (w *QueueWatch) pollers(ctx context.Context, q string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := sysmetrics.DescribeQueue(cctx, w.Temporal.WorkflowService(), w.Namespace, q)
	if err != nil {
		return 0, err
	}
	if st.LastAccess != nil && w.Alerts.now().Sub(*st.LastAccess) >= pollerFresh {
		return 0, nil
	}
	return st.Pollers, nil
}
