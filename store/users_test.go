package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

func TestCreateUserRefusesTakenUsernameOrEmail(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "Alice", "viewer")
	require.NotEmpty(t, alice.ID)
	require.False(t, alice.CreatedAt.IsZero(), "CreateUser returns the stored row")

	tests := []struct {
		name string
		user store.User
	}{
		{"same username in other case", store.User{Username: "aLiCe", Email: "other@example.com"}},
		{"same email in other case", store.User{Username: "alice2", Email: "ALICE@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			u.PasswordHash, u.Role, u.IsActive = "h", "viewer", true
			require.ErrorIs(t, store.CreateUser(ctx, db, &u), store.ErrConflict)
		})
	}

	found, err := store.FindUserByUsername(ctx, db, "ALICE")
	require.NoError(t, err)
	require.Equal(t, alice.ID, found.ID)
	_, err = store.FindUserByUsername(ctx, db, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.FindUserByID(ctx, db, "00000000-0000-0000-0000-000000000000")
	require.ErrorIs(t, err, store.ErrNotFound)

	for _, name := range []string{"no-email-1", "no-email-2"} {
		u := &store.User{Username: name, PasswordHash: "h", Role: "viewer", IsActive: true}
		require.NoError(t, store.CreateUser(ctx, db, u), "users without email do not conflict")
	}
}

func TestFindUsersFiltersAndPages(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	var all []string
	for _, c := range []struct{ name, role string }{
		{"ann", "admin"}, {"bob", "operator"}, {"cy_x", "viewer"}, {"dee", "viewer"}, {"eve", "hr"},
	} {
		all = append(all, mustCreateUser(t, db, c.name, c.role).ID)
	}
	dee, err := store.FindUserByUsername(ctx, db, "dee")
	require.NoError(t, err)
	dee.IsActive = false
	dee.FullName = "Deirdre Quinn"
	require.NoError(t, store.UpdateUser(ctx, db, dee))
	inactive := false

	tests := []struct {
		name   string
		filter store.UserFilter
		want   []string // usernames in order
	}{
		{"all", store.UserFilter{}, []string{"ann", "bob", "cy_x", "dee", "eve"}},
		{"by role", store.UserFilter{Role: "viewer"}, []string{"cy_x", "dee"}},
		{"inactive only", store.UserFilter{Active: &inactive}, []string{"dee"}},
		{"search username", store.UserFilter{Query: "BO"}, []string{"bob"}},
		{"search full name", store.UserFilter{Query: "quinn"}, []string{"dee"}},
		{"search email", store.UserFilter{Query: "eve@example"}, []string{"eve"}},
		{"underscore is literal", store.UserFilter{Query: "_"}, []string{"cy_x"}},
		{"percent is literal", store.UserFilter{Query: "%"}, nil},
		{"role and search", store.UserFilter{Role: "viewer", Query: "ann"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.filter
			f.Limit = 50
			users, total, err := store.FindUsers(ctx, db, f)
			require.NoError(t, err)
			var got []string
			for _, u := range users {
				got = append(got, u.Username)
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, len(tt.want), total)
		})
	}

	t.Run("keyset pages", func(t *testing.T) {
		var seen []string
		var after *store.Cursor
		for page := 0; ; page++ {
			require.Less(t, page, 5, "pagination does not end")
			users, total, err := store.FindUsers(ctx, db, store.UserFilter{After: after, Limit: 2})
			require.NoError(t, err)
			require.Equal(t, 5, total, "total counts every match, not the page")
			if len(users) == 0 {
				break
			}
			require.LessOrEqual(t, len(users), 2)
			for _, u := range users {
				seen = append(seen, u.ID)
			}
			last := users[len(users)-1]
			after = &store.Cursor{Time: last.CreatedAt, ID: last.ID}
		}
		require.Equal(t, all, seen, "every user exactly once, in creation order")
	})
}

func TestLastActiveAdminIsProtected(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	admin := mustCreateUser(t, db, "root", "admin")
	viewer := mustCreateUser(t, db, "watcher", "viewer")

	demoted := *admin
	demoted.Role = "viewer"
	require.ErrorIs(t, store.UpdateUser(ctx, db, &demoted), store.ErrLastAdmin)
	deactivated := *admin
	deactivated.IsActive = false
	require.ErrorIs(t, store.UpdateUser(ctx, db, &deactivated), store.ErrLastAdmin)
	require.ErrorIs(t, store.DeleteUser(ctx, db, admin.ID), store.ErrLastAdmin)

	stored, err := store.FindUserByID(ctx, db, admin.ID)
	require.NoError(t, err)
	require.Equal(t, "admin", stored.Role)
	require.True(t, stored.IsActive)

	edited := *admin
	edited.FullName = "The Root"
	require.NoError(t, store.UpdateUser(ctx, db, &edited), "an admin staying admin can be edited")
	require.NoError(t, store.DeleteUser(ctx, db, viewer.ID), "other users can go")

	second := mustCreateUser(t, db, "root2", "admin")
	require.NoError(t, store.UpdateUser(ctx, db, &demoted), "with a second admin the first can step down")
	require.ErrorIs(t, store.DeleteUser(ctx, db, second.ID), store.ErrLastAdmin)
	n, err := store.CountActiveAdmins(ctx, db)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestConcurrentDemotionsKeepOneAdmin(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	for round := range 3 {
		a := mustCreateUser(t, db, fmt.Sprintf("a%d", round), "admin")
		b := mustCreateUser(t, db, fmt.Sprintf("b%d", round), "admin")
		if round > 0 { // leave exactly these two admins
			_, err := db.NewUpdate().Model((*store.User)(nil)).Set("role = 'viewer'").
				Where("id NOT IN (?, ?)", a.ID, b.ID).Exec(ctx)
			require.NoError(t, err)
		}

		errs := make([]error, 2)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, u := range []*store.User{a, b} {
			wg.Go(func() {
				start.Wait()
				demoted := *u
				demoted.Role = "operator"
				errs[i] = store.UpdateUser(ctx, db, &demoted)
			})
		}
		start.Done()
		wg.Wait()

		require.ElementsMatch(t, []error{nil, store.ErrLastAdmin}, errs, "round %d", round)
		n, err := store.CountActiveAdmins(ctx, db)
		require.NoError(t, err)
		require.Equal(t, 1, n, "round %d", round)
	}
}

func TestUpdateAndDeleteMissingUser(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	mustCreateUser(t, db, "root", "admin")
	missing := &store.User{ID: "00000000-0000-0000-0000-000000000000", Role: "viewer", IsActive: true}

	require.ErrorIs(t, store.UpdateUser(ctx, db, missing), store.ErrNotFound)
	require.ErrorIs(t, store.DeleteUser(ctx, db, missing.ID), store.ErrNotFound)
	require.ErrorIs(t, store.SetUserPassword(ctx, db, missing.ID, "h"), store.ErrNotFound)
}
