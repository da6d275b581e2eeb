package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session is one refresh token of a login family. Refreshing marks the row
// used and inserts its successor in the same family.
type Session struct {
	bun.BaseModel `bun:"table:user_sessions"`

	ID            string     `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	FamilyID      string     `bun:"family_id,type:uuid,notnull"`
	UserID        string     `bun:"user_id,type:uuid,notnull"`
	TokenHash     string     `bun:"token_hash,notnull"`
	IP            string     `bun:"ip,notnull"`
	UserAgent     string     `bun:"user_agent,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	ExpiresAt     time.Time  `bun:"expires_at,notnull"`
	UsedAt        *time.Time `bun:"used_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	RevokedReason string     `bun:"revoked_reason,notnull"`
}

// Refresh outcomes that are not plain errors.
var (
	// ErrSessionReused: a rotated-out or revoked refresh token was presented;
	// the whole family has been revoked.
	ErrSessionReused = errors.New("store: refresh token reused")
	// ErrSessionExpired: the refresh token is past its expiry.
	ErrSessionExpired = errors.New("store: refresh token expired")
)

// CreateSession inserts the first token of a new family (s.FamilyID = s.ID if empty).
func CreateSession(ctx context.Context, db bun.IDB, s *Session) error {
	if s.FamilyID == "" {
		if err := db.NewSelect().ColumnExpr("gen_random_uuid()").Scan(ctx, &s.FamilyID); err != nil {
			return fmt.Errorf("store: new session family: %w", err)
		}
	}
	if _, err := db.NewInsert().Model(s).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// RotateSession consumes the refresh token with oldHash and stores next as its
// successor in one transaction. It returns the consumed row. A token already
// used or revoked revokes its whole family and returns ErrSessionReused; an
// unknown token gives ErrNotFound; an expired one ErrSessionExpired.
func RotateSession(ctx context.Context, db *bun.DB, oldHash string, next *Session, now time.Time) (*Session, error) {
	old := new(Session)
	var reusedFamily string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(old).Where("token_hash = ?", oldHash).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "find session")
		}
		if old.UsedAt != nil || old.RevokedAt != nil {
			reusedFamily = old.FamilyID
			return nil
		}
		if !now.Before(old.ExpiresAt) {
			return ErrSessionExpired
		}
		if _, err := tx.NewUpdate().Model(old).Set("used_at = ?", now).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: mark session used: %w", err)
		}
		next.FamilyID, next.UserID = old.FamilyID, old.UserID
		if _, err := tx.NewInsert().Model(next).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("store: insert rotated session: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reusedFamily != "" {
		if _, err := RevokeFamily(ctx, db, reusedFamily, "refresh token reuse", now); err != nil {
			return nil, err
		}
		return old, ErrSessionReused
	}
	return old, nil
}

// FindSessionByHash returns the session row for a refresh token hash, or ErrNotFound.
func FindSessionByHash(ctx context.Context, db bun.IDB, hash string) (*Session, error) {
	s := new(Session)
	if err := db.NewSelect().Model(s).Where("token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, notFound(err, "find session")
	}
	return s, nil
}

// RevokeFamily revokes every live token of a family. It reports whether the
// family had live tokens.
func RevokeFamily(ctx context.Context, db bun.IDB, familyID, reason string, now time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*Session)(nil)).
		Set("revoked_at = ?", now).Set("revoked_reason = ?", reason).
		Where("family_id = ? AND revoked_at IS NULL", familyID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: revoke session family: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RevokeUserSessions revokes every live session of a user except the family
// keepFamily (may be ""), and returns the revoked family IDs.
func RevokeUserSessions(ctx context.Context, db bun.IDB, userID, keepFamily, reason string, now time.Time) ([]string, error) {
	var families []string
	q := db.NewUpdate().Model((*Session)(nil)).
		Set("revoked_at = ?", now).Set("revoked_reason = ?", reason).
		Where("user_id = ? AND revoked_at IS NULL", userID)
	if keepFamily != "" {
		q = q.Where("family_id <> ?", keepFamily)
	}
	if _, err := q.Returning("family_id").Exec(ctx, &families); err != nil {
		return nil, fmt.Errorf("store: revoke user sessions: %w", err)
	}
	return dedupe(families), nil
}

// LiveFamilies returns the family IDs of a user's sessions that are not revoked.
func LiveFamilies(ctx context.Context, db bun.IDB, userID string) ([]string, error) {
	var families []string
	if err := db.NewSelect().Model((*Session)(nil)).Column("family_id").
		Where("user_id = ? AND revoked_at IS NULL", userID).Scan(ctx, &families); err != nil {
		return nil, fmt.Errorf("store: live families: %w", err)
	}
	return dedupe(families), nil
}

// DeleteExpiredSessions removes session rows that expired before cutoff and returns how many.
func DeleteExpiredSessions(ctx context.Context, db bun.IDB, cutoff time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*Session)(nil)).Where("expires_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
