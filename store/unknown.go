package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Reviews of unknown faces (detections.review).
const (
	ReviewDismissed = "dismissed"
	ReviewAssigned  = "assigned"
)

// UnknownGroup is one sighting of unknown faces: a camera's unreviewed
// unknown detections with no gap longer than the grouping gap.
type UnknownGroup struct {
	CameraID    string    `bun:"camera_id"`
	FirstSeenAt time.Time `bun:"first_at"`
	LastSeenAt  time.Time `bun:"last_at"`
	Count       int       `bun:"n"`
	Frames      int       `bun:"frames"` // detections with a kept frame
}

// UnknownFilter selects groups of unknown faces.
type UnknownFilter struct {
	Since, Until time.Time
	CameraID     string
	// Gap splits a camera's unknown detections into groups: a pause longer
	// than this starts a new one.
	Gap   time.Duration
	Limit int
}

// FindUnknownGroups groups a period's unreviewed unknown detections by
// camera and time, the most recently seen first. Providers give no face
// descriptors to compare, so faces seen on one camera without a pause are
// taken as one sighting (of one or a few people).
func FindUnknownGroups(ctx context.Context, db bun.IDB, f UnknownFilter) ([]UnknownGroup, error) {
	var out []UnknownGroup
	camera := ""
	args := []any{f.Gap.Seconds(), f.Since, f.Until}
	if f.CameraID != "" {
		camera = "AND camera_id = ?"
		args = append(args, f.CameraID)
	}
	args = append(args, f.Limit)
	err := db.NewRaw(`WITH u AS (
  SELECT camera_id, detected_at, id, snapshot_key,
         CASE WHEN detected_at - lag(detected_at) OVER w <= make_interval(secs => ?) THEN 0 ELSE 1 END AS starts
  FROM detections
  WHERE NOT known AND review = '' AND camera_id IS NOT NULL AND detected_at >= ? AND detected_at < ? `+camera+`
  WINDOW w AS (PARTITION BY camera_id ORDER BY detected_at, id)
), g AS (
  SELECT *, sum(starts) OVER (PARTITION BY camera_id ORDER BY detected_at, id) AS grp FROM u
)
SELECT camera_id, min(detected_at) AS first_at, max(detected_at) AS last_at, count(*) AS n,
       count(*) FILTER (WHERE snapshot_key <> '') AS frames
FROM g GROUP BY camera_id, grp ORDER BY last_at DESC, camera_id LIMIT ?`, args...).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: unknown faces: %w", err)
	}
	return out, nil
}

// UnknownFrames returns up to limit of a group's detections that kept a
// frame, the largest faces first (the best registration photos).
func UnknownFrames(ctx context.Context, db bun.IDB, cameraID string, first, last time.Time, limit int) ([]Detection, error) {
	var out []Detection
	err := db.NewSelect().Model(&out).
		Where("camera_id = ?", cameraID).Where("detected_at BETWEEN ? AND ?", first, last).
		Where("NOT known").Where("review = ''").Where("snapshot_key <> ''").
		OrderExpr("box_width * box_height DESC, detected_at, id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: unknown frames: %w", err)
	}
	return out, nil
}

// ReviewUnknown marks a group's unreviewed unknown detections reviewed and
// returns how many.
func ReviewUnknown(ctx context.Context, db bun.IDB, cameraID string, first, last time.Time, review string, now time.Time) (int64, error) {
	res, err := db.NewUpdate().Model((*Detection)(nil)).
		Set("review = ?", review).Set("reviewed_at = ?", now).
		Where("camera_id = ?", cameraID).Where("detected_at BETWEEN ? AND ?", first, last).
		Where("NOT known").Where("review = ''").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: review unknown faces: %w", err)
	}
	return res.RowsAffected()
}
