package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/auth"
)

func mustHash(tb testing.TB, password string) string {
	tb.Helper()
	h, err := auth.HashPassword(password)
	require.NoError(tb, err)
	return h
}

func TestHashPasswordRoundTrip(t *testing.T) {
	h := mustHash(t, "correct horse battery staple")

	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), "PHC string of argon2id: %s", h)
	require.NoError(t, auth.VerifyPassword(h, "correct horse battery staple"))
	require.ErrorIs(t, auth.VerifyPassword(h, "correct horse battery stapl"), auth.ErrPasswordMismatch)
	require.ErrorIs(t, auth.VerifyPassword(h, ""), auth.ErrPasswordMismatch)
}

func TestHashPasswordIsSalted(t *testing.T) {
	h1, h2 := mustHash(t, "same password"), mustHash(t, "same password")

	require.NotEqual(t, h1, h2, "two hashes of one password must differ (random salt)")
	require.NoError(t, auth.VerifyPassword(h1, "same password"))
	require.NoError(t, auth.VerifyPassword(h2, "same password"))
}

func TestVerifyPasswordRejectsMalformedHash(t *testing.T) {
	good := mustHash(t, "s3cret-passw0rd")
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=…,t=…,p=…, salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"too few fields", strings.Join(parts[:5], "$")},
		{"other version", with(2, "v=16")},
		{"garbled parameters", with(3, "m=x,t=2,p=1")},
		{"zero parallelism", with(3, "m=19456,t=2,p=0")},
		{"zero rounds", with(3, "m=19456,t=0,p=1")},
		{"absurd memory", with(3, "m=4294967295,t=2,p=1")},
		{"salt not base64", with(4, "!!!")},
		{"key not base64", with(5, "!!!")},
		{"empty key", with(5, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.VerifyPassword(tt.hash, "s3cret-passw0rd")
			require.Error(t, err)
			require.NotErrorIs(t, err, auth.ErrPasswordMismatch, "a malformed hash is not a wrong password")
		})
	}
}

func TestPasswordPolicyCheck(t *testing.T) {
	policy := auth.PasswordPolicy{MinLength: 10}
	tests := []struct {
		name, password, username string
		want                     string // "" means accepted
	}{
		{"too short", "abc123xyz", "alice", "must be at least 10 characters"},
		{"too long", strings.Repeat("ab1!", 33), "alice", "must be at most 128 characters"},
		{"longest allowed", strings.Repeat("ab1!", 32), "alice", ""},
		{"common", "Password123", "alice", "is too common"},
		{"contains username", "my-ALICE-pass-99", "alice", "must not contain the username"},
		{"contains username in other case", "xx-alice-yy-77", "Alice", "must not contain the username"},
		{"three distinct characters", "abcabcabcabc", "alice", "must use at least 4 different characters"},
		{"length counts characters, not bytes", "éàüöß1234", "bob", "must be at least 10 characters"},
		{"ok", "tangerine-kayak-42", "alice", ""},
		{"ok without username", "tangerine-kayak-42", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, policy.Check(tt.password, tt.username))
		})
	}
}

func TestGeneratePasswordPassesPolicy(t *testing.T) {
	p1, p2 := auth.GeneratePassword(), auth.GeneratePassword()

	require.Len(t, p1, 20)
	require.NotEqual(t, p1, p2)
	require.Empty(t, auth.PasswordPolicy{MinLength: 12}.Check(p1, "admin"))
}
