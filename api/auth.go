package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/store"
)

// LoginInput is the body of POST /auth/login.
type LoginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"254" doc:"Username (case-insensitive)" example:"admin"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"Password" example:"correct horse battery"`
	}
}

// TokenBody is a fresh token pair.
type TokenBody struct {
	AccessToken      string   `json:"accessToken" doc:"JWT to send as Authorization: Bearer"`
	RefreshToken     string   `json:"refreshToken" doc:"Opaque, single-use token for POST /auth/refresh"`
	TokenType        string   `json:"tokenType" example:"Bearer"`
	ExpiresIn        int      `json:"expiresIn" doc:"Access-token lifetime in seconds"`
	RefreshExpiresIn int      `json:"refreshExpiresIn" doc:"Refresh-token lifetime in seconds"`
	User             UserBody `json:"user"`
}

// TokenOutput wraps TokenBody.
type TokenOutput struct {
	Body TokenBody
}

// RefreshInput is the body of POST /auth/refresh.
type RefreshInput struct {
	Body struct {
		RefreshToken string `json:"refreshToken" minLength:"20" maxLength:"256" doc:"The refresh token from login or the previous refresh"`
	}
}

// MeOutput is the caller's profile and permissions.
type MeOutput struct {
	Body struct {
		User        UserBody `json:"user"`
		Permissions []string `json:"permissions"`
		SessionID   string   `json:"sessionId"`
	}
}

func registerAuth(api huma.API, s *Server) {
	register(api, op{ID: "login", Method: http.MethodPost, Path: "/auth/login", Tag: "Auth", Public: true,
		Summary: "Sign in with username and password",
		Desc: "Returns an access token and a refresh token. Unknown users and wrong passwords get the same " +
			"`invalid-credentials` answer. Attempts are limited per client IP and per account (429 with Retry-After)."},
		s.login)
	register(api, op{ID: "refresh-token", Method: http.MethodPost, Path: "/auth/refresh", Tag: "Auth", Public: true,
		Summary: "Exchange a refresh token for a new token pair",
		Desc: "Refresh tokens are single-use: each call returns a new one. Presenting a token that was already " +
			"used signs out the whole session (every token descended from the same login)."},
		s.refresh)
	register(api, op{ID: "logout", Method: http.MethodPost, Path: "/auth/logout", Tag: "Auth", Perm: auth.PermAccountSelf,
		Summary: "Sign out the current session", Status: http.StatusNoContent},
		s.logout)
	register(api, op{ID: "get-me", Method: http.MethodGet, Path: "/auth/me", Tag: "Auth", Perm: auth.PermAccountSelf,
		Summary: "The signed-in user and their permissions"},
		s.me)
}

func (s *Server) login(ctx context.Context, in *LoginInput) (*TokenOutput, error) {
	info := infoFrom(ctx)
	username := strings.ToLower(strings.TrimSpace(in.Body.Username))
	info.AuditActor = username
	if p := s.checkLoginRate(ctx, info.ClientIP, username); p != nil {
		return nil, p
	}

	u, err := store.FindUserByUsername(ctx, s.db, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Same work as a real check, so unknown users answer as slowly.
		if err := verifyPassword(ctx, s.dummyHash, in.Body.Password); !errors.Is(err, auth.ErrPasswordMismatch) {
			return nil, err
		}
		return nil, loginFailed()
	case err != nil:
		return nil, err
	}
	if err := verifyPassword(ctx, u.PasswordHash, in.Body.Password); err != nil {
		if !errors.Is(err, auth.ErrPasswordMismatch) {
			return nil, err
		}
		return nil, loginFailed()
	}
	if !u.IsActive {
		return nil, loginFailed()
	}
	info.AuditActorID = u.ID
	s.loginSucceeded(ctx, username, info.ClientIP)

	now := s.now()
	token, hash := auth.NewRefreshToken()
	sess := &store.Session{UserID: u.ID, TokenHash: hash, IP: info.ClientIP, UserAgent: info.UserAgent, ExpiresAt: now.Add(s.cfg.JWT.RefreshTTL)}
	if err := store.CreateSession(ctx, s.db, sess); err != nil {
		return nil, err
	}
	if err := store.TouchLogin(ctx, s.db, u.ID, now); err != nil {
		s.log.WarnContext(ctx, "record login time", slog.String("error", err.Error()))
	} else {
		u.LastLoginAt = &now
	}
	info.AuditResourceID = u.ID
	return s.tokenPair(u, sess.FamilyID, token)
}

// Login throttling. Three counters, each incremented atomically before it
// is judged (so parallel attempts cannot slip past a limit):
//   - per client IP, every attempt (ROLLCALL_LOGIN_RATE_IP);
//   - per account and client IP, every attempt not followed by a success
//     (ROLLCALL_LOGIN_RATE_ACCOUNT): one source guessing one account is
//     refused, and only that source;
//   - per account, failures from anywhere: past the same limit every
//     attempt on the account is slowed down (loginDelay), never refused, so
//     nobody can lock a user - the last admin included - out by failing
//     on purpose. An administrator clears both account counters with
//     DELETE /users/{id}/login-lock.

// loginKeys are an account's counter keys: the username is hashed, so no
// input reaches a key (or a SCAN pattern) as typed.
func loginKeys(username, ip string) (accountIP, account string) {
	h := sha256.Sum256([]byte(username))
	u := hex.EncodeToString(h[:12])
	return "login:u:" + u + ":ip:" + ip, "login:u:" + u + ":failures"
}

// loginAccountPrefix is the prefix of every per-IP counter of an account
// ("login:u:<hash>:ip:").
func loginAccountPrefix(username string) string {
	k, _ := loginKeys(username, "")
	return k
}

// maxLoginDelay caps the slow-down of an account under attack.
const maxLoginDelay = 5 * time.Second

// loginDelay is the wait before checking a password of an account with
// failures failed attempts in the window: none up to the limit, then half
// a second more per failure, at most maxLoginDelay.
func loginDelay(failures, limit int) time.Duration {
	if failures < limit {
		return 0
	}
	return min(time.Duration(failures-limit+1)*500*time.Millisecond, maxLoginDelay)
}

// checkLoginRate counts the attempt against the client IP and the account
// from that IP, refusing over either limit, then waits out the account's
// slow-down (if it is under attack).
func (s *Server) checkLoginRate(ctx context.Context, ip, username string) *Problem {
	ipLim, accLim := s.cfg.LoginRateIP, s.cfg.LoginRateAccount
	unavailable := func(err error) *Problem {
		// Failing open here would let a Redis outage disable brute-force protection.
		s.log.ErrorContext(ctx, "login rate limiter unavailable", slog.String("error", err.Error()))
		return newProblem(http.StatusServiceUnavailable, CodeUnavailable, "sign-in is temporarily unavailable")
	}
	ipRes, err := s.limiter.Hit(ctx, "login:ip:"+ip, ipLim.Limit, ipLim.Window)
	if err != nil {
		return unavailable(err)
	}
	if !ipRes.Allowed {
		return rateLimited(ipRes.Reset)
	}
	perIP, perAccount := loginKeys(username, ip)
	pairRes, err := s.limiter.Hit(ctx, perIP, accLim.Limit, accLim.Window)
	if err != nil {
		return unavailable(err)
	}
	if !pairRes.Allowed {
		return rateLimited(pairRes.Reset)
	}
	// The attempt counts as a failure of the account from the start (a
	// success takes it back): each attempt's slow-down is decided on the
	// count its own increment returned, so parallel attempts from many
	// sources cannot all read the same low count.
	accRes, err := s.limiter.Hit(ctx, perAccount, accLim.Limit, accLim.Window)
	if err != nil {
		return unavailable(err)
	}
	if d := loginDelay(accRes.Count-1, accLim.Limit); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return newProblem(http.StatusServiceUnavailable, CodeUnavailable, "sign-in was cancelled")
		}
	}
	return nil
}

// loginFailed answers a failed sign-in. checkLoginRate already counted it
// against the source and the account.
func loginFailed() *Problem {
	return newProblem(http.StatusUnauthorized, CodeInvalidCredentials, "invalid username or password")
}

// loginSucceeded forgets the source's attempts on the account and takes
// this attempt back from the account's failures.
func (s *Server) loginSucceeded(ctx context.Context, username, ip string) {
	perIP, perAccount := loginKeys(username, ip)
	_ = s.limiter.Reset(ctx, perIP)
	if err := s.limiter.Undo(ctx, perAccount); err != nil {
		s.log.WarnContext(ctx, "uncount a successful login", slog.String("error", err.Error()))
	}
}

// passwordWait bounds how long a request waits for one of the process's
// password-hashing slots (internal/auth runs a few argon2 hashes at once)
// before it is answered 503, so a flood of sign-ins queues for seconds, not
// until the server's write timeout.
const passwordWait = 10 * time.Second

// verifyPassword is auth.VerifyPasswordContext with the wait bounded by
// passwordWait; a wait that ends unserved is a 503 problem.
func verifyPassword(ctx context.Context, encoded, password string) error {
	wctx, cancel := context.WithTimeout(ctx, passwordWait)
	defer cancel()
	return hashingBusy(auth.VerifyPasswordContext(wctx, encoded, password))
}

// hashPassword is auth.HashPasswordContext with the wait bounded by passwordWait.
func hashPassword(ctx context.Context, password string) (string, error) {
	wctx, cancel := context.WithTimeout(ctx, passwordWait)
	defer cancel()
	hash, err := auth.HashPasswordContext(wctx, password)
	return hash, hashingBusy(err)
}

func hashingBusy(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		p := newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the server is busy checking passwords; try again shortly")
		p.headers = http.Header{"Retry-After": {"5"}}
		return p
	}
	return err
}

func (s *Server) tokenPair(u *store.User, familyID, refreshToken string) (*TokenOutput, error) {
	access, err := s.tokens.Issue(u.ID, u.Username, auth.Role(u.Role), familyID)
	if err != nil {
		return nil, err
	}
	return &TokenOutput{Body: TokenBody{
		AccessToken:      access,
		RefreshToken:     refreshToken,
		TokenType:        "Bearer",
		ExpiresIn:        int(s.tokens.TTL() / time.Second),
		RefreshExpiresIn: int(s.cfg.JWT.RefreshTTL / time.Second),
		User:             userBody(u),
	}}, nil
}

func (s *Server) refresh(ctx context.Context, in *RefreshInput) (*TokenOutput, error) {
	info := infoFrom(ctx)
	// Refresh tokens are unguessable, but an IP hammering the endpoint is
	// still refused: its own per-IP limit is four times the login one.
	lim := s.cfg.LoginRateIP
	res, err := s.limiter.Hit(ctx, "refresh:ip:"+info.ClientIP, lim.Limit*4, lim.Window)
	if err != nil {
		s.log.ErrorContext(ctx, "refresh rate limiter unavailable", slog.String("error", err.Error()))
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "sign-in is temporarily unavailable")
	}
	if !res.Allowed {
		return nil, rateLimited(res.Reset)
	}
	now := s.now()
	token, hash := auth.NewRefreshToken()
	next := &store.Session{TokenHash: hash, IP: info.ClientIP, UserAgent: info.UserAgent, ExpiresAt: now.Add(s.cfg.JWT.RefreshTTL)}
	old, err := store.RotateSession(ctx, s.db, auth.HashRefreshToken(in.Body.RefreshToken), next, now)
	invalid := newProblem(http.StatusUnauthorized, CodeInvalidToken, "refresh token is invalid, expired or already used")
	switch {
	case errors.Is(err, store.ErrSessionReused):
		info.AuditActorID = old.UserID
		if rerr := s.revoked.Revoke(ctx, old.FamilyID); rerr != nil {
			return nil, rerr
		}
		s.log.WarnContext(ctx, "refresh token reuse: session family revoked", slog.String("user_id", old.UserID), slog.String("family_id", old.FamilyID))
		return nil, invalid
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrSessionExpired):
		return nil, invalid
	case err != nil:
		return nil, err
	}
	info.AuditActorID = old.UserID
	u, err := store.FindUserByID(ctx, s.db, old.UserID)
	if err != nil || !u.IsActive {
		if _, rerr := store.RevokeFamily(ctx, s.db, old.FamilyID, "user disabled", now); rerr != nil {
			return nil, rerr
		}
		return nil, invalid
	}
	info.AuditActor = u.Username
	return s.tokenPair(u, old.FamilyID, token)
}

func (s *Server) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	p := auth.PrincipalFromContext(ctx)
	if _, err := store.RevokeFamily(ctx, s.db, p.SessionID, "logout", s.now()); err != nil {
		return nil, err
	}
	if err := s.revoked.Revoke(ctx, p.SessionID); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Server) me(ctx context.Context, _ *struct{}) (*MeOutput, error) {
	p := auth.PrincipalFromContext(ctx)
	u, err := store.FindUserByID(ctx, s.db, p.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, newProblem(http.StatusUnauthorized, CodeInvalidToken, "user no longer exists")
		}
		return nil, err
	}
	out := &MeOutput{}
	out.Body.User = userBody(u)
	out.Body.SessionID = p.SessionID
	for _, perm := range auth.PermissionsOf(auth.Role(u.Role)) {
		out.Body.Permissions = append(out.Body.Permissions, string(perm))
	}
	return out, nil
}
