package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
	"github.com/rollcall/rollcall/temporal"
)

// stackEnv is the process environment (the stack's variables) with overrides;
// an override of "" unsets a variable.
func stackEnv(overrides map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
}

// freshDBEnv returns the stack's environment pointed at a fresh database, and that database.
func freshDBEnv(tb testing.TB, overrides map[string]string) (func(string) string, *bun.DB) {
	tb.Helper()
	testenv.Require(tb, "ROLLCALL_JWT_SECRET")
	url := testenv.DatabaseURL(tb)
	db, err := store.Open(context.Background(), url, 2)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	vars := map[string]string{"ROLLCALL_DATABASE_URL": url, "ROLLCALL_LOG_LEVEL": "error"}
	for k, v := range overrides {
		vars[k] = v
	}
	return stackEnv(vars), db
}

func mustRun(tb testing.TB, getenv func(string) string, args ...string) string {
	tb.Helper()
	var out bytes.Buffer
	require.NoError(tb, run(context.Background(), args, getenv, &out), "rollcall %s", strings.Join(args, " "))
	return out.String()
}

func TestRunRefusesBadUsage(t *testing.T) {
	unconfigured := func(string) string { return "" }
	// configured, with a database that cannot answer: the step is refused before connecting
	configured := stackEnv(map[string]string{"ROLLCALL_JWT_SECRET": strings.Repeat("k", 32),
		"ROLLCALL_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"})
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
	}{
		{"no command", nil, unconfigured},
		{"unknown command, even unconfigured", []string{"frobnicate"}, unconfigured},
		{"unknown migrate step", []string{"migrate", "sideways"}, configured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, tt.getenv, &bytes.Buffer{})
			var u usageError
			require.ErrorAs(t, err, &u, "got %v", err)
		})
	}
}

func TestRunVersionAndHelpNeedNoConfiguration(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"version"}, func(string) string { return "" }, &out))
	require.Equal(t, version+"\n", out.String())

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"help"}, func(string) string { return "" }, &out))
	require.Contains(t, out.String(), "rollcall migrate up|down|status")
}

func TestRunReportsBadConfiguration(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, stackEnv(map[string]string{"ROLLCALL_JWT_SECRET": "short"}), &bytes.Buffer{})
	require.ErrorContains(t, err, "ROLLCALL_JWT_SECRET")
}

func TestRunMigrate(t *testing.T) {
	getenv, _ := freshDBEnv(t, nil)
	pending := regexp.MustCompile(`(?m)^20261125000001_foundation\s+pending$`)
	applied := regexp.MustCompile(`(?m)^20261125000001_foundation\s+applied \d{4}-\d\d-\d\dT`)

	require.Contains(t, mustRun(t, getenv, "migrate", "down"), "rolled back 20261125000001_foundation")
	require.Contains(t, mustRun(t, getenv, "migrate", "down"), "nothing to roll back")
	require.Regexp(t, pending, mustRun(t, getenv, "migrate", "status"))

	require.Contains(t, mustRun(t, getenv, "migrate", "up"), "applied 20261125000001_foundation")
	require.Regexp(t, applied, mustRun(t, getenv, "migrate", "status"))
	require.Contains(t, mustRun(t, getenv, "migrate"), "database is up to date", "migrate means migrate up")
}

var generatedPassword = regexp.MustCompile(`admin: created "admin" with password (\S+)`)

func TestRunSeedCreatesFirstAdminOnce(t *testing.T) {
	getenv, db := freshDBEnv(t, map[string]string{"ROLLCALL_ADMIN_PASSWORD": ""})
	ctx := context.Background()

	first := mustRun(t, getenv, "seed")
	m := generatedPassword.FindStringSubmatch(first)
	require.NotNil(t, m, "the generated password is shown:\n%s", first)
	u, err := store.FindUserByUsername(ctx, db, "admin")
	require.NoError(t, err)
	require.Equal(t, "admin", u.Role)
	require.NoError(t, auth.VerifyPassword(u.PasswordHash, m[1]), "the shown password signs in")

	second := mustRun(t, getenv, "seed")
	require.Contains(t, second, "1 active admin(s) exist; none created")
	require.NotContains(t, second, m[1], "the password is shown only once")
	n, err := store.CountActiveAdmins(ctx, db)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	var viewer store.RoleRow
	require.NoError(t, db.NewSelect().Model(&viewer).Where("name = 'viewer'").Scan(ctx))
	var want []string
	for _, p := range auth.PermissionsOf(auth.RoleViewer) {
		want = append(want, string(p))
	}
	require.ElementsMatch(t, want, viewer.Permissions, "the roles table mirrors the built-in roles")
}

