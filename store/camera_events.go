package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// CameraEvent is one health or state change of a camera.
type CameraEvent struct {
	bun.BaseModel `bun:"table:camera_events"`

	ID         int64     `bun:"id,pk,autoincrement"`
	CameraID   string    `bun:"camera_id,type:uuid,notnull"`
	OccurredAt time.Time `bun:"occurred_at,notnull"`
	Kind       string    `bun:"kind,notnull"` // health or state
	FromValue  string    `bun:"from_value,notnull"`
	ToValue    string    `bun:"to_value,notnull"`
	Message    string    `bun:"message,notnull"`
}

// StreamInfo is what a probe learned about a camera's video.
type StreamInfo struct {
	Codec         string
	Width, Height int
	FPS           float64
}

// HealthChange is the outcome of RecordCameraHealth.
type HealthChange struct {
	Changed  bool
	From, To string
}

// RecordCameraHealth stores a probe's outcome: health, last error, stream
// info (when online) and check time, and records an event when the health
// changed. A camera deleted meanwhile gives ErrNotFound.
func RecordCameraHealth(ctx context.Context, db bun.IDB, id, health, lastError string, info *StreamInfo, now time.Time) (HealthChange, error) {
	var change HealthChange
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var prev string
		if err := tx.NewSelect().Model((*Camera)(nil)).Column("health").Where("id = ?", id).For("UPDATE").Scan(ctx, &prev); err != nil {
			return notFound(err, "find camera "+id)
		}
		q := tx.NewUpdate().Model((*Camera)(nil)).Where("id = ?", id).
			Set("health = ?", health).Set("last_error = ?", lastError).Set("last_checked_at = ?", now)
		if health == "online" {
			q = q.Set("last_seen_at = ?", now)
		}
		if info != nil {
			q = q.Set("stream_codec = ?", info.Codec).Set("stream_width = ?", info.Width).
				Set("stream_height = ?", info.Height).Set("stream_fps = ?", info.FPS)
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("store: record camera health: %w", err)
		}
		change = HealthChange{Changed: prev != health, From: prev, To: health}
		if change.Changed {
			return insertCameraEvent(ctx, tx, id, "health", prev, health, lastError, now)
		}
		return nil
	})
	return change, err
}

func insertCameraEvent(ctx context.Context, db bun.IDB, cameraID, kind, from, to, message string, now time.Time) error {
	e := &CameraEvent{CameraID: cameraID, OccurredAt: now, Kind: kind, FromValue: from, ToValue: to, Message: message}
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert camera event: %w", err)
	}
	return nil
}

// Camera event kinds.
const (
	CameraEventHealth = "health" // online, offline, error (FromValue → ToValue)
	CameraEventState  = "state"  // active, inactive, maintenance
	CameraEventConfig = "config" // the configuration was changed (Message lists what)
)

// RecordCameraEvent stores one event of a camera.
func RecordCameraEvent(ctx context.Context, db bun.IDB, cameraID, kind, from, to, message string, now time.Time) error {
	return insertCameraEvent(ctx, db, cameraID, kind, from, to, message, now)
}

// CameraEventFilter selects a camera's events, newest first.
type CameraEventFilter struct {
	CameraID     string
	Kind         string
	Since, Until *time.Time
	After        *Cursor // Time: occurred_at, ID: the event's id
	Limit        int
}

// FindCameraEvents returns a camera's events, newest first, after the
// cursor.
func FindCameraEvents(ctx context.Context, db bun.IDB, f CameraEventFilter) ([]CameraEvent, error) {
	var evs []CameraEvent
	q := db.NewSelect().Model(&evs).Where("camera_id = ?", f.CameraID)
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Since != nil {
		q = q.Where("occurred_at >= ?", *f.Since)
	}
	if f.Until != nil {
		q = q.Where("occurred_at < ?", *f.Until)
	}
	if f.After != nil {
		id, err := strconv.ParseInt(f.After.ID, 10, 64)
		if err != nil || f.After.Time.IsZero() {
			return nil, ErrBadCursor
		}
		q = q.Where("(occurred_at, id) < (?, ?)", f.After.Time, id)
	}
	if err := q.Order("occurred_at DESC", "id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: camera events: %w", err)
	}
	return evs, nil
}

// CamerasToProbe returns the IDs of cameras that are not active (inactive
// or in maintenance) and not checked since staleBefore. An active camera's
// health is its stream's: online while frames arrive, offline when they
// stop, so a camera that answers probes but sends no frames does not flap.
func CamerasToProbe(ctx context.Context, db bun.IDB, staleBefore time.Time) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*Camera)(nil)).Column("id").
		Where("state <> 'active'").Where("(last_checked_at IS NULL OR last_checked_at < ?)", staleBefore).
		OrderExpr("last_checked_at ASC NULLS FIRST, id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: cameras to probe: %w", err)
	}
	return ids, nil
}
