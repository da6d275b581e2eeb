package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/rollcall/rollcall/internal/auth"
)

// authorize is the one place access rules are enforced. Every operation
// declares a permission or is explicitly public (see op); a request to a
// non-public operation needs a valid, unrevoked access token (401 otherwise)
// whose role grants the permission (403 otherwise). An operation with
// neither is refused, so a mistake fails closed.
func (s *Server) authorize(hctx huma.Context, next func(huma.Context)) {
	if op := hctx.Operation(); op.MaxBodyBytes > 0 {
		if r, w := humachi.Unwrap(hctx); r != nil {
			if r.ContentLength > op.MaxBodyBytes {
				s.writeMiddlewareProblem(hctx, newProblem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
					fmt.Sprintf("request body is larger than %d bytes", op.MaxBodyBytes)))
				return
			}
			// A chunked body declares no length: cap what is read, too.
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, op.MaxBodyBytes)
			}
		}
	}
	meta := hctx.Operation().Metadata
	if public, _ := meta[metaPublic].(bool); public {
		if !s.allowRate(hctx, nil) { // per client IP (sign-in, refresh)
			return
		}
		next(hctx)
		return
	}
	perm, _ := meta[metaPermission].(auth.Permission)
	if perm == "" {
		s.writeMiddlewareProblem(hctx, newProblem(http.StatusForbidden, CodeForbidden, "operation has no access rule"))
		return
	}
	p, problem := s.authenticate(hctx)
	if problem != nil {
		if problem.Status == http.StatusUnauthorized {
			// Requests without a valid token are limited per client IP: past
			// the limit they get 429 and cost nothing more.
			if limited := s.limitUnauthenticated(hctx.Context(), hctx.SetHeader); limited != nil {
				s.writeMiddlewareProblem(hctx, limited)
				return
			}
		}
		problem.headers = http.Header{"WWW-Authenticate": {`Bearer realm="rollcall"`}}
		s.writeMiddlewareProblem(hctx, problem)
		return
	}
	if info := infoFrom(hctx.Context()); info != nil {
		info.Principal = p
		// Kept in memory for the developer console's in-process calls,
		// which carry the caller's own token (never logged).
		info.bearer, _ = bearerToken(hctx.Header("Authorization"))
	}
	if !p.Can(perm) {
		s.writeMiddlewareProblem(hctx, newProblem(http.StatusForbidden, CodeForbidden, "your role does not have permission "+string(perm)))
		return
	}
	if !s.allowRate(hctx, p) {
		return
	}
	next(huma.WithContext(hctx, auth.NewContextWithPrincipal(hctx.Context(), p)))
}

// limitUnauthenticated counts a refused request against its client IP
// (ROLLCALL_UNAUTH_RATE_IP) and returns a 429 past the limit; when the
// count cannot be kept the 401 goes out (it is cheap). The RateLimit-*
// headers of that window go through setHeader.
func (s *Server) limitUnauthenticated(ctx context.Context, setHeader func(name, value string)) *Problem {
	info := infoFrom(ctx)
	if info == nil {
		return nil
	}
	lim := s.cfg.UnauthRateIP
	res, err := s.limiter.Hit(ctx, "unauth:ip:"+info.ClientIP, lim.Limit, lim.Window)
	if err != nil {
		return nil // the 401 itself is cheap; do not turn a Redis outage into 429s
	}
	setRateHeaders(setHeader, res.Limit, res.Remaining, res.Reset)
	if !res.Allowed {
		return rateLimited(res.Reset)
	}
	return nil
}

// authenticate verifies the bearer token and that its session is not revoked.
func (s *Server) authenticate(hctx huma.Context) (*auth.Principal, *Problem) {
	token, ok := bearerToken(hctx.Header("Authorization"))
	if !ok {
		return nil, newProblem(http.StatusUnauthorized, CodeUnauthorized, "authentication required: send Authorization: Bearer <access token>")
	}
	p, _, problem := s.verifyAccessToken(hctx.Context(), token)
	return p, problem
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// verifyAccessToken checks an access token and that its session is not
// revoked; it returns the caller and when the token expires. The problem
// is a 401, or a 503 when revocation cannot be checked.
func (s *Server) verifyAccessToken(ctx context.Context, token string) (*auth.Principal, time.Time, *Problem) {
	claims, err := s.tokens.Parse(token)
	if err != nil {
		return nil, time.Time{}, newProblem(http.StatusUnauthorized, CodeInvalidToken, "access token is invalid or expired")
	}
	revoked, err := s.revoked.IsRevoked(ctx, claims.SessionID)
	if err != nil {
		s.log.ErrorContext(ctx, "session revocation check failed", slog.String("error", err.Error()))
		return nil, time.Time{}, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "cannot verify the session right now")
	}
	if revoked {
		return nil, time.Time{}, newProblem(http.StatusUnauthorized, CodeInvalidToken, "session has been signed out")
	}
	p := &auth.Principal{UserID: claims.Subject, Username: claims.Username, Role: claims.Role, SessionID: claims.SessionID}
	return p, claims.ExpiresAt.Time, nil
}

func (s *Server) writeMiddlewareProblem(hctx huma.Context, p *Problem) {
	if info := infoFrom(hctx.Context()); info != nil {
		p.RequestID = info.RequestID
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			hctx.AppendHeader(k, v)
		}
	}
	hctx.SetHeader("Content-Type", "application/problem+json")
	hctx.SetStatus(p.Status)
	if err := json.NewEncoder(hctx.BodyWriter()).Encode(p); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		s.log.WarnContext(hctx.Context(), "write problem", slog.String("error", err.Error()))
	}
}
