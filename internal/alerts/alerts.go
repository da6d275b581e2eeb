// Package alerts raises and clears Rollcall's alerts and fans each new one
// out: notifications for the roles that handle it, live events on the
// "alerts" and "notifications:<userId>" channels, and signed deliveries to
// the webhooks that take it.
//
// One alert is open per cause (its de-duplication key, type:source):
// raising the cause again counts an occurrence on the open alert and tells
// nobody twice; clearing the cause resolves it.
package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/store"
)

// Alert types.
const (
	TypeCameraOffline  = "camera_offline"
	TypeProviderDown   = "provider_down"
	TypeProviderSlow   = "provider_slow"
	TypeOdooSyncFailed = "odoo_sync_failed"
	TypeExportFailed   = "export_failed"
	TypeQueueNoWorkers = "task_queue_no_workers"
	TypeUnknownFace    = "unknown_face"
)

// Severities, least to most severe.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Severities lists the severities, least to most severe.
var Severities = []string{SeverityInfo, SeverityWarning, SeverityCritical}

// Kind describes one alert type: how severe, what it is about, and which
// roles are notified.
type Kind struct {
	Type       string
	Severity   string
	SourceType string // camera, provider, odoo, export, task_queue
	Roles      []auth.Role
	Summary    string
}

// Kinds is the catalog of alert types; docs/operations.md has a runbook
// for each.
var Kinds = []Kind{
	{TypeCameraOffline, SeverityCritical, "camera", []auth.Role{auth.RoleAdmin, auth.RoleOperator}, "an active camera delivers no frames"},
	{TypeProviderDown, SeverityCritical, "provider", []auth.Role{auth.RoleAdmin, auth.RoleOperator}, "the face provider does not answer its health check"},
	{TypeProviderSlow, SeverityWarning, "provider", []auth.Role{auth.RoleAdmin, auth.RoleOperator}, "the face provider answers slower than the threshold"},
	{TypeOdooSyncFailed, SeverityWarning, "odoo", []auth.Role{auth.RoleAdmin, auth.RoleHR}, "attendance could not be synced to Odoo"},
	{TypeExportFailed, SeverityWarning, "export", []auth.Role{auth.RoleAdmin, auth.RoleHR}, "an attendance export failed"},
	{TypeQueueNoWorkers, SeverityCritical, "task_queue", []auth.Role{auth.RoleAdmin, auth.RoleOperator}, "no worker polls one of Rollcall's task queues"},
	{TypeUnknownFace, SeverityInfo, "camera", []auth.Role{auth.RoleAdmin, auth.RoleOperator}, "faces nobody is registered for were seen"},
}

// KindOf returns the kind of an alert type.
func KindOf(typ string) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.Type == typ })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// Types lists the alert type names.
func Types() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Type
	}
	return out
}

// Live event types.
const (
	EventRaised       = "alert.raised"
	EventUpdated      = "alert.updated" // another occurrence of an open alert
	EventAcknowledged = "alert.acknowledged"
	EventResolved     = "alert.resolved"
	EventNotification = "notification.created"
)

// Publisher publishes live events (live.Hub).
type Publisher interface {
	Publish(ctx context.Context, channel string, e live.Event) error
}

