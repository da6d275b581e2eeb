package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// seed mirrors the built-in roles into the database and creates the first
// admin when there is none. A password not given in ROLLCALL_ADMIN_PASSWORD
// is generated and printed once.
func (a *app) seed(ctx context.Context) error {
	db, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := store.MigrateUp(ctx, db); err != nil {
		return err
	}
	return seedDB(ctx, db, a.cfg.AdminUsername, a.cfg.AdminEmail, a.cfg.AdminPassword, a.cfg.PasswordMinLength, a.stdout)
}

func seedDB(ctx context.Context, db *bun.DB, username, email, password string, minLen int, out interface{ Write([]byte) (int, error) }) error {
	var rows []store.RoleRow
	for _, r := range auth.Roles() {
		row := store.RoleRow{Name: string(r.Name), Description: r.Description}
		for _, p := range r.Permissions {
			row.Permissions = append(row.Permissions, string(p))
		}
		rows = append(rows, row)
	}
	if err := store.UpsertRoles(ctx, db, rows); err != nil {
		return err
	}
	fmt.Fprintf(out, "roles: %d in place\n", len(rows))

	n, err := store.CountActiveAdmins(ctx, db)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(out, "admin: %d active admin(s) exist; none created\n", n)
		return nil
	}
	generated := password == ""
	if generated {
		password = auth.GeneratePassword()
	} else if reason := (auth.PasswordPolicy{MinLength: minLen}).Check(password, username); reason != "" {
		return fmt.Errorf("seed: ROLLCALL_ADMIN_PASSWORD %s", reason)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := &store.User{Username: username, Email: email, FullName: "Administrator", PasswordHash: hash, Role: string(auth.RoleAdmin), IsActive: true}
	if err := store.CreateUser(ctx, db, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("seed: create admin: the username %q or the email %q is taken by another user: %w", username, email, err)
		}
		return fmt.Errorf("seed: create admin: %w", err)
	}
	if generated {
		fmt.Fprintf(out, "admin: created %q with password %s  (shown once: store it now)\n", username, password)
	} else {
		fmt.Fprintf(out, "admin: created %q with the password from ROLLCALL_ADMIN_PASSWORD\n", username)
	}
	return nil
}
