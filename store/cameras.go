package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Camera is a registered camera. Credentials holds the sealed username and
// password; it is never shown.
type Camera struct {
	bun.BaseModel `bun:"table:cameras"`

	ID            string     `bun:"id,pk,type:uuid"`
	Name          string     `bun:"name,notnull"`
	Site          string     `bun:"site,notnull"`
	Location      string     `bun:"location,notnull"`
	StreamURL     string     `bun:"stream_url,notnull"`
	Credentials   string     `bun:"credentials,notnull"`
	Direction     string     `bun:"direction,notnull"`
	FPS           float64    `bun:"fps,notnull"`
	Timezone      string     `bun:"timezone,notnull"`
	Tags          []string   `bun:"tags,array,notnull"`
	State         string     `bun:"state,notnull"`
	Health        string     `bun:"health,notnull"`
	LastSeenAt    *time.Time `bun:"last_seen_at"`
	LastCheckedAt *time.Time `bun:"last_checked_at"`
	LastError     string     `bun:"last_error,notnull"`
	StreamCodec   string     `bun:"stream_codec,notnull"`
	StreamWidth   int        `bun:"stream_width,notnull"`
	StreamHeight  int        `bun:"stream_height,notnull"`
	StreamFPS     float64    `bun:"stream_fps,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull,default:current_timestamp"`

	// WindowTotal is filled by FindCameras on a first page: the number of
	// cameras matching the filter.
	WindowTotal int `bun:"window_total,scanonly"`
}

// Camera sort orders accepted by FindCameras.
const (
	CameraSortName          = "name"
	CameraSortNameDesc      = "-name"
	CameraSortCreatedAt     = "createdAt"
	CameraSortCreatedAtDesc = "-createdAt"
)

// CameraFilter selects cameras for FindCameras.
type CameraFilter struct {
	State, Health, Site, Direction, Tag string
	Query                               string // matches name, site and location
	Sort                                string // one of the CameraSort constants; default name
	After                               *Cursor
	Limit                               int
}

// CameraCursor is the keyset position after c for the given sort.
func CameraCursor(c *Camera, sort string) Cursor {
	if sort == CameraSortCreatedAt || sort == CameraSortCreatedAtDesc {
		return Cursor{Time: c.CreatedAt, ID: c.ID}
	}
	return Cursor{Text: strings.ToLower(c.Name), ID: c.ID}
}

// FindCameras returns one page of cameras in one round trip. On the first
// page (no cursor) it also returns the total matching the filter; on later
// pages total is -1 (counting would mean scanning what the keyset skips).
func FindCameras(ctx context.Context, db bun.IDB, f CameraFilter) ([]Camera, int, error) {
	var cams []Camera
	q := db.NewSelect().Model(&cams)
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.Health != "" {
		q = q.Where("health = ?", f.Health)
	}
	if f.Site != "" {
		q = q.Where("site = ?", f.Site)
	}
	if f.Direction != "" {
		q = q.Where("direction = ?", f.Direction)
	}
	if f.Tag != "" {
		q = q.Where("? = ANY(tags)", strings.ToLower(f.Tag))
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("lower(name) LIKE ?", like).WhereOr("lower(site) LIKE ?", like).WhereOr("lower(location) LIKE ?", like)
		})
	}
	total := -1
	if f.After == nil {
		q = q.ColumnExpr("camera.*").ColumnExpr("count(*) OVER () AS window_total")
	}
	switch f.Sort {
	case CameraSortCreatedAt:
		if f.After != nil {
			q = q.Where("(created_at, id) > (?, ?)", f.After.Time, f.After.ID)
		}
		q = q.Order("created_at ASC", "id ASC")
	case CameraSortCreatedAtDesc:
		if f.After != nil {
			q = q.Where("(created_at, id) < (?, ?)", f.After.Time, f.After.ID)
		}
		q = q.Order("created_at DESC", "id DESC")
	case CameraSortNameDesc:
		if f.After != nil {
			q = q.Where("(lower(name), id) < (?, ?)", f.After.Text, f.After.ID)
		}
		q = q.OrderExpr("lower(name) DESC, id DESC")
	default:
		if f.After != nil {
			q = q.Where("(lower(name), id) > (?, ?)", f.After.Text, f.After.ID)
		}
		q = q.OrderExpr("lower(name) ASC, id ASC")
	}
	if err := q.Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: find cameras: %w", err)
	}
	if f.After == nil {
		total = 0
		if len(cams) > 0 {
			total = cams[0].WindowTotal
		}
	}
	return cams, total, nil
}

