package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
)

// Each class's ROLLCALL_RATE_<CLASS>_USER and _IP set that class's limits
// and no other's.
func TestClassRatesFromEnv(t *testing.T) {
	defaults := config.DefaultClassRates()
	for i, name := range config.RateClassNames {
		t.Run(name, func(t *testing.T) {
			v := "ROLLCALL_RATE_" + strings.ToUpper(name)
			c, err := config.LoadFrom(envOf(map[string]string{
				"ROLLCALL_JWT_SECRET": goodSecret,
				v + "_USER":           "7/30s",
				v + "_IP":             "11/2h",
			}))
			require.NoError(t, err)
			got := c.Rates.Class(name)
			require.NotNil(t, got)
			require.Equal(t, config.RateLimit{Limit: 7, Window: 30 * time.Second}, got.User)
			require.Equal(t, config.RateLimit{Limit: 11, Window: 2 * time.Hour}, got.IP)
			for j, other := range config.RateClassNames {
				if j != i {
					require.Equal(t, *defaults.Class(other), *c.Rates.Class(other), "%s changed %s", v, other)
				}
			}
		})
	}
}

func TestClassRateDefaults(t *testing.T) {
	c, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret}))
	require.NoError(t, err)
	require.Equal(t, config.DefaultClassRates(), c.Rates)
	for _, name := range config.RateClassNames {
		r := c.Rates.Class(name)
		require.Positive(t, r.User.Limit, name)
		require.Positive(t, r.IP.Limit, name)
		require.GreaterOrEqual(t, r.IP.Limit, r.User.Limit, "%s: an IP may carry several users", name)
	}
	require.Greater(t, c.Rates.Reads.User.Limit, c.Rates.Writes.User.Limit, "reads are the generous class")
	require.Less(t, c.Rates.Exports.User.Limit, c.Rates.Writes.User.Limit, "exports are tight")
	require.Less(t, c.Rates.Auth.IP.Limit, c.Rates.Reads.IP.Limit, "auth is tight per IP")
	require.Nil(t, c.Rates.Class("other"))
}

func TestClassRateBadValueNamed(t *testing.T) {
	for _, name := range config.RateClassNames {
		for _, scope := range []string{"_USER", "_IP"} {
			v := "ROLLCALL_RATE_" + strings.ToUpper(name) + scope
			_, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret, v: "10"}))
			require.ErrorContains(t, err, v+":")
		}
	}
}
