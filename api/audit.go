package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// AuditEntry is one audited mutation.
type AuditEntry struct {
	ID         int64           `json:"id"`
	OccurredAt time.Time       `json:"occurredAt"`
	UserID     string          `json:"userId,omitempty"`
	Username   string          `json:"username,omitempty"`
	Action     string          `json:"action" doc:"Operation ID, e.g. create-user" example:"create-user"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Resource   string          `json:"resource" example:"users"`
	ResourceID string          `json:"resourceId,omitempty"`
	Status     int             `json:"status"`
	IP         string          `json:"ip"`
	UserAgent  string          `json:"userAgent,omitempty"`
	RequestID  string          `json:"requestId"`
	Changes    json.RawMessage `json:"changes,omitempty" doc:"Request fields, secrets redacted"`
}

// ListAuditInput filters GET /audit.
type ListAuditInput struct {
	UserID   string    `query:"userId" format:"uuid"`
	Resource string    `query:"resource" maxLength:"64" example:"users"`
	Action   string    `query:"action" maxLength:"64" example:"delete-user"`
	Since    time.Time `query:"since" doc:"RFC 3339; entries at or after"`
	Until    time.Time `query:"until" doc:"RFC 3339; entries before"`
	Cursor   string    `query:"cursor" maxLength:"512"`
	Limit    int       `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

// AuditListOutput is one page of audit entries, newest first.
type AuditListOutput struct {
	Body struct {
		Items      []AuditEntry `json:"items"`
		NextCursor string       `json:"nextCursor,omitempty"`
	}
}

func registerAudit(api huma.API, s *Server) {
	register(api, op{ID: "list-audit", Method: http.MethodGet, Path: "/audit", Tag: "Audit", Perm: auth.PermAuditRead,
		Summary: "Audit log of every mutation, newest first"}, s.listAudit)
}

func (s *Server) listAudit(ctx context.Context, in *ListAuditInput) (*AuditListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.AuditFilter{UserID: in.UserID, Resource: in.Resource, Action: in.Action, After: after, Limit: in.Limit + 1}
	if f.Since, f.Until, err = timeRange(in.Since, in.Until); err != nil {
		return nil, err
	}
	rows, err := store.FindAudit(ctx, s.db, f)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &AuditListOutput{}
	out.Body.Items, out.Body.NextCursor = page(rows, in.Limit, auditEntry,
		func(r *store.AuditLog) store.Cursor {
			return store.Cursor{Time: r.OccurredAt, ID: strconv.FormatInt(r.ID, 10)}
		})
	return out, nil
}

func auditEntry(r *store.AuditLog) AuditEntry {
	e := AuditEntry{ID: r.ID, OccurredAt: r.OccurredAt, Username: r.Username, Action: r.Action, Method: r.Method,
		Path: r.Path, Resource: r.Resource, ResourceID: r.ResourceID, Status: r.Status, IP: r.IP,
		UserAgent: r.UserAgent, RequestID: r.RequestID, Changes: r.Changes}
	if r.UserID != nil {
		e.UserID = *r.UserID
	}
	return e
}
