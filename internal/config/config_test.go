package config_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
)

const (
	goodSecret = "0123456789abcdef0123456789abcdef"
	goodKey    = "mryhsrYzwDhnWg8R3iFouxnQojvCv8t+ADCm5JiMXPA="
)

// envOf returns a getenv over vars; every other variable is unset except
// the encryption key, which has no default.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok || k != "ROLLCALL_ENCRYPTION_KEY" {
			return v
		}
		return goodKey
	}
}

func TestLoadDefaultsMatchLocalStack(t *testing.T) {
	c, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret}))
	require.NoError(t, err)

	require.Equal(t, "dev", c.Env)
	require.Equal(t, "postgres://rollcall:rollcall@127.0.0.1:55432/rollcall?sslmode=disable", c.DatabaseURL)
	require.Equal(t, "127.0.0.1:56379", c.RedisAddr)
	require.Equal(t, "127.0.0.1:59000", c.S3Endpoint)
	require.Equal(t, "127.0.0.1:57233", c.TemporalAddress)
	require.Equal(t, "default", c.TemporalNamespace)
	require.Equal(t, "HS256", c.JWT.Algorithm)
	require.Equal(t, []byte(goodSecret), c.JWT.Secret)
	require.Equal(t, 15*time.Minute, c.JWT.AccessTTL)
	require.Equal(t, config.RateLimit{Limit: 30, Window: 5 * time.Minute}, c.LoginRateIP)
	require.True(t, c.AutoMigrate)
	require.False(t, c.TrustProxy, "X-Forwarded-For is not trusted unless asked")
	require.Equal(t, 10, c.PasswordMinLength)
	require.Len(t, c.EncryptionKey, 32)
	require.Equal(t, config.BuiltinConfig{Engine: config.BuiltinEngineFaceNet, ModelsDir: ".local/models", FaceMinSize: 40, FaceInputSize: 416}, c.Builtin,
		"real recognition is the default")
}

func TestLoadReadsOverrides(t *testing.T) {
	c, err := config.LoadFrom(envOf(map[string]string{
		"ROLLCALL_JWT_SECRET":         goodSecret,
		"ROLLCALL_ENV":                "production",
		"ROLLCALL_HTTP_ADDR":          " 0.0.0.0:9000 ",
		"ROLLCALL_CORS_ORIGINS":       "https://a.example, ,https://b.example",
		"ROLLCALL_AUTO_MIGRATE":       "false",
		"ROLLCALL_LOGIN_RATE_IP":      "30/5m",
		"ROLLCALL_API_RATE_USER":      "100/1s",
		"ROLLCALL_SHUTDOWN_TIMEOUT":   "3s",
		"ROLLCALL_REDIS_DB":           "2",
		"ROLLCALL_JWT_ACCESS_TTL":     "5m",
		"ROLLCALL_AUDIT_RETENTION":    "720h",
		"ROLLCALL_TEMPORAL_NAMESPACE": "rollcall",
		// Production refuses the development defaults of these.
		"ROLLCALL_DATABASE_URL":  "postgres://rollcall:Long-Random-Pw-1@db:5432/rollcall",
		"ROLLCALL_S3_ACCESS_KEY": "rollcall-prod",
		"ROLLCALL_S3_SECRET_KEY": "Long-Random-S3-Secret-1",
		"ROLLCALL_METRICS_TOKEN": "scrape-token-0123456789",
	}))
	require.NoError(t, err)

	require.Equal(t, "production", c.Env)
	require.Equal(t, "0.0.0.0:9000", c.HTTPAddr)
	require.Equal(t, []string{"https://a.example", "https://b.example"}, c.CORSOrigins)
	require.False(t, c.AutoMigrate)
	require.Equal(t, config.RateLimit{Limit: 30, Window: 5 * time.Minute}, c.LoginRateIP)
	require.Equal(t, config.RateLimit{Limit: 100, Window: time.Second}, c.APIRateUser)
	require.Equal(t, 3*time.Second, c.ShutdownTimeout)
	require.Equal(t, 2, c.RedisDB)
	require.Equal(t, 5*time.Minute, c.JWT.AccessTTL)
	require.Equal(t, 30*24*time.Hour, c.AuditRetention)
	require.Equal(t, "rollcall", c.TemporalNamespace)
}