// Service raises and clears alerts.
type Service struct {
	DB  bun.IDB
	Log *slog.Logger
	// Live publishes events (nil: none).
	Live Publisher
	// Temporal starts webhook deliveries on TaskQueue (nil: no webhooks
	// are sent).
	Temporal  client.Client
	TaskQueue string
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Spec is a cause to raise an alert for.
type Spec struct {
	Type     string
	SourceID string // the camera, provider, queue... the alert is about
	Message  string
	Details  map[string]any
}

// Key is the de-duplication key of an alert type about a source.
func Key(typ, sourceID string) string { return typ + ":" + sourceID }

// Raise opens an alert for spec's cause or counts another occurrence on
// the open one. Only a new alert notifies and calls webhooks.
func (s *Service) Raise(ctx context.Context, spec Spec) (*store.Alert, error) {
	k, ok := KindOf(spec.Type)
	if !ok {
		return nil, fmt.Errorf("alerts: unknown alert type %q", spec.Type)
	}
	a := &store.Alert{Type: k.Type, Severity: k.Severity, SourceType: k.SourceType, SourceID: spec.SourceID,
		Message: spec.Message, DedupeKey: Key(k.Type, spec.SourceID)}
	if spec.Details != nil {
		b, err := json.Marshal(spec.Details)
		if err != nil {
			return nil, fmt.Errorf("alerts: details: %w", err)
		}
		a.Details = b
	}
	created, err := store.RaiseAlert(ctx, s.DB, a, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if !created {
		s.publish(ctx, live.ChannelAlerts, EventUpdated, View(a))
		return a, nil
	}
	s.Log.Info("alert raised", slog.String("alert_id", a.ID), slog.String("type", a.Type), slog.String("source_id", a.SourceID))
	s.publish(ctx, live.ChannelAlerts, EventRaised, View(a))
	s.notifyRoles(ctx, k, a, a.Message)
	s.sendWebhooks(ctx, a, EventRaised)
	return a, nil
}

// Clear resolves the open alert of a cause, if any, because the cause
// cleared (e.g. the camera sends frames again). The roles the alert
// notified hear that it cleared.
func (s *Service) Clear(ctx context.Context, typ, sourceID, why string) (*store.Alert, error) {
	a, err := store.ResolveAlertByKey(ctx, s.DB, Key(typ, sourceID), why, s.now().UTC())
	if err != nil || a == nil {
		return nil, err
	}
	s.Log.Info("alert resolved", slog.String("alert_id", a.ID), slog.String("type", a.Type), slog.String("source_id", a.SourceID), slog.String("why", why))
	s.publish(ctx, live.ChannelAlerts, EventResolved, View(a))
	if k, ok := KindOf(a.Type); ok {
		s.notifyRoles(ctx, k, a, "Resolved: "+why)
	}
	s.sendWebhooks(ctx, a, EventResolved)
	return a, nil
}

// Changed tells dashboards and webhooks that a person acknowledged or
// resolved an alert (the change is already stored).
func (s *Service) Changed(ctx context.Context, a *store.Alert, event string) {
	s.publish(ctx, live.ChannelAlerts, event, View(a))
	if event == EventResolved {
		s.sendWebhooks(ctx, a, event)
	}
}

// NotifyDirect stores a person's message for each user and publishes it
// on their channels.
func (s *Service) NotifyDirect(ctx context.Context, n store.Notification, userIDs []string) ([]store.Notification, error) {
	n.Kind = store.NotificationDirect
	rows, err := store.NotifyUsers(ctx, s.DB, n, userIDs, s.now().UTC())
	if err != nil {
		return nil, err
	}
	for i := range rows {
		s.publish(ctx, live.ChannelNotifications+":"+rows[i].UserID, EventNotification, NotificationFor(&rows[i]))
	}
	return rows, nil
}

// notifyRoles stores a notification of a for every active user of the
// kind's roles. A failure is logged: the alert itself stands.
func (s *Service) notifyRoles(ctx context.Context, k Kind, a *store.Alert, body string) {
	roles := make([]string, len(k.Roles))
	for i, r := range k.Roles {
		roles[i] = string(r)
	}
	users, err := store.ActiveUserIDsWithRoles(ctx, s.DB, roles)
	if err == nil {
		severity := a.Severity
		if a.Status == store.AlertResolved {
			severity = SeverityInfo
		}
		var rows []store.Notification
		rows, err = store.NotifyUsers(ctx, s.DB, store.Notification{AlertID: &a.ID, Kind: store.NotificationAlert,
			Severity: severity, Title: title(a), Body: body}, users, s.now().UTC())
		for i := range rows {
			s.publish(ctx, live.ChannelNotifications+":"+rows[i].UserID, EventNotification, NotificationFor(&rows[i]))
		}
	}
	if err != nil {
		s.Log.Warn("alert notifications not stored", slog.String("alert_id", a.ID), slog.String("error", err.Error()))
	}
}

func title(a *store.Alert) string {
	t := a.Type
	if k, ok := KindOf(a.Type); ok {
		t = k.Summary
	}
	if a.Status == store.AlertResolved {
		return "Cleared: " + t
	}
	return t
}

// sendWebhooks starts one delivery workflow per webhook that takes a. A
// failure to start is logged: the alert and its notifications stand.
func (s *Service) sendWebhooks(ctx context.Context, a *store.Alert, event string) {
	if s.Temporal == nil {
		return
	}
	hooks, err := store.WebhooksFor(ctx, s.DB, a.Type, Severities[:slices.Index(Severities, a.Severity)+1])
	if err != nil {
		s.Log.Warn("alert webhooks not read", slog.String("alert_id", a.ID), slog.String("error", err.Error()))
		return
	}
	for _, h := range hooks {
		if _, err := s.Deliver(ctx, h.ID, a, event); err != nil {
			s.Log.Warn("alert webhook not started", slog.String("alert_id", a.ID), slog.String("webhook_id", h.ID), slog.String("error", err.Error()))
		}
	}
}

// Deliver records a delivery of a's event to one webhook and starts the
// workflow that sends it (with retries). a nil alert sends a test event.
func (s *Service) Deliver(ctx context.Context, webhookID string, a *store.Alert, event string) (string, error) {
	if s.Temporal == nil {
		return "", errors.New("alerts: no workflow client to deliver webhooks")
	}
	d := &store.WebhookDelivery{WebhookID: webhookID, Event: event}
	if a != nil {
		d.AlertID = &a.ID
	}
	if err := store.CreateDelivery(ctx, s.DB, d); err != nil {
		return "", err
	}
	payload, err := json.Marshal(Payload{Event: event, DeliveryID: d.ID, Alert: alertViewPtr(a), OccurredAt: s.now().UTC()})
	if err != nil {
		return "", err
	}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "alert-webhook/" + d.ID,
		TaskQueue: s.TaskQueue,
		// Deliveries retry for a day (the activity's schedule-to-close).
		WorkflowExecutionTimeout: 25 * time.Hour,
	}, contract.WorkflowAlertWebhook, contract.AlertWebhookInput{DeliveryID: d.ID, WebhookID: webhookID, Event: event, Payload: payload})
	if err != nil {
		_ = store.RecordDeliveryAttempt(ctx, s.DB, d.ID, store.DeliveryFailed, 0, "not started: "+err.Error(), s.now())
		return "", fmt.Errorf("alerts: start webhook delivery: %w", err)
	}
	return d.ID, nil
}

