package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// User is a person who can sign in to Rollcall.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID                string     `bun:"id,pk,type:uuid,default:gen_random_uuid()"`
	Username          string     `bun:"username,notnull"`
	Email             string     `bun:"email,notnull"`
	FullName          string     `bun:"full_name,notnull"`
	PasswordHash      string     `bun:"password_hash,notnull"`
	Role              string     `bun:"role,notnull"`
	IsActive          bool       `bun:"is_active,notnull"`
	LastLoginAt       *time.Time `bun:"last_login_at"`
	PasswordChangedAt time.Time  `bun:"password_changed_at,notnull,default:current_timestamp"`
	CreatedAt         time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt         time.Time  `bun:"updated_at,notnull,default:current_timestamp"`
}

// ErrLastAdmin is returned when a change would leave no active admin.
var ErrLastAdmin = errors.New("store: the last active admin cannot be removed or demoted")

// UserFilter selects users for FindUsers.
type UserFilter struct {
	Role   string
	Active *bool
	Query  string // matches username, email or full name
	After  *Cursor
	Limit  int
}

// CreateUser inserts u. A taken username or email gives ErrConflict.
func CreateUser(ctx context.Context, db bun.IDB, u *User) error {
	if _, err := db.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create user %q: %w", u.Username, ErrConflict)
		}
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// FindUserByID returns the user with id, or ErrNotFound.
func FindUserByID(ctx context.Context, db bun.IDB, id string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "find user "+id)
	}
	return u, nil
}

// FindUserByUsername returns the user whose username matches case-insensitively, or ErrNotFound.
func FindUserByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("lower(username) = lower(?)", username).Scan(ctx); err != nil {
		return nil, notFound(err, "find user by username")
	}
	return u, nil
}

// FindUsers returns one page of users ordered by creation, and the total matching.
func FindUsers(ctx context.Context, db bun.IDB, f UserFilter) ([]User, int, error) {
	var users []User
	q := db.NewSelect().Model(&users)
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Active != nil {
		q = q.Where("is_active = ?", *f.Active)
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("lower(username) LIKE ?", like).WhereOr("lower(email) LIKE ?", like).WhereOr("lower(full_name) LIKE ?", like)
		})
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: count users: %w", err)
	}
	if f.After != nil {
		q = q.Where("(created_at, id) > (?, ?)", f.After.Time, f.After.ID)
	}
	if err := q.Order("created_at ASC", "id ASC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: find users: %w", err)
	}
	return users, int(total), nil
}

// UpdateUser writes the editable fields of u (email, full name, role, active).
// It refuses, with ErrLastAdmin, a change that leaves no active admin; the
// check and the write happen under a lock on the admin rows.
func UpdateUser(ctx context.Context, db bun.IDB, u *User) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if u.Role != "admin" || !u.IsActive {
			if err := ensureAnotherAdmin(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		u.UpdatedAt = time.Now()
		res, err := tx.NewUpdate().Model(u).Column("email", "full_name", "role", "is_active", "updated_at").WherePK().Returning("*").Exec(ctx)
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: update user %s: %w", u.ID, ErrConflict)
			}
			return fmt.Errorf("store: update user %s: %w", u.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: update user %s: %w", u.ID, ErrNotFound)
		}
		return nil
	})
}

// DeleteUser removes a user (their sessions go with them). Deleting the last
// active admin gives ErrLastAdmin.
func DeleteUser(ctx context.Context, db bun.IDB, id string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := ensureAnotherAdmin(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: delete user %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: delete user %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// ensureAnotherAdmin locks the active admins and fails with ErrLastAdmin when
// userID is the only one of them.
func ensureAnotherAdmin(ctx context.Context, tx bun.Tx, userID string) error {
	var ids []string
	if err := tx.NewSelect().Model((*User)(nil)).Column("id").
		Where("role = 'admin' AND is_active").For("UPDATE").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("store: lock admins: %w", err)
	}
	for _, id := range ids {
		if id != userID {
			return nil
		}
	}
	if len(ids) == 0 {
		return nil // no active admin to protect (userID is not one)
	}
	return ErrLastAdmin
}

// SetUserPassword stores a new password hash for the user.
func SetUserPassword(ctx context.Context, db bun.IDB, id, hash string) error {
	res, err := db.NewUpdate().Model((*User)(nil)).
		Set("password_hash = ?", hash).Set("password_changed_at = now()").Set("updated_at = now()").
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set password %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set password %s: %w", id, ErrNotFound)
	}
	return nil
}

// TouchLogin records a successful login.
func TouchLogin(ctx context.Context, db bun.IDB, id string, at time.Time) error {
	if _, err := db.NewUpdate().Model((*User)(nil)).Set("last_login_at = ?", at).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: touch login %s: %w", id, err)
	}
	return nil
}

// CountActiveAdmins returns how many active admins exist.
func CountActiveAdmins(ctx context.Context, db bun.IDB) (int, error) {
	n, err := db.NewSelect().Model((*User)(nil)).Where("role = 'admin' AND is_active").Count(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return int(n), nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