func TestRunSeedRefusesWeakAdminPassword(t *testing.T) {
	getenv, db := freshDBEnv(t, map[string]string{"ROLLCALL_ADMIN_PASSWORD": "password123"})

	err := run(context.Background(), []string{"seed"}, getenv, &bytes.Buffer{})
	require.ErrorContains(t, err, "ROLLCALL_ADMIN_PASSWORD is too common")

	n, err := store.CountActiveAdmins(context.Background(), db)
	require.NoError(t, err)
	require.Zero(t, n, "no admin with a weak password")
}

func TestRunAllServesUntilCancelled(t *testing.T) {
	const password = "e2e-Sesame-passphrase-42"
	_, prefix := testenv.Redis(t)
	namespace := testenv.TemporalNamespace(t, "rollcall-test-cmd")
	getenv, _ := freshDBEnv(t, map[string]string{
		"ROLLCALL_HTTP_ADDR":          "127.0.0.1:0",
		"ROLLCALL_REDIS_PREFIX":       prefix,
		"ROLLCALL_TEMPORAL_NAMESPACE": namespace,
		"ROLLCALL_ADMIN_PASSWORD":     password,
		"ROLLCALL_SHUTDOWN_TIMEOUT":   "5s",
	})
	require.Contains(t, mustRun(t, getenv, "seed"), "with the password from ROLLCALL_ADMIN_PASSWORD")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, []string{"all"}, getenv, &bytes.Buffer{}, ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("rollcall all exited before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("rollcall all did not start serving")
	}

	t.Run("ready with every dependency up", func(t *testing.T) {
		var health struct {
			Status string
			Checks map[string]struct{ Status string }
		}
		require.Equal(t, http.StatusOK, getJSON(t, base+"/health/ready", "", &health))
		require.Equal(t, "ok", health.Status)
		for _, dep := range []string{"postgres", "redis", "minio", "temporal"} {
			require.Equal(t, "up", health.Checks[dep].Status, "%s", dep)
		}
	})

	t.Run("seeded admin signs in", func(t *testing.T) {
		body := strings.NewReader(`{"username":"admin","password":"` + password + `"}`)
		resp, err := http.Post(base+"/api/v1/auth/login", "application/json", body)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var tokens struct{ AccessToken, RefreshToken string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tokens))
		require.NotEmpty(t, tokens.RefreshToken)

		var me struct {
			User struct{ Username, Role string }
		}
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/auth/me", tokens.AccessToken, &me))
		require.Equal(t, "admin", me.User.Username)
		require.Equal(t, "admin", me.User.Role)
	})

	t.Run("worker keeps the cleanup schedule", func(t *testing.T) {
		c, err := temporal.NewClient(temporal.Options{Address: getenv("ROLLCALL_TEMPORAL_ADDRESS"), Namespace: namespace, Log: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		defer c.Close()
		h := c.ScheduleClient().GetHandle(context.Background(), temporal.ScheduleCleanup)
		// Paused, not deleted: the next run's worker updates it in place, and
		// deleting an ID that is about to be re-created races on the server.
		t.Cleanup(func() { _ = h.Pause(context.Background(), client.SchedulePauseOptions{Note: "paused by tests"}) })
		require.Eventually(t, func() bool {
			_, err := h.Describe(context.Background())
			return err == nil
		}, 10*time.Second, 100*time.Millisecond)
	})

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a cancelled run shuts down gracefully")
	case <-time.After(10 * time.Second):
		t.Fatal("rollcall all did not stop within 10s of cancellation")
	}
	_, err := http.Get(base + "/health/live")
	require.Error(t, err, "the listener is closed after shutdown")
}

func getJSON(tb testing.TB, url, bearer string, into any) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(tb, err)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(into))
	return resp.StatusCode
}
