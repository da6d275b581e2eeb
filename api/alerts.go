package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

// ListAlertsInput filters GET /alerts.
type ListAlertsInput struct {
	Status     []string  `query:"status" enum:"open,acknowledged,resolved" doc:"Statuses to include (repeat or comma-separate); default all"`
	Type       string    `query:"type" enum:"camera_offline,provider_down,provider_slow,odoo_sync_failed,export_failed,task_queue_no_workers,unknown_face"`
	Severity   string    `query:"severity" enum:"info,warning,critical"`
	SourceType string    `query:"sourceType" enum:"camera,provider,odoo,export,task_queue"`
	SourceID   string    `query:"sourceId" maxLength:"200" doc:"The camera, provider, queue... an alert is about"`
	Since      time.Time `query:"since" doc:"Only alerts last seen at or after this time"`
	Until      time.Time `query:"until" doc:"Only alerts last seen before this time"`
	Cursor     string    `query:"cursor" maxLength:"512"`
	Limit      int       `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// AlertListOutput is a page of alerts, the most recently seen first.
type AlertListOutput struct {
	Body struct {
		Items      []alerts.AlertView `json:"items"`
		NextCursor string             `json:"nextCursor,omitempty"`
		// Open counts the open and acknowledged alerts by severity, whatever the filters.
		Open map[string]int `json:"open" example:"{\"critical\":1,\"warning\":2}"`
	}
}

// AlertIDInput names one alert.
type AlertIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// AlertOutput is one alert.
type AlertOutput struct {
	Body alerts.AlertView
}

// ResolveAlertInput resolves an alert by hand.
type ResolveAlertInput struct {
	ID   string `path:"id" format:"uuid"`
	Body *struct {
		Note string `json:"note,omitempty" maxLength:"1000" example:"camera replaced" doc:"Why it is resolved (kept on the alert)"`
	}
}

// AlertTypeBody describes one alert type.
type AlertTypeBody struct {
	Type       string   `json:"type" example:"camera_offline"`
	Severity   string   `json:"severity" enum:"info,warning,critical"`
	SourceType string   `json:"sourceType" example:"camera"`
	Notifies   []string `json:"notifies" example:"[\"admin\",\"operator\"]" doc:"Roles notified when it is raised and when it clears"`
	Summary    string   `json:"summary" example:"an active camera delivers no frames"`
}

// AlertTypesOutput lists the alert types.
type AlertTypesOutput struct {
	Body struct {
		Items []AlertTypeBody `json:"items"`
	}
}

func registerAlerts(api huma.API, s *Server) {
	register(api, op{ID: "list-alerts", Method: http.MethodGet, Path: "/alerts", Tag: "Alerts", Perm: auth.PermAlertsRead,
		Summary: "Alerts, the most recently seen first, with filters"}, s.listAlerts)
	register(api, op{ID: "list-alert-types", Method: http.MethodGet, Path: "/alert-types", Tag: "Alerts", Perm: auth.PermAlertsRead,
		Summary: "The alert types the system raises, with severity and who is notified"}, s.listAlertTypes)
	register(api, op{ID: "get-alert", Method: http.MethodGet, Path: "/alerts/{id}", Tag: "Alerts", Perm: auth.PermAlertsRead,
		Summary: "One alert"}, s.getAlert)
	register(api, op{ID: "acknowledge-alert", Method: http.MethodPost, Path: "/alerts/{id}/acknowledge", Tag: "Alerts", Perm: auth.PermAlertsWrite,
		Summary: "Acknowledge an alert (someone is on it); it stays until its cause clears or it is resolved",
		Desc:    "Acknowledging an acknowledged alert changes nothing; a resolved alert answers 409."}, s.acknowledgeAlert)
	register(api, op{ID: "resolve-alert", Method: http.MethodPost, Path: "/alerts/{id}/resolve", Tag: "Alerts", Perm: auth.PermAlertsWrite,
		Summary: "Resolve an alert by hand, with a note",
		Desc:    "If the cause is still there, the next check raises a new alert. A resolved alert answers 409."}, s.resolveAlert)
}

func (s *Server) alertService() *alerts.Service {
	svc := &alerts.Service{DB: s.db, Log: s.log, Temporal: s.temporal, TaskQueue: rctemporal.TaskQueueDefault, Now: s.now}
	if s.live != nil {
		svc.Live = s.live
	}
	return svc
}

func (s *Server) listAlerts(ctx context.Context, in *ListAlertsInput) (*AlertListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.AlertFilter{Statuses: in.Status, Type: in.Type, Severity: in.Severity, SourceType: in.SourceType,
		SourceID: in.SourceID, After: after, Limit: in.Limit + 1}
	if f.Since, f.Until, err = timeRange(in.Since, in.Until); err != nil {
		return nil, err
	}
	rows, err := store.FindAlerts(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &AlertListOutput{}
	out.Body.Items, out.Body.NextCursor = page(rows, in.Limit, alerts.View,
		func(a *store.Alert) store.Cursor { return store.Cursor{Time: a.LastSeenAt, ID: a.ID} })
	if out.Body.Open, err = store.CountOpenAlerts(ctx, s.db); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) listAlertTypes(context.Context, *struct{}) (*AlertTypesOutput, error) {
	out := &AlertTypesOutput{}
	for _, k := range alerts.Kinds {
		b := AlertTypeBody{Type: k.Type, Severity: k.Severity, SourceType: k.SourceType, Summary: k.Summary}
		for _, r := range k.Roles {
			b.Notifies = append(b.Notifies, string(r))
		}
		out.Body.Items = append(out.Body.Items, b)
	}
	return out, nil
}

func (s *Server) getAlert(ctx context.Context, in *AlertIDInput) (*AlertOutput, error) {
	a, err := store.FindAlert(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "alert")
	}
	return &AlertOutput{Body: alerts.View(a)}, nil
}

func (s *Server) acknowledgeAlert(ctx context.Context, in *AlertIDInput) (*AlertOutput, error) {
	p := auth.PrincipalFromContext(ctx)
	a, err := store.AcknowledgeAlert(ctx, s.db, in.ID, p.UserID, s.now().UTC())
	if err != nil {
		return nil, alertProblem(err)
	}
	s.alertService().Changed(ctx, a, alerts.EventAcknowledged)
	return &AlertOutput{Body: alerts.View(a)}, nil
}

func (s *Server) resolveAlert(ctx context.Context, in *ResolveAlertInput) (*AlertOutput, error) {
	p := auth.PrincipalFromContext(ctx)
	note := ""
	if in.Body != nil {
		note = in.Body.Note
	}
	a, err := store.ResolveAlert(ctx, s.db, in.ID, p.UserID, note, s.now().UTC())
	if err != nil {
		return nil, alertProblem(err)
	}
	s.alertService().Changed(ctx, a, alerts.EventResolved)
	return &AlertOutput{Body: alerts.View(a)}, nil
}

func alertProblem(err error) error {
	if errors.Is(err, store.ErrAlertResolved) {
		return newProblem(http.StatusConflict, CodeConflict, "the alert is already resolved")
	}
	return problemFor(err, "alert")
}
