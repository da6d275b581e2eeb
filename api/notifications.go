package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// ListNotificationsInput pages the caller's notifications.
type ListNotificationsInput struct {
	Unread bool   `query:"unread" doc:"Only unread notifications"`
	Cursor string `query:"cursor" maxLength:"512"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// NotificationListOutput is a page of the caller's notifications, newest first.
type NotificationListOutput struct {
	Body struct {
		Items      []alerts.NotificationView `json:"items"`
		NextCursor string                    `json:"nextCursor,omitempty"`
		Unread     int64                     `json:"unread" example:"3" doc:"Unread notifications in all"`
	}
}

// UnreadCountOutput is the caller's unread count.
type UnreadCountOutput struct {
	Body struct {
		Unread int64 `json:"unread" example:"3"`
	}
}

// NotificationIDInput names one of the caller's notifications.
type NotificationIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// NotificationOutput is one notification.
type NotificationOutput struct {
	Body alerts.NotificationView
}

// MarkAllReadOutput tells how many notifications were marked read.
type MarkAllReadOutput struct {
	Body struct {
		Marked int64 `json:"marked" example:"5"`
	}
}

// SendNotificationInput is a direct message to users, a role, or both.
type SendNotificationInput struct {
	Body struct {
		UserIDs  []string `json:"userIds,omitempty" maxItems:"500" uniqueItems:"true" doc:"Users to notify" example:"[\"5f0c6a2e-1d2b-4c4e-9a51-3e1f7a9b2c10\"]"`
		Roles    []string `json:"roles,omitempty" maxItems:"4" uniqueItems:"true" doc:"Every active user of these roles is notified" example:"[\"operator\"]"`
		Severity string   `json:"severity,omitempty" enum:"info,warning,critical" default:"info"`
		Title    string   `json:"title" minLength:"1" maxLength:"200" example:"Camera maintenance tonight"`
		Body     string   `json:"body,omitempty" maxLength:"4000" example:"The lobby cameras are off from 22:00 to 23:00."`
	}
}

// SendNotificationOutput tells how many users were notified.
type SendNotificationOutput struct {
	Body struct {
		Notified int `json:"notified" example:"4"`
	}
}

func registerNotifications(api huma.API, s *Server) {
	register(api, op{ID: "list-notifications", Method: http.MethodGet, Path: "/notifications", Tag: "Notifications", Perm: auth.PermAccountSelf,
		Summary: "Your notifications, newest first"}, s.listNotifications)
	register(api, op{ID: "count-unread-notifications", Method: http.MethodGet, Path: "/notifications/unread-count", Tag: "Notifications", Perm: auth.PermAccountSelf,
		Summary: "How many of your notifications are unread"}, s.countUnreadNotifications)
	register(api, op{ID: "read-notification", Method: http.MethodPost, Path: "/notifications/{id}/read", Tag: "Notifications", Perm: auth.PermAccountSelf,
		Summary: "Mark one of your notifications read"}, s.readNotification)
	register(api, op{ID: "read-all-notifications", Method: http.MethodPost, Path: "/notifications/read-all", Tag: "Notifications", Perm: auth.PermAccountSelf,
		Summary: "Mark all your notifications read"}, s.readAllNotifications)
	register(api, op{ID: "send-notification", Method: http.MethodPost, Path: "/notifications", Tag: "Notifications", Perm: auth.PermUsersManage,
		Summary: "Send a notification to users and/or every user of some roles",
		Status:  http.StatusCreated}, s.sendNotification)
}

func (s *Server) listNotifications(ctx context.Context, in *ListNotificationsInput) (*NotificationListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	uid := auth.PrincipalFromContext(ctx).UserID
	rows, err := store.FindNotifications(ctx, s.db, store.NotificationFilter{UserID: uid, UnreadOnly: in.Unread, After: after, Limit: in.Limit + 1})
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &NotificationListOutput{}
	out.Body.Items, out.Body.NextCursor = page(rows, in.Limit, alerts.NotificationFor,
		func(n *store.Notification) store.Cursor { return store.Cursor{Time: n.CreatedAt, ID: n.ID} })
	if out.Body.Unread, err = store.CountUnreadNotifications(ctx, s.db, uid); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) countUnreadNotifications(ctx context.Context, _ *struct{}) (*UnreadCountOutput, error) {
	n, err := store.CountUnreadNotifications(ctx, s.db, auth.PrincipalFromContext(ctx).UserID)
	if err != nil {
		return nil, err
	}
	out := &UnreadCountOutput{}
	out.Body.Unread = n
	return out, nil
}

func (s *Server) readNotification(ctx context.Context, in *NotificationIDInput) (*NotificationOutput, error) {
	n, err := store.MarkNotificationRead(ctx, s.db, auth.PrincipalFromContext(ctx).UserID, in.ID, s.now().UTC())
	if err != nil {
		// Another user's notification is as unknown as a missing one.
		return nil, problemFor(err, "notification")
	}
	return &NotificationOutput{Body: alerts.NotificationFor(n)}, nil
}

func (s *Server) readAllNotifications(ctx context.Context, _ *struct{}) (*MarkAllReadOutput, error) {
	n, err := store.MarkAllNotificationsRead(ctx, s.db, auth.PrincipalFromContext(ctx).UserID, s.now().UTC())
	if err != nil {
		return nil, err
	}
	out := &MarkAllReadOutput{}
	out.Body.Marked = n
	return out, nil
}

func (s *Server) sendNotification(ctx context.Context, in *SendNotificationInput) (*SendNotificationOutput, error) {
	b := in.Body
	if len(b.UserIDs) == 0 && len(b.Roles) == 0 {
		return nil, fieldError("body.userIds", "name at least one user or role", nil)
	}
	for i, r := range b.Roles {
		if !slices.ContainsFunc(auth.Roles(), func(ri auth.RoleInfo) bool { return string(ri.Name) == r }) {
			return nil, fieldError("body.roles["+strconv.Itoa(i)+"]", "no such role", r)
		}
	}
	users := slices.Clone(b.UserIDs)
	for i, id := range users {
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			return nil, fieldError("body.userIds["+strconv.Itoa(i)+"]", "not a user id", id)
		}
		u, err := store.FindUserByID(ctx, s.db, id)
		if err != nil || !u.IsActive {
			return nil, fieldError("body.userIds["+strconv.Itoa(i)+"]", "no such active user", id)
		}
	}
	byRole, err := store.ActiveUserIDsWithRoles(ctx, s.db, b.Roles)
	if err != nil {
		return nil, err
	}
	for _, id := range byRole {
		if !slices.Contains(users, id) {
			users = append(users, id)
		}
	}
	sender := auth.PrincipalFromContext(ctx).UserID
	rows, err := s.alertService().NotifyDirect(ctx, store.Notification{Severity: cmp.Or(b.Severity, alerts.SeverityInfo),
		Title: b.Title, Body: b.Body, SenderID: &sender}, users)
	if err != nil {
		return nil, err
	}
	out := &SendNotificationOutput{}
	out.Body.Notified = len(rows)
	return out, nil
}
