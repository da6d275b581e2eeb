package api

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// setRateHeaders writes the RateLimit-* headers of draft-ietf-httpapi-ratelimit-headers.
func setRateHeaders(set func(name, value string), limit, remaining int, reset time.Duration) {
	set("RateLimit-Limit", strconv.Itoa(limit))
	set("RateLimit-Remaining", strconv.Itoa(remaining))
	set("RateLimit-Reset", strconv.Itoa(ceilSeconds(reset)))
}

// rateLimited is the 429 problem with its Retry-After.
func rateLimited(retryAfter time.Duration) *Problem {
	p := newProblem(http.StatusTooManyRequests, CodeRateLimited, "too many requests; retry later")
	p.headers = http.Header{"Retry-After": {strconv.Itoa(ceilSeconds(retryAfter))}}
	return p
}

func ceilSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
