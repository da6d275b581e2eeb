package activities

import (
	"context"
	"time"

	"github.com/rollcall/rollcall/store"
)

// PurgeExpiredSessions deletes sessions that expired before cutoff.
func (a *Activities) PurgeExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	return store.DeleteExpiredSessions(ctx, a.DB, cutoff)
}

// PurgeOldAudit deletes audit entries older than cutoff.
func (a *Activities) PurgeOldAudit(ctx context.Context, cutoff time.Time) (int64, error) {
	return store.DeleteAuditBefore(ctx, a.DB, cutoff)
}
