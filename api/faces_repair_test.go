package api_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/store"
)

// TestStuckFaceProfilesAreRepaired: a profile left registering (its
// registration hit its time limit) or deleting (its deletion never
// started) gets its workflow started again by the repair, and finishes.
func TestStuckFaceProfilesAreRepaired(t *testing.T) {
	h := newHarness(t)
	h.startWorker(withoutStreams)
	ctx := context.Background()
	registering := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "R-1", Name: "Stuck registering", Status: contract.FaceStatusRegistering}
	deleting := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "R-2", Name: "Stuck deleting", Status: contract.FaceStatusDeleting}
	fresh := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "R-3", Name: "Just registering", Status: contract.FaceStatusRegistering}
	for _, p := range []*store.FaceProfile{registering, deleting, fresh} {
		require.NoError(t, store.CreateFaceProfile(ctx, h.db, p))
	}
	_, err := h.db.ExecContext(ctx, "UPDATE face_profiles SET updated_at = now() - interval '1 hour' WHERE id IN (?, ?)", registering.ID, deleting.ID)
	require.NoError(t, err)

	acts := &activities.Activities{DB: h.db, Workflows: h.streams, Log: slog.New(slog.DiscardHandler)}
	res, err := acts.RepairFaceProfiles(ctx, 15*time.Minute)
	require.NoError(t, err)
	require.Equal(t, contract.RepairResult{Registrations: 1, Deletions: 1}, res, "the fresh profile is left alone")

	require.Eventually(t, func() bool {
		p, err := store.FindFaceProfile(ctx, h.db, registering.ID)
		return err == nil && p.Status != contract.FaceStatusRegistering
	}, 30*time.Second, 200*time.Millisecond, "the registration ran again")
	require.Eventually(t, func() bool {
		_, err := store.FindFaceProfile(ctx, h.db, deleting.ID)
		return errors.Is(err, store.ErrNotFound)
	}, 30*time.Second, 200*time.Millisecond, "the deletion ran")
	p, err := store.FindFaceProfile(ctx, h.db, fresh.ID)
	require.NoError(t, err)
	require.Equal(t, contract.FaceStatusRegistering, p.Status)
}
