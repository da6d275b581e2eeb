package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Notification kinds.
const (
	NotificationAlert  = "alert"  // made from an alert, for the roles that handle it
	NotificationDirect = "direct" // sent by a person to a user or a role
)

// Notification is one message for one user.
type Notification struct {
	bun.BaseModel `bun:"table:notifications"`

	ID        string     `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	UserID    string     `bun:"user_id,type:uuid,notnull"`
	AlertID   *string    `bun:"alert_id,type:uuid"`
	Kind      string     `bun:"kind,notnull"`
	Severity  string     `bun:"severity,notnull"`
	Title     string     `bun:"title,notnull"`
	Body      string     `bun:"body,notnull"`
	SenderID  *string    `bun:"sender_id,type:uuid"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ReadAt    *time.Time `bun:"read_at"`
}

// NotifyUsers stores one copy of n for each user and returns them (with
// ids) in the order of userIDs.
func NotifyUsers(ctx context.Context, db bun.IDB, n Notification, userIDs []string, now time.Time) ([]Notification, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	rows := make([]Notification, len(userIDs))
	for i, id := range userIDs {
		rows[i] = n
		rows[i].ID, rows[i].UserID, rows[i].CreatedAt, rows[i].ReadAt = "", id, now, nil
	}
	if _, err := db.NewInsert().Model(&rows).ExcludeColumn("id").Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store: insert notifications: %w", err)
	}
	return rows, nil
}

// ActiveUserIDsWithRoles returns the ids of active users holding one of
// roles.
func ActiveUserIDsWithRoles(ctx context.Context, db bun.IDB, roles []string) ([]string, error) {
	var ids []string
	if len(roles) == 0 {
		return nil, nil
	}
	err := db.NewSelect().Model((*User)(nil)).Column("id").
		Where("role IN (?)", bun.List(roles)).Where("is_active").Order("id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("store: users with roles: %w", err)
	}
	return ids, nil
}

// NotificationFilter selects one user's notifications, newest first.
type NotificationFilter struct {
	UserID     string
	UnreadOnly bool
	After      *Cursor // Time: created_at, ID: the notification's id
	Limit      int
}

// FindNotifications returns a page of a user's notifications.
func FindNotifications(ctx context.Context, db bun.IDB, f NotificationFilter) ([]Notification, error) {
	var out []Notification
	q := db.NewSelect().Model(&out).Where("user_id = ?", f.UserID)
	if f.UnreadOnly {
		q = q.Where("read_at IS NULL")
	}
	if f.After != nil {
		if f.After.Time.IsZero() || !isUUIDText(f.After.ID) {
			return nil, ErrBadCursor
		}
		q = q.Where("(created_at, id) < (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("created_at DESC", "id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	return out, nil
}

// CountUnreadNotifications counts a user's unread notifications.
func CountUnreadNotifications(ctx context.Context, db bun.IDB, userID string) (int64, error) {
	n, err := db.NewSelect().Model((*Notification)(nil)).Where("user_id = ?", userID).Where("read_at IS NULL").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count unread notifications: %w", err)
	}
	return n, nil
}

// MarkNotificationRead marks one of a user's notifications read (another
// user's notification is ErrNotFound). Reading it again changes nothing.
func MarkNotificationRead(ctx context.Context, db bun.IDB, userID, id string, now time.Time) (*Notification, error) {
	var n Notification
	err := db.NewUpdate().Model(&n).Set("read_at = COALESCE(read_at, ?)", now).
		Where("id = ?", id).Where("user_id = ?", userID).Returning("*").Scan(ctx)
	if err != nil {
		return nil, notFound(err, "notification "+id)
	}
	return &n, nil
}

// MarkAllNotificationsRead marks every unread notification of a user read
// and returns how many.
func MarkAllNotificationsRead(ctx context.Context, db bun.IDB, userID string, now time.Time) (int64, error) {
	res, err := db.NewUpdate().Model((*Notification)(nil)).Set("read_at = ?", now).
		Where("user_id = ?", userID).Where("read_at IS NULL").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: mark notifications read: %w", err)
	}
	return res.RowsAffected()
}
