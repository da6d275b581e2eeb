package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// UserBody is a user as the API shows it (never the password hash).
type UserBody struct {
	ID          string     `json:"id" format:"uuid"`
	Username    string     `json:"username" example:"jdoe"`
	Email       string     `json:"email,omitempty" example:"jdoe@example.com"`
	FullName    string     `json:"fullName" example:"Jane Doe"`
	Role        string     `json:"role" enum:"admin,operator,hr,viewer"`
	IsActive    bool       `json:"isActive"`
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

func userBody(u *store.User) UserBody {
	return UserBody{
		ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, Role: u.Role,
		IsActive: u.IsActive, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// ListUsersInput filters GET /users.
type ListUsersInput struct {
	Role   string `query:"role" enum:"admin,operator,hr,viewer" doc:"Only users with this role"`
	Active string `query:"active" enum:"true,false" doc:"Only active (true) or disabled (false) users"`
	Q      string `query:"q" maxLength:"100" doc:"Search username, email and full name"`
	Cursor string `query:"cursor" maxLength:"512" doc:"nextCursor of the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// UserListOutput is one page of users.
type UserListOutput struct {
	Body struct {
		Items      []UserBody `json:"items"`
		NextCursor string     `json:"nextCursor,omitempty"`
		Total      int        `json:"total"`
	}
}

// UserOutput is one user.
type UserOutput struct {
	Body UserBody
}

// CreateUserInput is the body of POST /users.
type CreateUserInput struct {
	Body struct {
		Username string `json:"username" minLength:"3" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" patternDescription:"letters, digits, dot, dash and underscore" example:"jdoe"`
		Email    string `json:"email,omitempty" format:"email" maxLength:"254"`
		FullName string `json:"fullName,omitempty" maxLength:"200"`
		Role     string `json:"role" enum:"admin,operator,hr,viewer"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"Must meet the password policy (length, not common, not containing the username)"`
		IsActive *bool  `json:"isActive,omitempty" doc:"Defaults to true"`
	}
}

// UpdateUserInput is PUT /users/{id}: the full set of editable fields.
type UpdateUserInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		Email    string `json:"email,omitempty" format:"email" maxLength:"254"`
		FullName string `json:"fullName,omitempty" maxLength:"200"`
		Role     string `json:"role" enum:"admin,operator,hr,viewer"`
		IsActive bool   `json:"isActive"`
	}
}

// UserIDInput names a user in the path.
type UserIDInput struct {
	ID string `path:"id" format:"uuid"`
}

// ChangePasswordInput is PATCH /users/{id}/password.
type ChangePasswordInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		CurrentPassword string `json:"currentPassword,omitempty" maxLength:"128" doc:"Required when changing your own password"`
		NewPassword     string `json:"newPassword" minLength:"1" maxLength:"128"`
	}
}

func registerUsers(api huma.API, s *Server) {
	register(api, op{ID: "list-users", Method: http.MethodGet, Path: "/users", Tag: "Users", Perm: auth.PermUsersRead,
		Summary: "List users"}, s.listUsers)
	register(api, op{ID: "create-user", Method: http.MethodPost, Path: "/users", Tag: "Users", Perm: auth.PermUsersManage,
		Summary: "Create a user", Status: http.StatusCreated}, s.createUser)
	register(api, op{ID: "get-user", Method: http.MethodGet, Path: "/users/{id}", Tag: "Users", Perm: auth.PermUsersRead,
		Summary: "Get a user"}, s.getUser)
	register(api, op{ID: "update-user", Method: http.MethodPut, Path: "/users/{id}", Tag: "Users", Perm: auth.PermUsersManage,
		Summary: "Update a user's profile, role and active flag",
		Desc:    "Changing the role or disabling a user signs out all their sessions. The last active admin cannot be demoted or disabled (409 last-admin)."},
		s.updateUser)
	register(api, op{ID: "delete-user", Method: http.MethodDelete, Path: "/users/{id}", Tag: "Users", Perm: auth.PermUsersManage,
		Summary: "Delete a user", Desc: "Signs out all their sessions. The last active admin cannot be deleted (409 last-admin).",
		Status: http.StatusNoContent}, s.deleteUser)
	register(api, op{ID: "change-user-password", Method: http.MethodPatch, Path: "/users/{id}/password", Tag: "Users", Perm: auth.PermAccountSelf,
		Summary: "Change your own password, or reset another user's (users:manage)",
		Desc: "Your own: send currentPassword; your other sessions are signed out. Another user's: needs users:manage; " +
			"all their sessions are signed out.", Status: http.StatusNoContent},
		s.changePassword)
	register(api, op{ID: "clear-login-lock", Method: http.MethodDelete, Path: "/users/{id}/login-lock", Tag: "Users", Perm: auth.PermUsersManage,
		Summary: "Clear an account's failed sign-in counters",
		Desc: "Failed sign-ins slow an account down and refuse the sources that keep failing; this clears both, for every source. " +
			"Answers how many counters were cleared.", Status: http.StatusOK},
		s.clearLoginLock)
}

// ClearLoginLockOutput says how many counters were cleared.
type ClearLoginLockOutput struct {
	Body struct {
		Cleared int `json:"cleared" doc:"Counters removed: the account's failures and its per-source attempts"`
	}
}

