package config

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// knownDevSecrets are values published in this repository (compose
// defaults, examples, config defaults): anyone can read them, so a
// production deployment must not run on them.
var knownDevSecrets = []string{
	"local-dev-only-jwt-secret-change-me-0123456789",
	"bG9jYWwtZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMDA=",
	"rollcall-secret",
	"minioadmin",
	"change-me",
	"changeme",
}

// defaultCredentials are user/password pairs that ship as defaults.
var defaultCredentials = map[string]bool{"rollcall": true, "postgres": true, "minioadmin": true, "admin": true, "password": true}

// checkProduction refuses, with ROLLCALL_ENV=production, what is safe
// only on a developer's machine: published or short secrets, default
// database and object-store credentials, and an open /metrics. Errors name
// the variable, never its value.
func checkProduction(c *Config, e *env) {
	if c.Env != "production" {
		return
	}
	known := func(v string) bool {
		v = strings.ToLower(strings.TrimSpace(v))
		if strings.Contains(v, "change-me") || strings.Contains(v, "dev-only") {
			return true
		}
		for _, k := range knownDevSecrets {
			if v == strings.ToLower(k) {
				return true
			}
		}
		return false
	}
	if c.JWT.Algorithm == "HS256" {
		switch {
		case known(string(c.JWT.Secret)):
			e.fail("ROLLCALL_JWT_SECRET", "is a published development value; generate one (head -c 48 /dev/urandom | base64)")
		case len(c.JWT.Secret) < 32:
			e.fail("ROLLCALL_JWT_SECRET", "must be at least 32 bytes in production")
		case distinctBytes(c.JWT.Secret) < minDistinctBytes:
			e.fail("ROLLCALL_JWT_SECRET", "is not random (too few distinct characters); generate one (head -c 48 /dev/urandom | base64)")
		}
	}
	if len(c.EncryptionKey) > 0 && distinctBytes(c.EncryptionKey) < minDistinctBytes {
		e.fail("ROLLCALL_ENCRYPTION_KEY", "is not random (too few distinct bytes); generate one (head -c 32 /dev/urandom | base64)")
	}
	for _, k := range knownDevSecrets {
		if d, err := base64.StdEncoding.DecodeString(k); err == nil && len(d) == 32 && string(d) == string(c.EncryptionKey) {
			e.fail("ROLLCALL_ENCRYPTION_KEY", "is a published development value; generate one (head -c 32 /dev/urandom | base64)")
		}
	}
	if u, err := url.Parse(c.DatabaseURL); err == nil && u.User != nil {
		pass, _ := u.User.Password()
		if pass == "" || defaultCredentials[pass] || known(pass) || pass == u.User.Username() {
			e.fail("ROLLCALL_DATABASE_URL", "uses a default or empty database password")
		}
	}
	if defaultCredentials[c.S3AccessKey] && (defaultCredentials[c.S3SecretKey] || known(c.S3SecretKey)) || known(c.S3SecretKey) || c.S3SecretKey == "" {
		e.fail("ROLLCALL_S3_SECRET_KEY", "uses the default object-store credentials")
	}
	if known(c.AdminPassword) || defaultCredentials[c.AdminPassword] {
		e.fail("ROLLCALL_ADMIN_PASSWORD", "is a default value")
	}
	if c.MetricsToken == "" && c.MetricsAddr == "" {
		e.fail("ROLLCALL_METRICS_TOKEN", "is required in production unless ROLLCALL_METRICS_ADDR serves /metrics on a separate listener")
	}
	checkBuiltinProduction(c.Env, c.Builtin, e)
}

// checkBuiltinProduction refuses the synthetic engine in production: it
// tells apart only facegen test people and would match real ones at random.
func checkBuiltinProduction(envName string, b BuiltinConfig, e *env) {
	if envName == "production" && b.Engine == BuiltinEngineSynthetic {
		e.fail("ROLLCALL_BUILTIN_ENGINE", "the test engine recognises only facegen test people; production needs facenet")
	}
}

// minDistinctBytes is the fewest distinct bytes a production secret may
// have: 32 random bytes have about 30 and even 32 random hex digits almost
// never fewer than 10, while fillers ("aaaa…", base64 of zeros, "ab"
// repeated) have a handful.
const minDistinctBytes = 8

func distinctBytes(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}
