package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/ratelimit"
	"github.com/rollcall/rollcall/internal/testenv"
)

// When Redis cannot count, each class does what its policy says: auth,
// exports and the console refuse (503 with Retry-After), uploads admit,
// and reads and writes keep deciding on this replica's counts.
func TestRateClassesWhenRedisIsDown(t *testing.T) {
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.Require(t, "ROLLCALL_REDIS_ADDR")}})
	require.NoError(t, err)
	rdb.Close() // every count now fails
	cfg := config.Config{APIRateUser: config.RateLimit{Limit: 100, Window: time.Minute}, Rates: config.DefaultClassRates()}
	cfg.Rates.Reads.User.Limit = 2
	r := newRateLimits(ratelimit.New(rdb, "rctest:down:"), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	for _, class := range []rateClass{classAuth, classExports, classConsole} {
		for _, user := range []string{"u1", ""} {
			_, _, p := r.check(ctx, class, user, "192.0.2.1")
			require.NotNil(t, p, "%s (user %q) fails closed", class, user)
			require.Equal(t, http.StatusServiceUnavailable, p.Status)
			require.NotEmpty(t, p.headers.Get("Retry-After"))
		}
	}
	res, applied, p := r.check(ctx, classUploads, "u1", "192.0.2.1")
	require.Nil(t, p, "uploads fail open")
	require.True(t, applied && res.Allowed, "the per-user ceiling still applies and answers")

	for _, class := range []rateClass{classReads, classWrites} {
		_, _, p := r.check(ctx, class, "u2", "192.0.2.1")
		require.Nil(t, p, class)
	}
	_, _, p = r.check(ctx, classReads, "u2", "192.0.2.1")
	require.Nil(t, p, "the second read")
	_, _, p = r.check(ctx, classReads, "u2", "192.0.2.1")
	require.NotNil(t, p, "the in-memory count still holds reads to 2")
	require.Equal(t, http.StatusTooManyRequests, p.Status)
}

func TestTightestWindow(t *testing.T) {
	ok := func(rem int, reset float64) ratelimit.Result {
		return ratelimit.Result{Allowed: true, Limit: 10, Remaining: rem, Reset: dur(reset)}
	}
	no := func(reset float64) ratelimit.Result { return ratelimit.Result{Limit: 3, Reset: dur(reset)} }
	_, applied := tightest(nil)
	require.False(t, applied)
	got, _ := tightest([]ratelimit.Result{ok(5, 10), ok(2, 30), ok(2, 40), ok(9, 1)})
	require.Equal(t, ok(2, 40), got, "fewest left, then the later reset")
	got, _ = tightest([]ratelimit.Result{ok(0, 50), no(20), no(30), ok(5, 1)})
	require.Equal(t, no(30), got, "a refusing window wins; the longest refusal decides Retry-After")
}

func dur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