// AllCameras returns every camera ordered by name (export).
func AllCameras(ctx context.Context, db bun.IDB) ([]Camera, error) {
	var cams []Camera
	if err := db.NewSelect().Model(&cams).OrderExpr("lower(name), id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: all cameras: %w", err)
	}
	return cams, nil
}

// FindCameraByID returns the camera, or ErrNotFound.
func FindCameraByID(ctx context.Context, db bun.IDB, id string) (*Camera, error) {
	c := new(Camera)
	if err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find camera "+id)
	}
	return c, nil
}

// CreateCamera inserts c (c.ID must be set). A taken name gives ErrConflict.
func CreateCamera(ctx context.Context, db bun.IDB, c *Camera) error {
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if _, err := db.NewInsert().Model(c).Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create camera %q: %w", c.Name, ErrConflict)
		}
		return fmt.Errorf("store: create camera: %w", err)
	}
	return nil
}

// cameraConfigColumns are the columns a client edits.
var cameraConfigColumns = []string{"name", "site", "location", "stream_url", "credentials", "direction", "fps", "timezone", "tags", "updated_at"}

// UpdateCamera writes c's configuration (not state or health). A taken
// name gives ErrConflict, a missing camera ErrNotFound.
func UpdateCamera(ctx context.Context, db bun.IDB, c *Camera) error {
	if c.Tags == nil {
		c.Tags = []string{}
	}
	c.UpdatedAt = time.Now()
	res, err := db.NewUpdate().Model(c).Column(cameraConfigColumns...).WherePK().Returning("*").Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: update camera %q: %w", c.Name, ErrConflict)
		}
		return fmt.Errorf("store: update camera: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update camera %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// SetCameraState changes a camera's state and records the change as an
// event. It returns the updated camera and its previous state.
func SetCameraState(ctx context.Context, db bun.IDB, id, state, message string, now time.Time) (*Camera, string, error) {
	c := new(Camera)
	var prev string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(c).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "find camera "+id)
		}
		prev = c.State
		if prev == state {
			return nil
		}
		c.State, c.UpdatedAt = state, now
		if _, err := tx.NewUpdate().Model(c).Column("state", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: set camera state: %w", err)
		}
		return insertCameraEvent(ctx, tx, id, "state", prev, state, message, now)
	})
	if err != nil {
		return nil, "", err
	}
	return c, prev, nil
}

// DeleteCamera removes a camera and its events; a missing one gives ErrNotFound.
func DeleteCamera(ctx context.Context, db bun.IDB, id string) error {
	res, err := db.NewDelete().Model((*Camera)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete camera %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete camera %s: %w", id, ErrNotFound)
	}
	return nil
}

// ExistingCameraIDs tells which of ids are cameras.
func ExistingCameraIDs(ctx context.Context, db bun.IDB, ids []string) (map[string]bool, error) {
	var found []string
	if err := db.NewSelect().Model((*Camera)(nil)).Column("id").Where("id IN (?)", bun.List(ids)).Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("store: existing cameras: %w", err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// ActiveCameraIDs returns the IDs of every active camera.
func ActiveCameraIDs(ctx context.Context, db bun.IDB) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*Camera)(nil)).Column("id").Where("state = 'active'").Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: active cameras: %w", err)
	}
	return ids, nil
}
