package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
)

// Face image statuses.
const (
	ImageStatusPending  = "pending"
	ImageStatusEnrolled = "enrolled"
	ImageStatusFailed   = "failed"
	ImageStatusDeleting = "deleting"
)

// FaceProfile is a person registered for recognition.
type FaceProfile struct {
	bun.BaseModel `bun:"table:face_profiles"`

	ID             string    `bun:"id,pk,type:uuid"`
	EmployeeCode   string    `bun:"employee_code,notnull"`
	Name           string    `bun:"name,notnull"`
	Department     string    `bun:"department,notnull"`
	Email          string    `bun:"email,notnull"`
	OdooEmployeeID *int      `bun:"odoo_employee_id"`
	Status         string    `bun:"status,notnull"`
	StatusMessage  string    `bun:"status_message,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt      time.Time `bun:"updated_at,notnull,default:current_timestamp"`

	Images []FaceImage `bun:"rel:has-many,join:id=profile_id"`
}

// FaceImage is one photo of a profile, stored in the object store.
type FaceImage struct {
	bun.BaseModel `bun:"table:face_images"`

	ID              string     `bun:"id,pk,type:uuid"`
	ProfileID       string     `bun:"profile_id,type:uuid,notnull"`
	ObjectKey       string     `bun:"object_key,notnull"`
	ContentType     string     `bun:"content_type,notnull"`
	SizeBytes       int        `bun:"size_bytes,notnull"`
	Width           int        `bun:"width,notnull"`
	Height          int        `bun:"height,notnull"`
	SHA256          string     `bun:"sha256,notnull"`
	Status          string     `bun:"status,notnull"`
	ProviderImageID string     `bun:"provider_image_id,notnull"`
	FailureReason   string     `bun:"failure_reason,notnull"`
	CreatedAt       time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	EnrolledAt      *time.Time `bun:"enrolled_at"`
}

// FaceFilter selects profiles for FindFaceProfiles.
type FaceFilter struct {
	Status, Department, Query string
	After                     *Cursor
	Limit                     int
}

// CreateFaceProfile inserts a profile and its images in one transaction. A
// taken employee code gives ErrConflict.
func CreateFaceProfile(ctx context.Context, db bun.IDB, p *FaceProfile) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(p).Returning("*").Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: create face profile %q: %w", p.EmployeeCode, ErrConflict)
			}
			return fmt.Errorf("store: create face profile: %w", err)
		}
		if len(p.Images) > 0 {
			if _, err := tx.NewInsert().Model(&p.Images).Returning("*").Exec(ctx); err != nil {
				if isUniqueViolation(err) {
					return fmt.Errorf("store: create face images: the same image twice: %w", ErrConflict)
				}
				return fmt.Errorf("store: create face images: %w", err)
			}
		}
		return nil
	})
}

// AddFaceImages inserts pending images of an existing profile (not one
// being deleted). The same image twice gives ErrConflict.
func AddFaceImages(ctx context.Context, db bun.IDB, profileID string, images []FaceImage) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*FaceProfile)(nil)).Where("id = ? AND status <> 'deleting'", profileID).
			Set("updated_at = now()").Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: touch face profile: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: face profile %s: %w", profileID, ErrNotFound)
		}
		if _, err := tx.NewInsert().Model(&images).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: add face images: already uploaded: %w", ErrConflict)
			}
			return fmt.Errorf("store: add face images: %w", err)
		}
		return nil
	})
}

// FindFaceProfile returns a profile with its images, or ErrNotFound.
func FindFaceProfile(ctx context.Context, db bun.IDB, id string) (*FaceProfile, error) {
	p := new(FaceProfile)
	err := db.NewSelect().Model(p).Where("face_profile.id = ?", id).
		Relation("Images", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("created_at", "id") }).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "find face profile "+id)
	}
	return p, nil
}

// FindFaceProfiles returns one page of profiles (with images) and, on the
// first page, the total matching.
func FindFaceProfiles(ctx context.Context, db bun.IDB, f FaceFilter) ([]FaceProfile, int, error) {
	var ps []FaceProfile
	q := db.NewSelect().Model(&ps).
		Relation("Images", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("created_at", "id") })
	if f.Status != "" {
		q = q.Where("face_profile.status = ?", f.Status)
	}
	if f.Department != "" {
		q = q.Where("face_profile.department = ?", f.Department)
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("lower(face_profile.name) LIKE ?", like).WhereOr("lower(face_profile.employee_code) LIKE ?", like).
				WhereOr("lower(face_profile.email) LIKE ?", like)
		})
	}
	total := -1
	if f.After == nil {
		n, err := q.Count(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("store: count face profiles: %w", err)
		}
		total = int(n)
	}
	if f.After != nil {
		q = q.Where("(face_profile.created_at, face_profile.id) > (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("face_profile.created_at", "face_profile.id").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: find face profiles: %w", err)
	}
	return ps, total, nil
}

// UpdateFaceProfile writes the editable fields of p.
func UpdateFaceProfile(ctx context.Context, db bun.IDB, p *FaceProfile) error {
	p.UpdatedAt = time.Now()
	res, err := db.NewUpdate().Model(p).Column("employee_code", "name", "department", "email", "odoo_employee_id", "updated_at").
		WherePK().Where("status <> 'deleting'").Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: update face profile: %w", ErrConflict)
		}
		return fmt.Errorf("store: update face profile: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update face profile %s: %w", p.ID, ErrNotFound)
	}
	return nil
}

// SetFaceProfileStatus sets a profile's status and message. A profile
// being deleted keeps that status (ErrNotFound): nothing may revive it.
func SetFaceProfileStatus(ctx context.Context, db bun.IDB, id, status, message string) error {
	res, err := db.NewUpdate().Model((*FaceProfile)(nil)).Where("id = ?", id).
		Where("status <> 'deleting' OR ? = 'deleting'", status).
		Set("status = ?", status).Set("status_message = ?", message).Set("updated_at = now()").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set face profile status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: face profile %s: %w", id, ErrNotFound)
	}
	return nil
}

// MarkFaceImageDeleting flags an image for removal by the registration workflow.
func MarkFaceImageDeleting(ctx context.Context, db bun.IDB, profileID, imageID string) error {
	res, err := db.NewUpdate().Model((*FaceImage)(nil)).Where("id = ? AND profile_id = ?", imageID, profileID).
		Set("status = 'deleting'").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: mark face image deleting: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: face image %s: %w", imageID, ErrNotFound)
	}
	return nil
}

// RecordImageEnrolled marks an image enrolled under the provider's ID.
func RecordImageEnrolled(ctx context.Context, db bun.IDB, imageID, providerImageID string, at time.Time) error {
	_, err := db.NewUpdate().Model((*FaceImage)(nil)).Where("id = ?", imageID).
		Set("status = 'enrolled'").Set("provider_image_id = ?", providerImageID).Set("failure_reason = ''").
		Set("enrolled_at = ?", at).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: record image enrolled: %w", err)
	}
	return nil
}

// RecordImageFailed marks an image failed with a reason.
func RecordImageFailed(ctx context.Context, db bun.IDB, imageID, reason string) error {
	if _, err := db.NewUpdate().Model((*FaceImage)(nil)).Where("id = ?", imageID).
		Set("status = 'failed'").Set("failure_reason = ?", reason).Exec(ctx); err != nil {
		return fmt.Errorf("store: record image failed: %w", err)
	}
	return nil
}

// DeleteFaceImage removes an image row.
func DeleteFaceImage(ctx context.Context, db bun.IDB, imageID string) error {
	if _, err := db.NewDelete().Model((*FaceImage)(nil)).Where("id = ?", imageID).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete face image: %w", err)
	}
	return nil
}

// DeleteFaceProfile removes a profile and its image rows.
func DeleteFaceProfile(ctx context.Context, db bun.IDB, id string) error {
	if _, err := db.NewDelete().Model((*FaceProfile)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete face profile: %w", err)
	}
	return nil
}

// StuckFaceProfiles returns up to limit profiles left pending,
// registering or deleting since before olderThan: their workflow may have
// timed out or never started (the repair schedule looks at them).
func StuckFaceProfiles(ctx context.Context, db bun.IDB, olderThan time.Time, limit int) ([]FaceProfile, error) {
	var ps []FaceProfile
	err := db.NewSelect().Model(&ps).Column("id", "status", "updated_at").
		Where("status IN (?)", bun.List([]string{contract.FaceStatusPending, contract.FaceStatusRegistering, contract.FaceStatusDeleting})).
		Where("updated_at < ?", olderThan).Order("updated_at").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: stuck face profiles: %w", err)
	}
	return ps, nil
}
