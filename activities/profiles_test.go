package activities_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// TestProfileNamesRemembers: a frame's subjects are looked up once per
// window (a stream's frames cost no query each), non-profile subjects are
// ignored, and with no window every lookup reads the database.
func TestProfileNamesRemembers(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "N-1", Name: "Nadia", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, db, p))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	cached := activities.NewProfileNames(db, log)
	uncached := activities.NewProfileNames(db, log)
	uncached.For = 0
	for _, n := range []*activities.ProfileNames{cached, uncached} {
		got, err := n.Lookup(ctx, []string{p.ID, "not-a-uuid", uuid.NewString(), ""})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "Nadia", got[p.ID].Name)
		require.Equal(t, "N-1", got[p.ID].EmployeeCode)
	}

	_, err := db.NewDelete().Model((*store.FaceProfile)(nil)).Where("id = ?", p.ID).Exec(ctx)
	require.NoError(t, err)
	got, err := cached.Lookup(ctx, []string{p.ID})
	require.NoError(t, err)
	require.Contains(t, got, p.ID, "remembered within its window: no query")
	got, err = uncached.Lookup(ctx, []string{p.ID})
	require.NoError(t, err)
	require.Empty(t, got, "without a window every lookup reads the database")
}