func (s *Server) clearLoginLock(ctx context.Context, in *UserIDInput) (*ClearLoginLockOutput, error) {
	u, err := store.FindUserByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	n, err := s.limiter.ResetPrefix(ctx, loginAccountPrefix(u.Username))
	if err != nil {
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the sign-in counters cannot be reached; try again")
	}
	_, failures := loginKeys(u.Username, "")
	if c, _ := s.limiter.Count(ctx, failures); c > 0 {
		n++
	}
	if err := s.limiter.Reset(ctx, failures); err != nil {
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the sign-in counters cannot be reached; try again")
	}
	out := &ClearLoginLockOutput{}
	out.Body.Cleared = n
	return out, nil
}

func (s *Server) listUsers(ctx context.Context, in *ListUsersInput) (*UserListOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	f := store.UserFilter{Role: in.Role, Query: in.Q, After: after, Limit: in.Limit + 1}
	if in.Active != "" {
		active := in.Active == "true"
		f.Active = &active
	}
	users, total, err := store.FindUsers(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	out := &UserListOutput{}
	out.Body.Total = total
	out.Body.Items, out.Body.NextCursor = page(users, in.Limit, userBody,
		func(u *store.User) store.Cursor { return store.Cursor{Time: u.CreatedAt, ID: u.ID} })
	return out, nil
}

func (s *Server) createUser(ctx context.Context, in *CreateUserInput) (*UserOutput, error) {
	b := in.Body
	if reason := s.policy.Check(b.Password, b.Username); reason != "" {
		return nil, fieldError("body.password", reason, nil)
	}
	hash, err := hashPassword(ctx, b.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Username: b.Username, Email: strings.TrimSpace(b.Email), FullName: strings.TrimSpace(b.FullName),
		PasswordHash: hash, Role: b.Role, IsActive: b.IsActive == nil || *b.IsActive}
	if err := store.CreateUser(ctx, s.db, u); err != nil {
		return nil, problemFor(err, "user", conflictOn("body.username", "username or email is already taken", b.Username))
	}
	infoFrom(ctx).AuditResourceID = u.ID
	return &UserOutput{Body: userBody(u)}, nil
}

func (s *Server) getUser(ctx context.Context, in *UserIDInput) (*UserOutput, error) {
	u, err := store.FindUserByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	return &UserOutput{Body: userBody(u)}, nil
}

func (s *Server) updateUser(ctx context.Context, in *UpdateUserInput) (*UserOutput, error) {
	u, err := store.FindUserByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	signOut := u.Role != in.Body.Role || (u.IsActive && !in.Body.IsActive)
	u.Email, u.FullName = strings.TrimSpace(in.Body.Email), strings.TrimSpace(in.Body.FullName)
	u.Role, u.IsActive = in.Body.Role, in.Body.IsActive
	if err := store.UpdateUser(ctx, s.db, u); err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	if signOut {
		if err := s.signOutUser(ctx, u.ID, "", "role or status changed"); err != nil {
			return nil, err
		}
	}
	return &UserOutput{Body: userBody(u)}, nil
}

func (s *Server) deleteUser(ctx context.Context, in *UserIDInput) (*struct{}, error) {
	families, err := store.LiveFamilies(ctx, s.db, in.ID)
	if err != nil {
		return nil, err
	}
	if err := store.DeleteUser(ctx, s.db, in.ID); err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	if err := s.revoked.Revoke(ctx, families...); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Server) changePassword(ctx context.Context, in *ChangePasswordInput) (*struct{}, error) {
	p := auth.PrincipalFromContext(ctx)
	self := p.UserID == in.ID
	if !self && !p.Can(auth.PermUsersManage) {
		return nil, newProblem(http.StatusForbidden, CodeForbidden, "changing another user's password needs permission users:manage")
	}
	u, err := store.FindUserByID(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	if self {
		if in.Body.CurrentPassword == "" {
			return nil, fieldError("body.currentPassword", "is required to change your own password", nil)
		}
		// Wrong current passwords are limited like sign-ins: a stolen
		// session must not be a way to guess the password (nor to keep
		// the server hashing).
		key := "password-change:" + u.ID
		lim := s.cfg.LoginRateAccount
		res, err := s.limiter.Hit(ctx, key, lim.Limit, lim.Window)
		if err != nil {
			return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "password changes are temporarily unavailable")
		}
		if !res.Allowed {
			return nil, rateLimited(res.Reset)
		}
		if err := verifyPassword(ctx, u.PasswordHash, in.Body.CurrentPassword); err != nil {
			if !errors.Is(err, auth.ErrPasswordMismatch) {
				return nil, err
			}
			return nil, fieldError("body.currentPassword", "is not your current password", nil)
		}
		_ = s.limiter.Reset(ctx, key)
	}
	if reason := s.policy.Check(in.Body.NewPassword, u.Username); reason != "" {
		return nil, fieldError("body.newPassword", reason, nil)
	}
	hash, err := hashPassword(ctx, in.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	if err := store.SetUserPassword(ctx, s.db, u.ID, hash); err != nil {
		return nil, problemFor(err, "user", conflictOn("body.email", "email is already taken", nil))
	}
	keep := ""
	if self {
		keep = p.SessionID
	}
	return nil, s.signOutUser(ctx, u.ID, keep, "password changed")
}

// signOutUser revokes a user's sessions (except keepFamily) in the database
// and in the revocation list, so their access tokens stop working now.
func (s *Server) signOutUser(ctx context.Context, userID, keepFamily, reason string) error {
	families, err := store.RevokeUserSessions(ctx, s.db, userID, keepFamily, reason, s.now())
	if err != nil {
		return err
	}
	return s.revoked.Revoke(ctx, families...)
}
