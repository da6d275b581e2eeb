package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// WebhookBody is an alert webhook as the API shows it (never its secret).
type WebhookBody struct {
	ID          string    `json:"id" format:"uuid"`
	Name        string    `json:"name" example:"on-call pager"`
	URL         string    `json:"url" example:"https://hooks.example.com/rollcall"`
	AlertTypes  []string  `json:"alertTypes" example:"[\"camera_offline\",\"provider_down\"]" doc:"Alert types sent; empty sends every type"`
	MinSeverity string    `json:"minSeverity" enum:"info,warning,critical"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// WebhookFields are the settable fields of a webhook.
type WebhookFields struct {
	Name        string   `json:"name" minLength:"1" maxLength:"100" example:"on-call pager"`
	URL         string   `json:"url" minLength:"1" maxLength:"2000" example:"https://hooks.example.com/rollcall" doc:"http or https; no credentials in the URL"`
	Secret      string   `json:"secret,omitempty" minLength:"16" maxLength:"256" writeOnly:"true" example:"wh-secret-at-least-16-chars" doc:"HMAC-SHA256 key of the X-Rollcall-Signature header. Required when creating and when the URL's scheme, host or port change; kept otherwise. Never returned."`
	AlertTypes  []string `json:"alertTypes,omitempty" maxItems:"20" uniqueItems:"true" example:"[\"camera_offline\"]"`
	MinSeverity string   `json:"minSeverity,omitempty" enum:"info,warning,critical" default:"info"`
	Enabled     *bool    `json:"enabled,omitempty" doc:"Default true"`
}

// CreateWebhookInput creates a webhook.
type CreateWebhookInput struct {
	Body WebhookFields
}

// UpdateWebhookInput replaces a webhook's fields.
type UpdateWebhookInput struct {
	ID   string `path:"id" format:"uuid"`
	Body WebhookFields
}

// WebhookIDInput names a webhook.
type WebhookIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// WebhookOutput is one webhook.
type WebhookOutput struct {
	Body WebhookBody
}

// WebhookListOutput lists the webhooks by name.
type WebhookListOutput struct {
	Body struct {
		Items []WebhookBody `json:"items"`
	}
}

// DeliveryBody is one delivery of an alert event to a webhook.
type DeliveryBody struct {
	ID          string     `json:"id" format:"uuid"`
	AlertID     *string    `json:"alertId,omitempty"`
	Event       string     `json:"event" example:"alert.raised"`
	Status      string     `json:"status" enum:"pending,delivered,failed"`
	Attempts    int        `json:"attempts" example:"2"`
	LastStatus  int        `json:"lastStatus,omitempty" example:"503" doc:"The receiver's last HTTP status"`
	LastError   string     `json:"lastError,omitempty" example:"receiver answered HTTP 503"`
	CreatedAt   time.Time  `json:"createdAt"`
	DeliveredAt *time.Time `json:"deliveredAt,omitempty"`
}

// DeliveryListOutput lists a webhook's latest deliveries.
type DeliveryListOutput struct {
	Body struct {
		Items []DeliveryBody `json:"items"`
	}
}

// DeliveryListInput names a webhook and how many deliveries to list.
type DeliveryListInput struct {
	ID    string `path:"id" format:"uuid"`
	Limit int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// TestWebhookOutput names the test delivery started.
type TestWebhookOutput struct {
	Body struct {
		DeliveryID string `json:"deliveryId" format:"uuid"`
	}
}

func registerWebhooks(api huma.API, s *Server) {
	register(api, op{ID: "list-alert-webhooks", Method: http.MethodGet, Path: "/alert-webhooks", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "Outbound alert webhooks"}, s.listWebhooks)
	register(api, op{ID: "create-alert-webhook", Method: http.MethodPost, Path: "/alert-webhooks", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "Send alerts of some types to a URL (chat, paging), signed with a secret", Status: http.StatusCreated}, s.createWebhook)
	register(api, op{ID: "get-alert-webhook", Method: http.MethodGet, Path: "/alert-webhooks/{id}", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "One alert webhook"}, s.getWebhook)
	register(api, op{ID: "update-alert-webhook", Method: http.MethodPut, Path: "/alert-webhooks/{id}", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "Change an alert webhook"}, s.updateWebhook)
	register(api, op{ID: "delete-alert-webhook", Method: http.MethodDelete, Path: "/alert-webhooks/{id}", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "Delete an alert webhook and its delivery records", Status: http.StatusNoContent}, s.deleteWebhook)
	register(api, op{ID: "test-alert-webhook", Method: http.MethodPost, Path: "/alert-webhooks/{id}/test", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "Send a signed test event (alert.test) to the webhook", Status: http.StatusAccepted}, s.testWebhook)
	register(api, op{ID: "list-alert-webhook-deliveries", Method: http.MethodGet, Path: "/alert-webhooks/{id}/deliveries", Tag: "Alerts", Perm: auth.PermSystemManage,
		Summary: "A webhook's latest deliveries with attempts and the receiver's last answer"}, s.listDeliveries)
}

func webhookBody(w *store.AlertWebhook) WebhookBody {
	return WebhookBody{ID: w.ID, Name: w.Name, URL: w.URL, AlertTypes: w.AlertTypes, MinSeverity: w.MinSeverity,
		Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// checkWebhookFields validates f; it returns the problem naming the field.
func checkWebhookFields(f *WebhookFields) error {
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fieldError("body.url", "must be an http or https URL with a host", nil)
	}
	if u.User != nil {
		return fieldError("body.url", "must not carry credentials; the receiver checks the signature instead", nil)
	}
	if u.Fragment != "" {
		return fieldError("body.url", "must not have a fragment", nil)
	}
	types := alerts.Types()
	for i, t := range f.AlertTypes {
		if !slices.Contains(types, t) {
			return fieldError("body.alertTypes["+strconv.Itoa(i)+"]", "no such alert type (GET /alert-types lists them)", t)
		}
	}
	if f.MinSeverity == "" {
		f.MinSeverity = alerts.SeverityInfo
	}
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" {
		return fieldError("body.name", "must not be blank", nil)
	}
	return nil
}

func (s *Server) sealWebhookSecret(secret string) (string, error) {
	if s.secrets == nil {
		return "", newProblem(http.StatusServiceUnavailable, CodeUnavailable, "no encryption key is configured (ROLLCALL_ENCRYPTION_KEY)")
	}
	return s.secrets.Seal([]byte(secret), alerts.SecretAAD)
}

func (s *Server) listWebhooks(ctx context.Context, _ *struct{}) (*WebhookListOutput, error) {
	rows, err := store.ListWebhooks(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := &WebhookListOutput{}
	out.Body.Items = make([]WebhookBody, len(rows))
	for i := range rows {
		out.Body.Items[i] = webhookBody(&rows[i])
	}
	return out, nil
}

func (s *Server) createWebhook(ctx context.Context, in *CreateWebhookInput) (*WebhookOutput, error) {
	f := in.Body
	if err := checkWebhookFields(&f); err != nil {
		return nil, err
	}
	if f.Secret == "" {
		return nil, fieldError("body.secret", "is required: the receiver checks each delivery's signature with it", nil)
	}
	sealed, err := s.sealWebhookSecret(f.Secret)
	if err != nil {
		return nil, err
	}
	uid := auth.PrincipalFromContext(ctx).UserID
	w := &store.AlertWebhook{Name: f.Name, URL: f.URL, Secret: sealed, AlertTypes: f.AlertTypes, MinSeverity: f.MinSeverity,
		Enabled: f.Enabled == nil || *f.Enabled, CreatedBy: &uid}
	if err := store.CreateWebhook(ctx, s.db, w); err != nil {
		return nil, problemFor(err, "webhook "+f.Name)
	}
	return &WebhookOutput{Body: webhookBody(w)}, nil
}

func (s *Server) getWebhook(ctx context.Context, in *WebhookIDInput) (*WebhookOutput, error) {
	w, err := store.FindWebhook(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "webhook")
	}
	return &WebhookOutput{Body: webhookBody(w)}, nil
}

func (s *Server) updateWebhook(ctx context.Context, in *UpdateWebhookInput) (*WebhookOutput, error) {
	f := in.Body
	if err := checkWebhookFields(&f); err != nil {
		return nil, err
	}
	w, err := store.FindWebhook(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "webhook")
	}
	switch {
	case f.Secret != "":
		if w.Secret, err = s.sealWebhookSecret(f.Secret); err != nil {
			return nil, err
		}
	case !sameEndpoint(w.URL, f.URL):
		// The secret was given for the old receiver: a new one must be
		// chosen for a new destination.
		return nil, fieldError("body.secret", "is required when the URL's scheme, host or port change", nil)
	}
	w.Name, w.URL, w.AlertTypes, w.MinSeverity = f.Name, f.URL, f.AlertTypes, f.MinSeverity
	if f.Enabled != nil {
		w.Enabled = *f.Enabled
	}
	if err := store.UpdateWebhook(ctx, s.db, w, s.now().UTC()); err != nil {
		return nil, problemFor(err, "webhook "+f.Name)
	}
	return &WebhookOutput{Body: webhookBody(w)}, nil
}

// sameEndpoint reports whether two URLs reach the same scheme, host and port.
func sameEndpoint(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(ua.Hostname(), ub.Hostname()) && ua.Port() == ub.Port()
}

func (s *Server) deleteWebhook(ctx context.Context, in *WebhookIDInput) (*struct{}, error) {
	if err := store.DeleteWebhook(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "webhook")
	}
	return nil, nil
}

func (s *Server) testWebhook(ctx context.Context, in *WebhookIDInput) (*TestWebhookOutput, error) {
	if _, err := store.FindWebhook(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "webhook")
	}
	if s.temporal == nil {
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "workflows are not available")
	}
	id, err := s.alertService().DeliverTest(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &TestWebhookOutput{}
	out.Body.DeliveryID = id
	return out, nil
}

func (s *Server) listDeliveries(ctx context.Context, in *DeliveryListInput) (*DeliveryListOutput, error) {
	if _, err := store.FindWebhook(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "webhook")
	}
	rows, err := store.FindDeliveries(ctx, s.db, in.ID, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &DeliveryListOutput{}
	out.Body.Items = make([]DeliveryBody, len(rows))
	for i, d := range rows {
		out.Body.Items[i] = DeliveryBody{ID: d.ID, AlertID: d.AlertID, Event: d.Event, Status: d.Status, Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
	}
	return out, nil
}
