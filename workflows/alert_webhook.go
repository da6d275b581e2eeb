package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
)

// webhookRetry retries a delivery while the receiver is down or busy:
// after 5 s, doubling up to every 10 minutes, for up to a day. A receiver
// that refuses the delivery (a 4xx other than 408 and 429) or a webhook
// deleted meanwhile is not retried.
var webhookRetry = &temporal.RetryPolicy{
	InitialInterval:        5 * time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        10 * time.Minute,
	NonRetryableErrorTypes: []string{contract.ErrTypeWebhookGone, contract.ErrTypeWebhookRejected},
}

// AlertWebhookWorkflow delivers one alert event to one webhook: a signed
// POST, retried with backoff for up to a day, each attempt recorded on the
// delivery (store.WebhookDelivery). A delivery that fails for good is
// marked failed with the receiver's last answer.
func AlertWebhookWorkflow(ctx workflow.Context, in contract.AlertWebhookInput) (contract.AlertWebhookResult, error) {
	send := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            webhookRetry,
	})
	var res contract.AlertWebhookResult
	err := workflow.ExecuteActivity(send, a.DeliverAlertWebhook, in).Get(ctx, &res)
	if err == nil {
		return res, nil
	}
	msg := err.Error()
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if appErr.Type() == contract.ErrTypeWebhookGone {
			return contract.AlertWebhookResult{Error: appErr.Message()}, nil
		}
		msg = appErr.Message()
	}
	mark := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	if merr := workflow.ExecuteActivity(mark, a.FailAlertWebhookDelivery, in.DeliveryID, msg).Get(ctx, nil); merr != nil {
		return res, merr
	}
	return contract.AlertWebhookResult{Error: msg}, nil
}
