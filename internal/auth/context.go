package auth

import "context"

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    string
	Username  string
	Role      Role
	SessionID string
}

// Can reports whether the principal's role grants p.
func (p *Principal) Can(perm Permission) bool { return p != nil && Can(p.Role, perm) }

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the caller, or nil for an anonymous request.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
