package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/egress"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// DeliverAlertWebhook sends one delivery's payload to its webhook, signed
// with the webhook's secret (alerts.SignatureHeader), and records the
// attempt. A 2xx answer delivers it; a 4xx other than 408 and 429 is
// final (webhook_rejected); anything else is retried by the workflow.
// The receiver's body is never stored or echoed: only its status.
func (a *Activities) DeliverAlertWebhook(ctx context.Context, in contract.AlertWebhookInput) (contract.AlertWebhookResult, error) {
	attempt := int(activity.GetInfo(ctx).Attempt)
	h, err := store.FindWebhook(ctx, a.DB, in.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return contract.AlertWebhookResult{}, temporal.NewNonRetryableApplicationError("the webhook was deleted", contract.ErrTypeWebhookGone, nil)
	}
	if err != nil {
		return contract.AlertWebhookResult{}, err
	}
	if a.Secrets == nil {
		return contract.AlertWebhookResult{}, errors.New("no encryption key to open the webhook secret")
	}
	secret, err := a.Secrets.Open(h.Secret, alerts.SecretAAD)
	if err != nil {
		return contract.AlertWebhookResult{}, temporal.NewNonRetryableApplicationError("the webhook secret cannot be decrypted (was ROLLCALL_ENCRYPTION_KEY changed?); set it again", contract.ErrTypeWebhookRejected, nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(in.Payload))
	if err != nil {
		return contract.AlertWebhookResult{}, temporal.NewNonRetryableApplicationError("the webhook URL is not usable", contract.ErrTypeWebhookRejected, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rollcall-Webhooks/1")
	req.Header.Set("X-Rollcall-Event", in.Event)
	req.Header.Set("X-Rollcall-Delivery", in.DeliveryID)
	req.Header.Set("X-Rollcall-Attempt", strconv.Itoa(attempt))
	req.Header.Set(alerts.SignatureHeader, alerts.Sign(secret, a.now(), in.Payload))

	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := a.webhookClient().Do(req.WithContext(rctx))
	if err != nil {
		msg := "receiver not reached: " + urlsafe.Redact(err.Error())
		a.recordDelivery(ctx, in.DeliveryID, store.DeliveryPending, 0, msg)
		return contract.AlertWebhookResult{}, errors.New(msg)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		a.recordDelivery(ctx, in.DeliveryID, store.DeliveryDelivered, code, "")
		return contract.AlertWebhookResult{Delivered: true, Attempts: attempt, StatusCode: code}, nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		msg := fmt.Sprintf("receiver refused the delivery: HTTP %d", code)
		a.recordDelivery(ctx, in.DeliveryID, store.DeliveryFailed, code, msg)
		return contract.AlertWebhookResult{}, temporal.NewNonRetryableApplicationError(msg, contract.ErrTypeWebhookRejected, nil)
	default:
		msg := fmt.Sprintf("receiver answered HTTP %d", code)
		a.recordDelivery(ctx, in.DeliveryID, store.DeliveryPending, code, msg)
		return contract.AlertWebhookResult{}, errors.New(msg)
	}
}

// FailAlertWebhookDelivery marks a delivery failed for good (its retries
// ran out), keeping the last answer recorded.
func (a *Activities) FailAlertWebhookDelivery(ctx context.Context, deliveryID, reason string) error {
	return store.FailDelivery(ctx, a.DB, deliveryID, reason)
}

// recordDelivery stores an attempt's outcome; the delivery goes on (or
// stops) whether or not the record is written.
func (a *Activities) recordDelivery(ctx context.Context, id, status string, code int, msg string) {
	if err := store.RecordDeliveryAttempt(ctx, a.DB, id, status, code, msg, a.now()); err != nil && ctx.Err() == nil {
		a.Log.Warn("webhook delivery not recorded", "delivery_id", id, "error", err.Error())
	}
}

func (a *Activities) webhookClient() *http.Client {
	if a.WebhookHTTP != nil {
		return a.WebhookHTTP
	}
	return defaultWebhookClient
}

// defaultWebhookClient applies the egress policy's defaults (no loopback,
// link-local or metadata addresses).
var defaultWebhookClient = NewWebhookClient(egress.New("webhook", nil, nil))

// NewWebhookClient returns the client webhooks are sent with: every
// connection checked by policy at the address actually dialled, no proxy
// from the environment, redirects not followed (a redirect is the
// receiver's answer, not a new destination to trust).
func NewWebhookClient(policy *egress.Policy) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           policy.Dialer().DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