// EventTest is the event of a test delivery (POST /alert-webhooks/{id}/test).
const EventTest = "alert.test"

// DeliverTest sends a test event to one webhook and returns the delivery.
func (s *Service) DeliverTest(ctx context.Context, webhookID string) (string, error) {
	return s.Deliver(ctx, webhookID, nil, EventTest)
}

func (s *Service) publish(ctx context.Context, channel, typ string, data any) {
	if s.Live == nil {
		return
	}
	if err := s.Live.Publish(ctx, channel, live.Event{Type: typ, Data: data}); err != nil {
		s.Log.Warn("live event not published", slog.String("channel", channel), slog.String("type", typ), slog.String("error", err.Error()))
	}
}

// AlertView is an alert as the API, live events and webhooks show it.
type AlertView struct {
	ID             string          `json:"id" format:"uuid"`
	Type           string          `json:"type" example:"camera_offline"`
	Severity       string          `json:"severity" enum:"info,warning,critical"`
	SourceType     string          `json:"sourceType" example:"camera"`
	SourceID       string          `json:"sourceId,omitempty" example:"0b6a4f7e-3c1d-4a8e-9b59-7d2f1f0c9a11"`
	Message        string          `json:"message" example:"no frame for 30s"`
	Status         string          `json:"status" enum:"open,acknowledged,resolved"`
	Occurrences    int             `json:"occurrences" example:"3"`
	Details        json.RawMessage `json:"details,omitempty"`
	FirstSeenAt    time.Time       `json:"firstSeenAt"`
	LastSeenAt     time.Time       `json:"lastSeenAt"`
	AcknowledgedBy *string         `json:"acknowledgedBy,omitempty"`
	AcknowledgedAt *time.Time      `json:"acknowledgedAt,omitempty"`
	ResolvedBy     *string         `json:"resolvedBy,omitempty" doc:"Absent for an alert resolved automatically when its cause cleared"`
	ResolvedAt     *time.Time      `json:"resolvedAt,omitempty"`
	Resolution     string          `json:"resolution,omitempty" example:"camera delivers frames again"`
}

// View returns a's view.
func View(a *store.Alert) AlertView {
	v := AlertView{ID: a.ID, Type: a.Type, Severity: a.Severity, SourceType: a.SourceType, SourceID: a.SourceID,
		Message: a.Message, Status: a.Status, Occurrences: a.Occurrences, FirstSeenAt: a.FirstSeenAt, LastSeenAt: a.LastSeenAt,
		AcknowledgedBy: a.AcknowledgedBy, AcknowledgedAt: a.AcknowledgedAt, ResolvedBy: a.ResolvedBy, ResolvedAt: a.ResolvedAt,
		Resolution: a.Resolution}
	if len(a.Details) > 0 && string(a.Details) != "{}" {
		v.Details = a.Details
	}
	return v
}

func alertViewPtr(a *store.Alert) *AlertView {
	if a == nil {
		return nil
	}
	v := View(a)
	return &v
}

// NotificationView is a notification as the API and live events show it.
type NotificationView struct {
	ID        string     `json:"id" format:"uuid"`
	Kind      string     `json:"kind" enum:"alert,direct"`
	Severity  string     `json:"severity" enum:"info,warning,critical"`
	Title     string     `json:"title" example:"an active camera delivers no frames"`
	Body      string     `json:"body,omitempty" example:"no frame for 30s"`
	AlertID   *string    `json:"alertId,omitempty"`
	SenderID  *string    `json:"senderId,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	ReadAt    *time.Time `json:"readAt,omitempty"`
}

// NotificationFor returns n's view.
func NotificationFor(n *store.Notification) NotificationView {
	return NotificationView{ID: n.ID, Kind: n.Kind, Severity: n.Severity, Title: n.Title, Body: n.Body,
		AlertID: n.AlertID, SenderID: n.SenderID, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt}
}

// Payload is the JSON body a webhook receives.
type Payload struct {
	Event      string     `json:"event" example:"alert.raised"`
	DeliveryID string     `json:"deliveryId"`
	Alert      *AlertView `json:"alert,omitempty"`
	// OccurredAt is when the event happened; each attempt's own time is in
	// the signature's t.
	OccurredAt time.Time `json:"occurredAt"`
}
