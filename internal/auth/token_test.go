package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/auth"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef-test")
	testStart  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// clock is a settable time source for Tokens.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func mustTokens(tb testing.TB, o auth.TokenOptions) *auth.Tokens {
	tb.Helper()
	if o.Issuer == "" {
		o.Issuer = "rollcall"
	}
	if o.Audience == "" {
		o.Audience = "rollcall-api"
	}
	if o.TTL == 0 {
		o.TTL = 15 * time.Minute
	}
	tk, err := auth.NewTokens(o)
	require.NoError(tb, err)
	return tk
}

func mustEd25519PEM(tb testing.TB) string {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(tb, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(tb, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func mustIssue(tb testing.TB, tk *auth.Tokens) string {
	tb.Helper()
	s, err := tk.Issue("user-1", "alice", auth.RoleViewer, "family-1")
	require.NoError(tb, err)
	return s
}

// validClaims are claims an HS256 verifier at testStart accepts when signed properly.
func validClaims() auth.Claims {
	return auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "rollcall",
			Subject:   "user-1",
			Audience:  jwt.ClaimStrings{"rollcall-api"},
			IssuedAt:  jwt.NewNumericDate(testStart),
			ExpiresAt: jwt.NewNumericDate(testStart.Add(15 * time.Minute)),
		},
		SessionID: "family-1",
		Role:      auth.RoleAdmin,
		Username:  "alice",
	}
}

func mustSign(tb testing.TB, m jwt.SigningMethod, key any, c auth.Claims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	require.NoError(tb, err)
	return s
}

func b64JSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokensIssueAndParse(t *testing.T) {
	clk := &clock{t: testStart}
	tk := mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Now: clk.now})

	s, err := tk.Issue("user-1", "alice", auth.RoleOperator, "family-1")
	require.NoError(t, err)
	c, err := tk.Parse(s)
	require.NoError(t, err)

	require.Equal(t, "user-1", c.Subject)
	require.Equal(t, "alice", c.Username)
	require.Equal(t, auth.RoleOperator, c.Role)
	require.Equal(t, "family-1", c.SessionID)
	require.Equal(t, "rollcall", c.Issuer)
	require.Equal(t, jwt.ClaimStrings{"rollcall-api"}, c.Audience)
	require.Equal(t, testStart.Add(15*time.Minute), c.ExpiresAt.Time.UTC())
	require.NotEmpty(t, c.ID)
	require.Equal(t, 15*time.Minute, tk.TTL())

	other, err := tk.Issue("user-1", "alice", auth.RoleOperator, "family-1")
	require.NoError(t, err)
	require.NotEqual(t, s, other, "each token has its own ID")
}

func TestTokensExpire(t *testing.T) {
	clk := &clock{t: testStart}
	tk := mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Now: clk.now})
	s := mustIssue(t, tk)

	clk.t = testStart.Add(15*time.Minute - time.Second)
	_, err := tk.Parse(s)
	require.NoError(t, err, "still valid a second before expiry")

	clk.t = testStart.Add(15*time.Minute + 10*time.Second) // past the 5s leeway
	_, err = tk.Parse(s)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
}