func TestLoadNamesEachBadVariable(t *testing.T) {
	tests := []struct {
		name     string
		vars     map[string]string
		wantName string
	}{
		{"no secret", map[string]string{"ROLLCALL_JWT_SECRET": ""}, "ROLLCALL_JWT_SECRET"},
		{"short secret", map[string]string{"ROLLCALL_JWT_SECRET": goodSecret[:31]}, "ROLLCALL_JWT_SECRET"},
		{"bad duration", map[string]string{"ROLLCALL_SHUTDOWN_TIMEOUT": "20"}, "ROLLCALL_SHUTDOWN_TIMEOUT"},
		{"bad bool", map[string]string{"ROLLCALL_AUTO_MIGRATE": "yes please"}, "ROLLCALL_AUTO_MIGRATE"},
		{"bad integer", map[string]string{"ROLLCALL_REDIS_DB": "one"}, "ROLLCALL_REDIS_DB"},
		{"rate not a rate", map[string]string{"ROLLCALL_LOGIN_RATE_IP": "abc"}, "ROLLCALL_LOGIN_RATE_IP"},
		{"rate without window", map[string]string{"ROLLCALL_LOGIN_RATE_ACCOUNT": "10"}, "ROLLCALL_LOGIN_RATE_ACCOUNT"},
		{"rate of zero", map[string]string{"ROLLCALL_API_RATE_USER": "0/1m"}, "ROLLCALL_API_RATE_USER"},
		{"unknown algorithm", map[string]string{"ROLLCALL_JWT_ALG": "HS512"}, "ROLLCALL_JWT_ALG"},
		{"EdDSA without key", map[string]string{"ROLLCALL_JWT_ALG": "EdDSA"}, "ROLLCALL_JWT_PRIVATE_KEY"},
		{"unreadable key file", map[string]string{"ROLLCALL_JWT_ALG": "EdDSA", "ROLLCALL_JWT_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "ROLLCALL_JWT_PRIVATE_KEY_FILE"},
		{"unknown environment", map[string]string{"ROLLCALL_ENV": "staging"}, "ROLLCALL_ENV"},
		{"refresh not longer than access", map[string]string{"ROLLCALL_JWT_REFRESH_TTL": "10m"}, "ROLLCALL_JWT_REFRESH_TTL"},
		{"weak password minimum", map[string]string{"ROLLCALL_PASSWORD_MIN_LENGTH": "6"}, "ROLLCALL_PASSWORD_MIN_LENGTH"},
		{"workflow wait too long", map[string]string{"ROLLCALL_WORKFLOW_WAIT": "5m"}, "ROLLCALL_WORKFLOW_WAIT"},
		{"presigned expiry beyond S3's limit", map[string]string{"ROLLCALL_S3_PRESIGNED_EXPIRY": "200h"}, "ROLLCALL_S3_PRESIGNED_EXPIRY"},
		{"unknown log level", map[string]string{"ROLLCALL_LOG_LEVEL": "chatty"}, "ROLLCALL_LOG_LEVEL"},
		{"no encryption key", map[string]string{"ROLLCALL_ENCRYPTION_KEY": ""}, "ROLLCALL_ENCRYPTION_KEY"},
		{"short encryption key", map[string]string{"ROLLCALL_ENCRYPTION_KEY": "c2hvcnQ="}, "ROLLCALL_ENCRYPTION_KEY"},
		{"unknown face engine", map[string]string{"ROLLCALL_BUILTIN_ENGINE": "dlib"}, "ROLLCALL_BUILTIN_ENGINE"},
		{"tiny minimum face", map[string]string{"ROLLCALL_FACE_MIN_SIZE": "4"}, "ROLLCALL_FACE_MIN_SIZE"},
		{"input size not a multiple of 32", map[string]string{"ROLLCALL_FACE_INPUT_SIZE": "400"}, "ROLLCALL_FACE_INPUT_SIZE"},
		{"input size too large", map[string]string{"ROLLCALL_FACE_INPUT_SIZE": "1056"}, "ROLLCALL_FACE_INPUT_SIZE"},
		{"input size too small", map[string]string{"ROLLCALL_FACE_INPUT_SIZE": "96"}, "ROLLCALL_FACE_INPUT_SIZE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"ROLLCALL_JWT_SECRET": goodSecret}
			maps.Copy(vars, tt.vars)
			_, err := config.LoadFrom(envOf(vars))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantName+":")
		})
	}
}

// TestLoadBuiltin: `rollcall provider` reads the built-in provider's
// variables alone, and is held to the same production guardrail.
func TestLoadBuiltin(t *testing.T) {
	c, err := config.LoadBuiltin(envOf(map[string]string{"ROLLCALL_BUILTIN_ENGINE": "synthetic", "ROLLCALL_MODELS_DIR": "/srv/models",
		"ROLLCALL_FACE_MIN_SIZE": "60", "ROLLCALL_FACE_INPUT_SIZE": "608"}))
	require.NoError(t, err, "no JWT secret or encryption key needed")
	require.Equal(t, config.BuiltinConfig{Engine: config.BuiltinEngineSynthetic, ModelsDir: "/srv/models", FaceMinSize: 60, FaceInputSize: 608}, c)

	_, err = config.LoadBuiltin(envOf(map[string]string{"ROLLCALL_BUILTIN_ENGINE": "synthetic", "ROLLCALL_ENV": "production"}))
	require.ErrorContains(t, err, "ROLLCALL_BUILTIN_ENGINE:")
	_, err = config.LoadBuiltin(envOf(map[string]string{"ROLLCALL_ENV": "production"}))
	require.NoError(t, err, "facenet is fine in production")
}

func TestLoadReportsEveryErrorAtOnce(t *testing.T) {
	_, err := config.LoadFrom(envOf(map[string]string{
		"ROLLCALL_JWT_SECRET":       "short",
		"ROLLCALL_SHUTDOWN_TIMEOUT": "soon",
		"ROLLCALL_S3_USE_SSL":       "maybe",
		"ROLLCALL_LOGIN_RATE_IP":    "abc",
		"ROLLCALL_ENV":              "staging",
	}))
	require.Error(t, err)

	msg := err.Error()
	for _, name := range []string{"ROLLCALL_JWT_SECRET", "ROLLCALL_SHUTDOWN_TIMEOUT", "ROLLCALL_S3_USE_SSL", "ROLLCALL_LOGIN_RATE_IP", "ROLLCALL_ENV"} {
		require.Contains(t, msg, name+":")
	}
	require.Len(t, strings.Split(strings.TrimPrefix(msg, "config: "), "\n"), 5, "one line per bad variable:\n%s", msg)
}

func TestSecretKeyFromBase64(t *testing.T) {
	key, err := config.SecretKeyFromBase64("mryhsrYzwDhnWg8R3iFouxnQojvCv8t+ADCm5JiMXPA=", 32)
	require.NoError(t, err)
	require.Len(t, key, 32)

	_, err = config.SecretKeyFromBase64("c2hvcnQ=", 32)
	require.Error(t, err, "a 5-byte key is refused")
}
