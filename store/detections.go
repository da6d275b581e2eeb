package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
)

// Detection is one face seen in a frame.
type Detection struct {
	bun.BaseModel `bun:"table:detections"`

	ID                  string    `bun:"id,pk,type:uuid"`
	DetectedAt          time.Time `bun:"detected_at,notnull"`
	CameraID            *string   `bun:"camera_id,type:uuid"`
	FaceProfileID       *string   `bun:"face_profile_id,type:uuid"`
	Known               bool      `bun:"known,notnull"`
	Similarity          float64   `bun:"similarity,notnull"`
	DetectionConfidence float64   `bun:"detection_confidence,notnull"`
	BoxX                int       `bun:"box_x,notnull"`
	BoxY                int       `bun:"box_y,notnull"`
	BoxWidth            int       `bun:"box_width,notnull"`
	BoxHeight           int       `bun:"box_height,notnull"`
	SnapshotKey         string    `bun:"snapshot_key,notnull"`
	Source              string    `bun:"source,notnull"`
	// Review marks an unknown face an operator dismissed or assigned to
	// a person (ReviewDismissed, ReviewAssigned; "" before review).
	Review     string     `bun:"review,notnull"`
	ReviewedAt *time.Time `bun:"reviewed_at"`
}

// Live is how the detection appears live, labelled with its person's
// employee code and name ("" for unknown faces).
func (d *Detection) Live(employeeCode, name string) contract.LiveDetection {
	out := contract.LiveDetection{ID: d.ID, At: d.DetectedAt.UTC(), Known: d.Known, EmployeeCode: employeeCode, Name: name,
		Similarity: d.Similarity, Confidence: d.DetectionConfidence, Box: [4]int{d.BoxX, d.BoxY, d.BoxWidth, d.BoxHeight}}
	if d.CameraID != nil {
		out.CameraID = *d.CameraID
	}
	if d.FaceProfileID != nil {
		out.FaceProfileID = *d.FaceProfileID
	}
	return out
}

// Detection sources.
const (
	DetectionSourceStream    = "stream"
	DetectionSourceSendFrame = "send-frame"
)

// InsertDetections writes a batch of detections in one statement. A
// reference to a camera or profile that no longer exists fails the whole
// batch with ErrMissingReference.
func InsertDetections(ctx context.Context, db bun.IDB, ds []Detection) error {
	if len(ds) == 0 {
		return nil
	}
	if _, err := db.NewInsert().Model(&ds).Exec(ctx); err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("store: insert detections: %w: %w", ErrMissingReference, err)
		}
		return fmt.Errorf("store: insert detections: %w", err)
	}
	return nil
}

// RecordFrame writes a frame's detections and its event in one
// transaction, idempotently: when an event with the same DedupeKey was
// recorded (a retried activity whose first attempt committed), nothing is
// written again. Detections and events are partitioned by time, so no
// unique index spans them: attempts of one key are serialised by an
// advisory lock on it instead, and an existing detection (same ID and
// time) is left as it is.
func RecordFrame(ctx context.Context, db *bun.DB, ds []Detection, ev *DetectionEvent) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if ev != nil && ev.DedupeKey != nil {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('detection-event'), hashtext(?))", *ev.DedupeKey); err != nil {
				return fmt.Errorf("store: record frame: %w", err)
			}
			done, err := tx.NewSelect().Model((*DetectionEvent)(nil)).Where("dedupe_key = ?", *ev.DedupeKey).Exists(ctx)
			if err != nil {
				return fmt.Errorf("store: record frame: %w", err)
			}
			if done {
				return nil
			}
		}
		if len(ds) > 0 {
			if _, err := tx.NewInsert().Model(&ds).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("store: record frame detections: %w", err)
			}
		}
		if ev != nil {
			if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
				return fmt.Errorf("store: record frame event: %w", err)
			}
		}
		return nil
	})
}

// NewDetectionID returns a new detection ID: a UUIDv7, ordered by time, so
// a day's inserts stay at the right edge of the primary key index.
func NewDetectionID() string { return uuid.Must(uuid.NewV7()).String() }

