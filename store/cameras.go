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

// FindCameraEvents returns a camera's latest events, newest first.
func FindCameraEvents(ctx context.Context, db bun.IDB, cameraID string, limit int) ([]CameraEvent, error) {
	var evs []CameraEvent
	if err := db.NewSelect().Model(&evs).Where("camera_id = ?", cameraID).
		Order("occurred_at DESC", "id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: camera events: %w", err)
	}
	return evs, nil
}

// CamerasToProbe returns the IDs of active cameras not seen since staleBefore
// (a running stream keeps last_seen_at fresh; a probe is for the others).
func CamerasToProbe(ctx context.Context, db bun.IDB, staleBefore time.Time) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*Camera)(nil)).Column("id").
		Where("state = 'active'").Where("(last_seen_at IS NULL OR last_seen_at < ?)", staleBefore).
		OrderExpr("last_checked_at ASC NULLS FIRST, id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: cameras to probe: %w", err)
	}
	return ids, nil
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

// CameraCount is one bucket of the camera summary.
type CameraCount struct {
	Key   string `bun:"key"`
	Count int    `bun:"count"`
}

// CameraSummary counts cameras by state, by health and by site.
type CameraSummary struct {
	Total    int
	ByState  []CameraCount
	ByHealth []CameraCount
	BySite   []CameraCount
}

// SummarizeCameras counts cameras by state, health and site in one scan.
func SummarizeCameras(ctx context.Context, db bun.IDB) (CameraSummary, error) {
	var rows []struct {
		Dim   string `bun:"dim"`
		Key   string `bun:"key"`
		Count int    `bun:"count"`
	}
	err := db.NewRaw(`SELECT 'state' AS dim, state AS key, count(*) AS count FROM cameras GROUP BY state
		UNION ALL SELECT 'health', health, count(*) FROM cameras GROUP BY health
		UNION ALL SELECT 'site', site, count(*) FROM cameras GROUP BY site
		ORDER BY 1, 2`).Scan(ctx, &rows)
	if err != nil {
		return CameraSummary{}, fmt.Errorf("store: summarize cameras: %w", err)
	}
	var s CameraSummary
	for _, r := range rows {
		c := CameraCount{Key: r.Key, Count: r.Count}
		switch r.Dim {
		case "state":
			s.ByState = append(s.ByState, c)
			s.Total += r.Count
		case "health":
			s.ByHealth = append(s.ByHealth, c)
		case "site":
			s.BySite = append(s.BySite, c)
		}
	}
	return s, nil
}

// ImportResult counts what ImportCameras wrote.
type ImportResult struct {
	Created, Updated int
	// Cameras are the written rows, in input order, and PrevStates their
	// states before the import ("" for a created camera).
	Cameras    []Camera
	PrevStates []string
}

// ImportCameras writes cams in one transaction: all or nothing. Without
// upsert a name that exists gives ErrConflict (wrapped with the name); with
// upsert a camera of the same name (case-insensitive) is updated in place,
// keeping its ID and health; a state change is recorded as an event. New
// cameras must have their ID set.
// seal is called for each row once its final ID is known (existing is nil
// for a new camera) to set its Credentials.
func ImportCameras(ctx context.Context, db bun.IDB, cams []Camera, upsert bool, seal func(c, existing *Camera) error) (ImportResult, error) {
	var res ImportResult
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res = ImportResult{}
		for i := range cams {
			c := cams[i]
			existing := new(Camera)
			err := tx.NewSelect().Model(existing).Where("lower(name) = lower(?)", c.Name).For("UPDATE").Scan(ctx)
			switch {
			case err == nil && !upsert:
				return fmt.Errorf("store: import camera %q: %w", c.Name, ErrConflict)
			case err == nil:
				c.ID = existing.ID
				if err := seal(&c, existing); err != nil {
					return err
				}
				state := c.State
				if err := UpdateCamera(ctx, tx, &c); err != nil {
					return err
				}
				if c.State = state; state != existing.State {
					if _, err := tx.NewUpdate().Model(&c).Column("state").WherePK().Exec(ctx); err != nil {
						return fmt.Errorf("store: import camera state: %w", err)
					}
					if err := insertCameraEvent(ctx, tx, c.ID, "state", existing.State, c.State, "import", c.UpdatedAt); err != nil {
						return err
					}
				}
				res.Updated++
				res.PrevStates = append(res.PrevStates, existing.State)
			default:
				if nf := notFound(err, "find camera"); !isNotFound(nf) {
					return nf
				}
				if err := seal(&c, nil); err != nil {
					return err
				}
				if err := CreateCamera(ctx, tx, &c); err != nil {
					return err
				}
				res.Created++
				res.PrevStates = append(res.PrevStates, "")
			}
			res.Cameras = append(res.Cameras, c)
		}
		return nil
	})
	return res, err
}
