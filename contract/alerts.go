package contract

import "encoding/json"

// WorkflowAlertWebhook is the registered name of the workflow that
// delivers one alert event to one webhook.
const WorkflowAlertWebhook = "AlertWebhookWorkflow"

// AlertWebhookInput is one delivery: the payload is fixed when the alert
// event happens, so every retry sends the same body.
type AlertWebhookInput struct {
	DeliveryID string          `json:"deliveryId"`
	WebhookID  string          `json:"webhookId"`
	Event      string          `json:"event"`
	Payload    json.RawMessage `json:"payload"`
}

// AlertWebhookResult is a delivery's outcome.
type AlertWebhookResult struct {
	Delivered  bool   `json:"delivered"`
	Attempts   int    `json:"attempts"`
	StatusCode int    `json:"statusCode,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Error types of webhook deliveries.
const (
	// ErrTypeWebhookGone: the webhook or its delivery was deleted.
	ErrTypeWebhookGone = "webhook_gone"
	// ErrTypeWebhookRejected: the receiver refused the delivery with a 4xx
	// other than 408 and 429; retrying would not change its mind.
	ErrTypeWebhookRejected = "webhook_rejected"
)
