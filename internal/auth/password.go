package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (OWASP's second recommended profile: 19 MiB, t=2, p=1).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
	// Bounds on the parameters VerifyPassword accepts from a stored hash.
	maxArgonTime      = 16
	maxArgonMemoryKiB = 1024 * 1024 // 1 GiB
	// MaxPasswordLength bounds the work an attacker can make one hash cost.
	MaxPasswordLength = 128
)

// hashing bounds the argon2 runs at once (each holds argonMemoryKiB of
// memory): requests beyond it wait their turn instead of exhausting the
// process's memory.
var hashing = make(chan struct{}, max(2, runtime.NumCPU()))

// hashingNow counts the argon2 runs in progress (hashingPeak their most).
var hashingNow, hashingPeak atomic.Int32

// idKey runs argon2id once a slot is free; it gives up with ctx's error
// if ctx ends first, so a request whose client has gone (or whose deadline
// passed) does not queue behind a flood of others.
func idKey(ctx context.Context, password, salt []byte, t, mem uint32, p uint8, n uint32) ([]byte, error) {
	select {
	case hashing <- struct{}{}:
	default:
		select {
		case hashing <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("auth: waiting to hash a password: %w", context.Cause(ctx))
		}
	}
	defer func() { <-hashing }()
	now := hashingNow.Add(1)
	defer hashingNow.Add(-1)
	for peak := hashingPeak.Load(); now > peak && !hashingPeak.CompareAndSwap(peak, now); peak = hashingPeak.Load() {
	}
	return argon2.IDKey(password, salt, t, mem, p, n), nil
}

// ErrPasswordMismatch is returned by VerifyPassword for a wrong password.
var ErrPasswordMismatch = errors.New("auth: password does not match")

// HashPassword returns an encoded argon2id hash in the PHC string format.
// It waits for a hashing slot however long it takes; request handlers use
// HashPasswordContext.
func HashPassword(password string) (string, error) {
	return HashPasswordContext(context.Background(), password)
}

// HashPasswordContext is HashPassword giving up, with ctx's error, if ctx
// ends while it waits for a hashing slot.
func HashPasswordContext(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key, err := idKey(ctx, []byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against an encoded hash. It returns
// ErrPasswordMismatch for a wrong password and another error for a malformed hash.
// It waits for a hashing slot however long it takes; request handlers use
// VerifyPasswordContext.
func VerifyPassword(encoded, password string) error {
	return VerifyPasswordContext(context.Background(), encoded, password)
}

// VerifyPasswordContext is VerifyPassword giving up, with ctx's error
// (neither nil nor ErrPasswordMismatch), if ctx ends while it waits for a
// hashing slot.
func VerifyPasswordContext(ctx context.Context, encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("auth: unsupported password hash")
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil {
		return errors.New("auth: malformed argon2 parameters")
	}
	// argon2.IDKey panics on t=0 or p=0; absurd cost would exhaust the process.
	if t < 1 || t > maxArgonTime || p < 1 || mem > maxArgonMemoryKiB {
		return errors.New("auth: argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return errors.New("auth: malformed argon2 hash")
	}
	got, err := idKey(ctx, []byte(password), salt, t, mem, p, uint32(len(want)))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

// PasswordPolicy is the minimum a new password must meet.
type PasswordPolicy struct {
	MinLength int
}

// commonPasswords are refused outright whatever their length.
var commonPasswords = map[string]bool{
	"password123": true, "password1234": true, "1234567890": true, "123456789012": true,
	"qwertyuiop": true, "letmein123": true, "administrator": true, "changeme123": true,
	"welcome123": true, "iloveyou123": true, "passw0rd123": true, "rollcall123": true,
}

// Check returns a user-facing reason the password is unacceptable, or "".
func (p PasswordPolicy) Check(password, username string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < p.MinLength:
		return fmt.Sprintf("must be at least %d characters", p.MinLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	case commonPasswords[strings.ToLower(password)]:
		return "is too common"
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return "must not contain the username"
	case distinctRunes(password) < 4:
		return "must use at least 4 different characters"
	}
	return ""
}

func distinctRunes(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}

// GeneratePassword returns a random password of 20 URL-safe characters.
func GeneratePassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
