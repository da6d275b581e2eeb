package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// keepAliveEvery is how often an activity that answers a waiting API call
// heartbeats. Its workflow gives it a heartbeat timeout of several of
// these (workflows.RequestHeartbeatTimeout), so a task that no worker is
// running — its worker died, or Temporal handed it to a poller that was
// shutting down — is retried within seconds instead of at the end of its
// start-to-close timeout, after the caller has given up.
const keepAliveEvery = time.Second

// keepAlive heartbeats every keepAliveEvery until stop is called. Outside
// an activity (direct calls from tests) it does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(keepAliveEvery)
		defer tick.Stop()
		for {
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