// DetectionIDFor returns a detection ID that is the same for the same
// (t, name): a UUIDv7 carrying t's millisecond and, in place of its random
// bits, those of a name-based UUID (for writes that a retry repeats).
func DetectionIDFor(t time.Time, space uuid.UUID, name []byte) string {
	id := uuid.NewSHA1(space, name)
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id.String()
}

// DetectionEvent is one entry of the detection pipeline's event log.
type DetectionEvent struct {
	bun.BaseModel `bun:"table:detection_event_logs"`

	ID         int64           `bun:"id,pk,autoincrement"`
	OccurredAt time.Time       `bun:"occurred_at,notnull"`
	CameraID   *string         `bun:"camera_id,type:uuid"`
	Kind       string          `bun:"kind,notnull"`
	Level      string          `bun:"level,notnull"`
	Message    string          `bun:"message,notnull"`
	Details    json.RawMessage `bun:"details,type:jsonb,nullzero"`
	// DedupeKey, when set, makes the event written once whatever the
	// number of attempts that write it.
	DedupeKey *string `bun:"dedupe_key"`
}

// InsertDetectionEvent records a pipeline event.
func InsertDetectionEvent(ctx context.Context, db bun.IDB, e *DetectionEvent) error {
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert detection event: %w", err)
	}
	return nil
}

// DetectionEventFilter selects events, newest first.
type DetectionEventFilter struct {
	CameraID, Kind, Level string
	Since, Until          *time.Time
	After                 *Cursor
	Limit                 int
}

// FindDetectionEvents returns one page of pipeline events, newest first.
func FindDetectionEvents(ctx context.Context, db bun.IDB, f DetectionEventFilter) ([]DetectionEvent, error) {
	var evs []DetectionEvent
	q := db.NewSelect().Model(&evs)
	if f.CameraID != "" {
		q = q.Where("camera_id = ?", f.CameraID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Level != "" {
		q = q.Where("level = ?", f.Level)
	}
	q, err := newestFirst(q, f.Since, f.Until, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: find detection events: %w", err)
	}
	return evs, nil
}

// FaceNames maps profile IDs to their employee code and name (for
// labelling detections); unknown IDs are absent.
func FaceNames(ctx context.Context, db bun.IDB, ids []string) (map[string]FaceProfile, error) {
	out := map[string]FaceProfile{}
	if len(ids) == 0 {
		return out, nil
	}
	var ps []FaceProfile
	if err := db.NewSelect().Model(&ps).Column("id", "employee_code", "name").Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: face names: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// LabelledDetection is a detection with its person's code and name.
type LabelledDetection struct {
	Detection
	EmployeeCode string `bun:"employee_code"`
	Name         string `bun:"name"`
	Rank         int    `bun:"rn"` // 1 = the camera's newest
}

// RecentDetections returns, for each camera (or one), its latest
// perCamera detections since since, newest first — the live view's
// fallback when Redis cannot serve it.
func RecentDetections(ctx context.Context, db bun.IDB, since time.Time, cameraID string, perCamera int) ([]LabelledDetection, error) {
	var rows []LabelledDetection
	q := db.NewSelect().TableExpr("(?) AS d", db.NewSelect().Model((*Detection)(nil)).
		ColumnExpr("detection.*").ColumnExpr("row_number() OVER (PARTITION BY camera_id ORDER BY detected_at DESC, id DESC) AS rn").
		Where("camera_id IS NOT NULL").Where("detected_at >= ?", since)).
		ColumnExpr("d.*").ColumnExpr("coalesce(p.employee_code, '') AS employee_code, coalesce(p.name, '') AS name").
		Join("LEFT JOIN face_profiles AS p ON p.id = d.face_profile_id").
		Where("d.rn <= ?", perCamera).OrderExpr("d.camera_id, d.detected_at DESC, d.id DESC")
	if cameraID != "" {
		q = q.Where("d.camera_id = ?", cameraID)
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: recent detections: %w", err)
	}
	return rows, nil
}
