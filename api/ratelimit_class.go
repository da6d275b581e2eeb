package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/ratelimit"
)

// rateClass is an operation's endpoint class for rate limits: each class
// has its own limits per user and per client IP (config.ClassRates).
type rateClass string

const (
	classAuth    rateClass = "auth"    // sign-in, refresh, password change, the rest of /auth
	classReads   rateClass = "reads"   // GET and HEAD
	classWrites  rateClass = "writes"  // other mutations
	classUploads rateClass = "uploads" // operations taking images or files (a raised MaxBody)
	classExports rateClass = "exports" // creating an export job
	classConsole rateClass = "console" // the developer console's invoke
	// classOwn marks operations outside /api/v1 with rules of their own
	// (the health endpoints: never limited).
	classOwn rateClass = "own"
)

// hugeDefaultMaxBody is Huma's default request-body limit; an operation
// that raises it takes files or images.
const hugeDefaultMaxBody = 1 << 20

// metaRateClass is the operation metadata key of its rateClass.
const metaRateClass = "rateClass"

// rateClassByID classifies the operations whose method, path and body
// limit do not tell their class.
var rateClassByID = map[string]rateClass{
	"create-attendance-export": classExports,
	"invoke-endpoint":          classConsole,
	"change-user-password":     classAuth,
}

// rateClass is the operation's class: its own Class if set, else by ID
// (rateClassByID), else derived: /health → own, /auth → auth, a raised
// MaxBody → uploads, GET/HEAD → reads, anything else → writes.
func (o op) rateClass() rateClass {
	if o.Class != "" {
		if _, known := classPolicies[o.Class]; !known && o.Class != classOwn {
			panic(fmt.Sprintf("api: operation %s has unknown rate class %q", o.ID, o.Class))
		}
		return o.Class
	}
	if c, ok := rateClassByID[o.ID]; ok {
		return c
	}
	switch {
	case strings.HasPrefix(o.Path, "/health/"):
		return classOwn
	case strings.HasPrefix(o.Path, "/auth/"):
		return classAuth
	case o.MaxBody > hugeDefaultMaxBody:
		return classUploads
	case o.Method == http.MethodGet || o.Method == http.MethodHead:
		return classReads
	}
	return classWrites
}

// classPolicy is how a class is counted.
type classPolicy struct {
	// exact classes are counted in Redis on every request (one pipelined
	// round trip); the others are decided in memory and reconciled with
	// Redis in the background (ratelimit.Local), like the per-user ceiling.
	exact bool
	// failOpen admits an exact class's request when Redis cannot decide;
	// otherwise the request is refused with 503 and Retry-After.
	failOpen bool
}

// classPolicies: the low-volume classes are exact. When Redis fails, auth
// fails closed (brute-force protection must not vanish with Redis, and
// sign-in needs Redis anyway), as do exports and the console (costly and
// deferrable: each starts a workflow or runs another operation); uploads
// fail open (a Redis blip must not stop face enrolment or camera imports;
// the body limit and the per-user ceiling still hold). Reads and writes
// keep deciding on this replica's own counts.
var classPolicies = map[rateClass]classPolicy{
	classAuth:    {exact: true},
	classReads:   {},
	classWrites:  {},
	classUploads: {exact: true, failOpen: true},
	classExports: {exact: true},
	classConsole: {exact: true},
}

// flushEvery is how often the in-memory limiters reconcile with Redis.
const flushEvery = 250 * time.Millisecond

// rateRetryAfter is the Retry-After of a fail-closed refusal.
const rateRetryAfter = 5 * time.Second

// rateLimits applies the per-user ceiling and the class limits.
type rateLimits struct {
	limiter *ratelimit.Limiter
	// ceiling is ROLLCALL_API_RATE_USER: every authenticated request of a
	// user, whatever its class.
	ceiling *ratelimit.Local
	classes map[rateClass]*classLimiter
	log     *slog.Logger
	warned  atomic.Int64 // unix nanos of the last Redis warning
}

type classLimiter struct {
	name   rateClass
	rate   config.ClassRate
	policy classPolicy
	user   *ratelimit.Local // in-memory classes only
	ip     *ratelimit.Local
}

