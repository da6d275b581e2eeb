// Package auth holds Rollcall's roles and permissions, password hashing and
// access tokens. It does no I/O.
package auth

import "slices"

// Permission names one thing a role may do, e.g. "cameras:write".
type Permission string

// The permissions operations declare. Reading and writing are separate so a
// viewer can see what an operator changes.
const (
	PermAccountSelf      Permission = "account:self" // one's own profile, password and sessions
	PermUsersRead        Permission = "users:read"
	PermUsersManage      Permission = "users:manage"
	PermAuditRead        Permission = "audit:read"
	PermCamerasRead      Permission = "cameras:read"
	PermCamerasWrite     Permission = "cameras:write"
	PermDetectionsRead   Permission = "detections:read"
	PermDetectionsWrite  Permission = "detections:write"
	PermProviderManage   Permission = "provider:manage"
	PermFacesRead        Permission = "faces:read"
	PermFacesWrite       Permission = "faces:write"
	PermAttendanceRead   Permission = "attendance:read"
	PermAttendanceWrite  Permission = "attendance:write"
	PermAttendanceExport Permission = "attendance:export"
	PermOdooRead         Permission = "odoo:read"
	PermOdooManage       Permission = "odoo:manage"    // start a sync, retry failed records
	PermOdooConfigure    Permission = "odoo:configure" // the Odoo connection and its API key
	PermSystemRead       Permission = "system:read"
	PermSystemManage     Permission = "system:manage"
	PermAlertsRead       Permission = "alerts:read"
	PermAlertsWrite      Permission = "alerts:write"
	PermDeveloperUse     Permission = "developer:use"
)

// Role names a built-in role.
type Role string

// The built-in roles.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleHR       Role = "hr"
	RoleViewer   Role = "viewer"
)

// RoleInfo describes a role and the permissions it grants.
type RoleInfo struct {
	Name        Role
	Description string
	Permissions []Permission
}

var viewerPerms = []Permission{
	PermAccountSelf, PermCamerasRead, PermDetectionsRead, PermFacesRead,
	PermAttendanceRead, PermSystemRead, PermAlertsRead, PermOdooRead,
}

// roles is the authoritative role table; `rollcall seed` mirrors it into the
// roles table so the database can reference role names.
var roles = []RoleInfo{
	{RoleAdmin, "Full control, including users, integrations and the audit log", allPermissions()},
	{RoleOperator, "Runs cameras, recognition and face registration; acknowledges alerts", append(slices.Clone(viewerPerms),
		PermCamerasWrite, PermDetectionsWrite, PermProviderManage, PermFacesWrite, PermAlertsWrite)},
	{RoleHR, "Reviews, corrects and exports attendance; manages people and the Odoo sync", append(slices.Clone(viewerPerms),
		PermAttendanceWrite, PermAttendanceExport, PermFacesWrite, PermOdooManage, PermAlertsWrite)},
	{RoleViewer, "Read-only dashboard access", slices.Clone(viewerPerms)},
}

func allPermissions() []Permission {
	return []Permission{
		PermAccountSelf, PermUsersRead, PermUsersManage, PermAuditRead,
		PermCamerasRead, PermCamerasWrite, PermDetectionsRead, PermDetectionsWrite, PermProviderManage,
		PermFacesRead, PermFacesWrite, PermAttendanceRead, PermAttendanceWrite, PermAttendanceExport,
		PermOdooRead, PermOdooManage, PermOdooConfigure, PermSystemRead, PermSystemManage, PermAlertsRead, PermAlertsWrite,
		PermDeveloperUse,
	}
}

// Roles returns every built-in role, admin first.
func Roles() []RoleInfo {
	out := make([]RoleInfo, len(roles))
	for i, r := range roles {
		out[i] = RoleInfo{Name: r.Name, Description: r.Description, Permissions: slices.Clone(r.Permissions)}
	}
	return out
}

// AllPermissions returns every permission an operation may declare.
func AllPermissions() []Permission { return allPermissions() }

// Can reports whether role r grants permission p. Unknown roles grant nothing.
func Can(r Role, p Permission) bool {
	for _, ri := range roles {
		if ri.Name == r {
			return slices.Contains(ri.Permissions, p)
		}
	}
	return false
}

// PermissionsOf returns the permissions role r grants.
func PermissionsOf(r Role) []Permission {
	for _, ri := range roles {
		if ri.Name == r {
			return slices.Clone(ri.Permissions)
		}
	}
	return nil
}