func TestTokensRefuseUntrustedTokens(t *testing.T) {
	clk := &clock{t: testStart}
	hs := mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Now: clk.now})
	ed := mustTokens(t, auth.TokenOptions{Algorithm: "EdDSA", PrivateKeyPEM: mustEd25519PEM(t), Now: clk.now})
	otherEd := mustTokens(t, auth.TokenOptions{Algorithm: "EdDSA", PrivateKeyPEM: mustEd25519PEM(t), Now: clk.now})
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name     string
		verifier *auth.Tokens
		token    func(t *testing.T) string
	}{
		{"tampered payload", hs, func(t *testing.T) string {
			parts := strings.Split(mustIssue(t, hs), ".")
			c := validClaims() // role admin instead of the issued viewer
			parts[1] = b64JSON(t, c)
			return strings.Join(parts, ".")
		}},
		{"tampered signature", hs, func(t *testing.T) string {
			s := mustIssue(t, hs)
			i := strings.LastIndex(s, ".") + 1
			flipped := byte('A')
			if s[i] == 'A' {
				flipped = 'B'
			}
			return s[:i] + string(flipped) + s[i+1:]
		}},
		{"alg none", hs, func(t *testing.T) string {
			return b64JSON(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64JSON(t, validClaims()) + "."
		}},
		{"alg NONE", hs, func(t *testing.T) string {
			return b64JSON(t, map[string]string{"alg": "NONE", "typ": "JWT"}) + "." + b64JSON(t, validClaims()) + "."
		}},
		{"HS384 with the same secret", hs, func(t *testing.T) string {
			return mustSign(t, jwt.SigningMethodHS384, testSecret, validClaims())
		}},
		{"HS512 with the same secret", hs, func(t *testing.T) string {
			return mustSign(t, jwt.SigningMethodHS512, testSecret, validClaims())
		}},
		{"EdDSA token to an HS256 verifier", hs, func(t *testing.T) string {
			return mustSign(t, jwt.SigningMethodEdDSA, edKey, validClaims())
		}},
		{"HS256 token to an EdDSA verifier", ed, func(t *testing.T) string {
			return mustIssue(t, hs)
		}},
		{"EdDSA token of another key", ed, func(t *testing.T) string {
			return mustIssue(t, otherEd)
		}},
		{"other secret", hs, func(t *testing.T) string {
			return mustSign(t, jwt.SigningMethodHS256, []byte("another-secret-of-enough-length-000"), validClaims())
		}},
		{"wrong issuer", hs, func(t *testing.T) string {
			return mustIssue(t, mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Issuer: "someone-else", Now: clk.now}))
		}},
		{"wrong audience", hs, func(t *testing.T) string {
			return mustIssue(t, mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Audience: "other-api", Now: clk.now}))
		}},
		{"missing sid", hs, func(t *testing.T) string {
			s, err := hs.Issue("user-1", "alice", auth.RoleAdmin, "")
			require.NoError(t, err)
			return s
		}},
		{"missing subject", hs, func(t *testing.T) string {
			s, err := hs.Issue("", "alice", auth.RoleAdmin, "family-1")
			require.NoError(t, err)
			return s
		}},
		{"missing expiry", hs, func(t *testing.T) string {
			c := validClaims()
			c.ExpiresAt = nil
			return mustSign(t, jwt.SigningMethodHS256, testSecret, c)
		}},
		{"issued in the future", hs, func(t *testing.T) string {
			c := validClaims()
			c.IssuedAt = jwt.NewNumericDate(testStart.Add(time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(testStart.Add(2 * time.Hour))
			return mustSign(t, jwt.SigningMethodHS256, testSecret, c)
		}},
		{"not a JWT", hs, func(*testing.T) string { return "not-a-token" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.verifier.Parse(tt.token(t))
			require.ErrorIs(t, err, auth.ErrInvalidToken)
			require.Nil(t, c)
		})
	}
}

func TestTokensValidClaimsAreAcceptedWhenSignedProperly(t *testing.T) {
	// Guards TestTokensRefuseUntrustedTokens: its hand-made claims are refused
	// for the one flaw each case adds, not for being wrong to begin with.
	hs := mustTokens(t, auth.TokenOptions{Algorithm: "HS256", Secret: testSecret, Now: (&clock{t: testStart}).now})

	c, err := hs.Parse(mustSign(t, jwt.SigningMethodHS256, testSecret, validClaims()))
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, c.Role)
}

func TestTokensEdDSA(t *testing.T) {
	clk := &clock{t: testStart}
	tk := mustTokens(t, auth.TokenOptions{Algorithm: "EdDSA", PrivateKeyPEM: mustEd25519PEM(t), Now: clk.now})

	s, err := tk.Issue("user-2", "bob", auth.RoleHR, "family-2")
	require.NoError(t, err)
	header, _, _ := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	require.NoError(t, err)
	require.JSONEq(t, `{"alg":"EdDSA","typ":"JWT"}`, string(raw))

	c, err := tk.Parse(s)
	require.NoError(t, err)
	require.Equal(t, "user-2", c.Subject)
	require.Equal(t, auth.RoleHR, c.Role)
	require.Equal(t, "family-2", c.SessionID)
}

func TestNewTokensRefusesBadOptions(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	require.NoError(t, err)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))

	tests := []struct {
		name    string
		opts    auth.TokenOptions
		wantErr string
	}{
		{"HS256 secret of 31 bytes", auth.TokenOptions{Algorithm: "HS256", Secret: testSecret[:31]}, "at least 32 bytes"},
		{"HS256 without secret", auth.TokenOptions{Algorithm: "HS256"}, "at least 32 bytes"},
		{"EdDSA key not PEM", auth.TokenOptions{Algorithm: "EdDSA", PrivateKeyPEM: "not a key"}, "not PEM"},
		{"EdDSA with an ECDSA key", auth.TokenOptions{Algorithm: "EdDSA", PrivateKeyPEM: ecPEM}, "not Ed25519"},
		{"RS256", auth.TokenOptions{Algorithm: "RS256", Secret: testSecret}, "unsupported JWT algorithm"},
		{"none", auth.TokenOptions{Algorithm: "none", Secret: testSecret}, "unsupported JWT algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := auth.NewTokens(tt.opts)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, tk)
		})
	}
}

func TestRefreshTokens(t *testing.T) {
	tok1, hash1 := auth.NewRefreshToken()
	tok2, hash2 := auth.NewRefreshToken()

	require.NotEqual(t, tok1, tok2)
	require.NotEqual(t, hash1, hash2)
	require.Equal(t, hash1, auth.HashRefreshToken(tok1), "the stored hash is found again from the token")
	require.Equal(t, auth.HashRefreshToken(tok1), auth.HashRefreshToken(tok1))
	require.NotContains(t, hash1, tok1, "the token itself is not stored")
	require.Len(t, hash1, 64)
	require.GreaterOrEqual(t, len(tok1), 43, "at least 256 bits of randomness")
}
