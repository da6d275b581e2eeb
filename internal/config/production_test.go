package config_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
)

// goodProduction is a production environment with nothing published.
func goodProduction() map[string]string {
	return map[string]string{
		"ROLLCALL_ENV":            "production",
		"ROLLCALL_JWT_SECRET":     "q3Jx9vL0s7TzP1mN8wK2cR5yH6bD4fGa0eU7iO3lQ9x=",
		"ROLLCALL_ENCRYPTION_KEY": goodKey,
		"ROLLCALL_DATABASE_URL":   "postgres://rollcall:Vq8s-long-random-Pw@db.internal:5432/rollcall?sslmode=require",
		"ROLLCALL_S3_ACCESS_KEY":  "rollcall-prod",
		"ROLLCALL_S3_SECRET_KEY":  "Zx7-long-random-S3-secret",
		"ROLLCALL_METRICS_TOKEN":  "scrape-token-0123456789",
	}
}

func TestProductionGuardrails(t *testing.T) {
	_, err := config.LoadFrom(envOf(goodProduction()))
	require.NoError(t, err, "a production configuration without published values starts")

	tests := []struct {
		name     string
		vars     map[string]string
		wantName string
	}{
		{"compose's JWT secret", map[string]string{"ROLLCALL_JWT_SECRET": "local-dev-only-jwt-secret-change-me-0123456789"}, "ROLLCALL_JWT_SECRET"},
		{"short JWT secret", map[string]string{"ROLLCALL_JWT_SECRET": "0123456789abcdef0123456789abcdef"[:31]}, "ROLLCALL_JWT_SECRET"},
		{"repetitive JWT secret", map[string]string{"ROLLCALL_JWT_SECRET": strings.Repeat("ab", 24)}, "ROLLCALL_JWT_SECRET"},
		{"all-zero encryption key", map[string]string{"ROLLCALL_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "ROLLCALL_ENCRYPTION_KEY"},
		{"compose's encryption key", map[string]string{"ROLLCALL_ENCRYPTION_KEY": "bG9jYWwtZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMDA="}, "ROLLCALL_ENCRYPTION_KEY"},
		{"default database URL", map[string]string{"ROLLCALL_DATABASE_URL": ""}, "ROLLCALL_DATABASE_URL"},
		{"database password = user", map[string]string{"ROLLCALL_DATABASE_URL": "postgres://app:app@db/rollcall"}, "ROLLCALL_DATABASE_URL"},
		{"default S3 credentials", map[string]string{"ROLLCALL_S3_ACCESS_KEY": "", "ROLLCALL_S3_SECRET_KEY": ""}, "ROLLCALL_S3_SECRET_KEY"},
		{"minioadmin", map[string]string{"ROLLCALL_S3_ACCESS_KEY": "minioadmin", "ROLLCALL_S3_SECRET_KEY": "minioadmin"}, "ROLLCALL_S3_SECRET_KEY"},
		{"open metrics", map[string]string{"ROLLCALL_METRICS_TOKEN": ""}, "ROLLCALL_METRICS_TOKEN"},
		{"synthetic face engine", map[string]string{"ROLLCALL_BUILTIN_ENGINE": "synthetic"}, "ROLLCALL_BUILTIN_ENGINE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := goodProduction()
			maps.Copy(vars, tt.vars)
			_, err := config.LoadFrom(envOf(vars))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantName+":")
			for _, v := range tt.vars {
				if v != "" {
					require.NotContains(t, err.Error(), v, "the error names the variable, not its value")
				}
			}
		})
	}
	vars := goodProduction()
	vars["ROLLCALL_METRICS_TOKEN"], vars["ROLLCALL_METRICS_ADDR"] = "", "10.0.0.2:9464"
	_, err = config.LoadFrom(envOf(vars))
	require.NoError(t, err, "a separate metrics listener replaces the token")

	// Development keeps its defaults.
	dev := goodProduction()
	for k := range dev {
		if !strings.HasPrefix(k, "ROLLCALL_JWT") && k != "ROLLCALL_ENCRYPTION_KEY" {
			delete(dev, k)
		}
	}
	_, err = config.LoadFrom(envOf(dev))
	require.NoError(t, err)
}
