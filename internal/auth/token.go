package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is returned for any token that must not be trusted: bad
// signature, unexpected algorithm (including "none"), wrong issuer or
// audience, expired or malformed.
var ErrInvalidToken = errors.New("auth: invalid token")

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      Role   `json:"role"`
	Username  string `json:"name"`
}

// Tokens issues and verifies access tokens with one configured algorithm.
type Tokens struct {
	method   jwt.SigningMethod
	signKey  any
	verify   any
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time

	// verified remembers tokens whose signature and claims checked out,
	// until they expire: the same bytes verify the same way, and a
	// dashboard presents one token many times a second.
	mu       sync.RWMutex
	verified map[string]*Claims
}

// maxVerified bounds the verified-token memo.
const maxVerified = 10000

// TokenOptions configure NewTokens.
type TokenOptions struct {
	Algorithm     string // HS256 or EdDSA
	Secret        []byte
	PrivateKeyPEM string
	Issuer        string
	Audience      string
	TTL           time.Duration
	Now           func() time.Time
}

// NewTokens builds a Tokens from its options.
func NewTokens(o TokenOptions) (*Tokens, error) {
	t := &Tokens{issuer: o.Issuer, audience: o.Audience, ttl: o.TTL, now: o.Now, verified: make(map[string]*Claims)}
	if t.now == nil {
		t.now = time.Now
	}
	switch o.Algorithm {
	case "HS256":
		if len(o.Secret) < 32 {
			return nil, errors.New("auth: HS256 secret must be at least 32 bytes")
		}
		t.method, t.signKey, t.verify = jwt.SigningMethodHS256, o.Secret, o.Secret
	case "EdDSA":
		block, _ := pem.Decode([]byte(o.PrivateKeyPEM))
		if block == nil {
			return nil, errors.New("auth: EdDSA key is not PEM")
		}
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: parse EdDSA key: %w", err)
		}
		priv, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("auth: EdDSA key is not Ed25519")
		}
		t.method, t.signKey, t.verify = jwt.SigningMethodEdDSA, crypto.Signer(priv), priv.Public()
	default:
		return nil, fmt.Errorf("auth: unsupported JWT algorithm %q", o.Algorithm)
	}
	return t, nil
}

// TTL is the lifetime of issued access tokens.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for a user's session.
func (t *Tokens) Issue(userID, username string, role Role, sessionID string) (string, error) {
	now := t.now()
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		SessionID: sessionID,
		Role:      role,
		Username:  username,
	}
	s, err := jwt.NewWithClaims(t.method, claims).SignedString(t.signKey)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Parse verifies a token and returns its claims, or ErrInvalidToken.
// Only the configured algorithm is accepted. The returned claims are
// shared: do not modify them.
func (t *Tokens) Parse(token string) (*Claims, error) {
	t.mu.RLock()
	c, ok := t.verified[token]
	t.mu.RUnlock()
	if ok {
		if t.now().Before(c.ExpiresAt.Time) {
			return c, nil
		}
		t.mu.Lock()
		delete(t.verified, token)
		t.mu.Unlock()
		return nil, ErrInvalidToken
	}
	c, err := t.parse(token)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerified {
		clear(t.verified)
	}
	t.verified[token] = c
	t.mu.Unlock()
	return c, nil
}

func (t *Tokens) parse(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.verify, nil },
		jwt.WithValidMethods([]string{t.method.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || c.Subject == "" || c.SessionID == "" {
		return nil, ErrInvalidToken
	}
	return &c, nil
}

// NewRefreshToken returns a random opaque refresh token and its storage hash.
func NewRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token)
}

// HashRefreshToken is the form in which refresh tokens are stored.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
