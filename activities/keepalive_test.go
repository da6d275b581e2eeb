package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/internal/testenv"
)

// TestKeepAliveOutlastsTheHeartbeatTimeout: an activity that works for
// longer than its heartbeat timeout succeeds with keepAlive and, as the
// control, times out without it.
func TestKeepAliveOutlastsTheHeartbeatTimeout(t *testing.T) {
	c, err := client.Dial(client.Options{HostPort: testenv.Require(t, "ROLLCALL_TEMPORAL_ADDRESS"),
		Namespace: testenv.TemporalNamespace(t, "rollcall-test-workflows"), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	queue := "keepalive-" + hex.EncodeToString(b)

	const work, timeout = 5 * time.Second, 2 * time.Second
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, alive bool) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: timeout,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		return workflow.ExecuteActivity(ctx, "Work", alive).Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "KeepAliveTest"})
	w.RegisterActivityWithOptions(func(ctx context.Context, alive bool) error {
		if alive {
			defer keepAlive(ctx)()
		}
		select {
		case <-time.After(work):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, activity.RegisterOptions{Name: "Work"})
	require.NoError(t, w.Start())
	defer w.Stop()

	run := func(alive bool) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, "KeepAliveTest", alive)
		require.NoError(t, err)
		return r.Get(ctx, nil)
	}
	require.NoError(t, run(true), "kept alive for %v under a %v heartbeat timeout", work, timeout)
	err = run(false)
	var te *temporal.TimeoutError
	require.ErrorAs(t, err, &te, "without keepAlive the activity times out")
	require.Equal(t, "Heartbeat", te.TimeoutType().String())
}
