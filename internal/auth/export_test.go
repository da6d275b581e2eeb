package auth

import "slices"

// ValidRole reports whether r is a built-in role.
func ValidRole(r Role) bool {
	return slices.ContainsFunc(roles, func(ri RoleInfo) bool { return ri.Name == r })
}