func newRateLimits(limiter *ratelimit.Limiter, cfg config.Config, log *slog.Logger) *rateLimits {
	r := &rateLimits{limiter: limiter, classes: map[rateClass]*classLimiter{}, log: log}
	local := func(lim config.RateLimit) *ratelimit.Local {
		l := ratelimit.NewLocal(limiter, lim.Limit, lim.Window, flushEvery)
		l.OnError = func(err error) {
			r.warn("api rate limit not reconciled with Redis; deciding on this replica's counts", err)
		}
		return l
	}
	r.ceiling = local(cfg.APIRateUser)
	for name, policy := range classPolicies {
		rate := cfg.Rates.Class(string(name))
		if rate == nil {
			panic("api: no configured limits for rate class " + string(name))
		}
		c := &classLimiter{name: name, rate: *rate, policy: policy}
		if !policy.exact {
			c.user, c.ip = local(rate.User), local(rate.IP)
		}
		r.classes[name] = c
	}
	return r
}

// warn logs a Redis failure at most every ten seconds.
func (r *rateLimits) warn(msg string, err error) {
	now := time.Now().UnixNano()
	last := r.warned.Load()
	if now-last < int64(10*time.Second) || !r.warned.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn(msg, slog.String("error", err.Error()))
}

// check counts one request of class by the user (empty for a public
// operation) from ip. It returns the tightest window that applied (for
// the RateLimit-* headers; applied is false when none did) and, when the
// request is refused, the problem to answer: 429 past a limit, 503 when
// a fail-closed class cannot be counted.
func (r *rateLimits) check(ctx context.Context, class rateClass, userID, ip string) (res ratelimit.Result, applied bool, problem *Problem) {
	var results []ratelimit.Result
	if userID != "" {
		results = append(results, r.ceiling.Allow("api:user:"+userID))
	}
	if c := r.classes[class]; c != nil {
		userKey, ipKey := "class:"+string(class)+":user:"+userID, "class:"+string(class)+":ip:"+ip
		if c.policy.exact {
			var specs []ratelimit.Spec
			if userID != "" {
				specs = append(specs, ratelimit.Spec{Key: userKey, Limit: c.rate.User.Limit, Window: c.rate.User.Window})
			}
			if ip != "" {
				specs = append(specs, ratelimit.Spec{Key: ipKey, Limit: c.rate.IP.Limit, Window: c.rate.IP.Window})
			}
			rs, err := r.limiter.HitAll(ctx, specs...)
			switch {
			case err == nil:
				results = append(results, rs...)
			case c.policy.failOpen:
				r.warn("rate limit of class "+string(class)+" cannot be counted in Redis; admitting (fail open)", err)
			default:
				r.warn("rate limit of class "+string(class)+" cannot be counted in Redis; refusing (fail closed)", err)
				p := newProblem(http.StatusServiceUnavailable, CodeUnavailable, "rate limits cannot be checked right now; retry shortly")
				p.headers = http.Header{"Retry-After": {fmt.Sprint(ceilSeconds(rateRetryAfter))}}
				res, applied = tightest(results)
				return res, applied, p
			}
		} else {
			if userID != "" {
				results = append(results, c.user.Allow(userKey))
			}
			if ip != "" {
				results = append(results, c.ip.Allow(ipKey))
			}
		}
	}
	res, applied = tightest(results)
	if applied && !res.Allowed {
		return res, true, rateLimited(res.Reset)
	}
	return res, applied, nil
}

// tightest is the window a client should heed: a refusing one (the one
// that refuses longest), else the one with the fewest requests left (on a
// tie, the one that resets last).
func tightest(rs []ratelimit.Result) (ratelimit.Result, bool) {
	var best ratelimit.Result
	for i, r := range rs {
		if i == 0 || tighter(r, best) {
			best = r
		}
	}
	return best, len(rs) > 0
}

func tighter(a, b ratelimit.Result) bool {
	if a.Allowed != b.Allowed {
		return !a.Allowed
	}
	if !a.Allowed {
		return a.Reset > b.Reset
	}
	if a.Remaining != b.Remaining {
		return a.Remaining < b.Remaining
	}
	return a.Reset > b.Reset
}

// allowRate applies the rate limits of the operation's class to the
// caller (nil for a public operation: per client IP only) and writes the
// RateLimit-* headers of the tightest window; on refusal it writes the
// problem and returns false.
func (s *Server) allowRate(hctx huma.Context, p *auth.Principal) bool {
	class, _ := hctx.Operation().Metadata[metaRateClass].(rateClass)
	var userID, ip string
	if p != nil {
		userID = p.UserID
	}
	if info := infoFrom(hctx.Context()); info != nil {
		ip = info.ClientIP
	}
	res, applied, problem := s.rates.check(hctx.Context(), class, userID, ip)
	if applied {
		setRateHeaders(hctx.SetHeader, res.Limit, res.Remaining, res.Reset)
	}
	if problem != nil {
		s.writeMiddlewareProblem(hctx, problem)
		return false
	}
	return true
}
