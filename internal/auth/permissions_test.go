package auth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/auth"
)

func TestRolesGrantOnlyKnownPermissions(t *testing.T) {
	all := auth.AllPermissions()
	roles := auth.Roles()
	require.Equal(t, []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleHR, auth.RoleViewer},
		[]auth.Role{roles[0].Name, roles[1].Name, roles[2].Name, roles[3].Name})

	for _, r := range roles {
		require.True(t, auth.ValidRole(r.Name))
		require.NotEmpty(t, r.Description, "role %s", r.Name)
		require.NotEmpty(t, r.Permissions, "role %s", r.Name)
		seen := map[auth.Permission]bool{}
		for _, p := range r.Permissions {
			require.Contains(t, all, p, "role %s grants an undeclared permission", r.Name)
			require.False(t, seen[p], "role %s lists %s twice", r.Name, p)
			seen[p] = true
			require.True(t, auth.Can(r.Name, p))
		}
		require.ElementsMatch(t, r.Permissions, auth.PermissionsOf(r.Name))
	}
}

func TestAdminHasEveryPermission(t *testing.T) {
	for _, p := range auth.AllPermissions() {
		require.True(t, auth.Can(auth.RoleAdmin, p), "admin lacks %s", p)
	}
}

func TestViewerIsReadOnly(t *testing.T) {
	for _, p := range auth.PermissionsOf(auth.RoleViewer) {
		s := string(p)
		require.False(t, strings.HasSuffix(s, ":write") || strings.HasSuffix(s, ":manage") ||
			strings.HasSuffix(s, ":export") || p == auth.PermDeveloperUse,
			"viewer must not have %s", p)
	}
	require.True(t, auth.Can(auth.RoleViewer, auth.PermCamerasRead))
	require.True(t, auth.Can(auth.RoleViewer, auth.PermAccountSelf), "viewers manage their own account")
}

func TestOnlyAdminManagesUsersAndReadsAudit(t *testing.T) {
	for _, r := range []auth.Role{auth.RoleOperator, auth.RoleHR, auth.RoleViewer} {
		require.False(t, auth.Can(r, auth.PermUsersManage), "role %s", r)
		require.False(t, auth.Can(r, auth.PermAuditRead), "role %s", r)
	}
}

func TestUnknownRoleGrantsNothing(t *testing.T) {
	for _, r := range []auth.Role{"", "root", "Admin", "superuser"} {
		require.False(t, auth.ValidRole(r), "role %q", r)
		require.Nil(t, auth.PermissionsOf(r), "role %q", r)
		for _, p := range auth.AllPermissions() {
			require.False(t, auth.Can(r, p), "role %q grants %s", r, p)
		}
	}
	var nobody *auth.Principal
	require.False(t, nobody.Can(auth.PermAccountSelf), "an anonymous caller can do nothing")
}

func TestRolesReturnsACopy(t *testing.T) {
	roles := auth.Roles()
	viewer := slices.IndexFunc(roles, func(r auth.RoleInfo) bool { return r.Name == auth.RoleViewer })
	roles[viewer].Permissions[0] = auth.PermUsersManage

	require.False(t, auth.Can(auth.RoleViewer, auth.PermUsersManage), "callers cannot widen a role by editing Roles()")
}
