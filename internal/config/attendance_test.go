package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
)

func TestLoadAttendance(t *testing.T) {
	c, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret}))
	require.NoError(t, err)
	require.Equal(t, config.AttendanceConfig{Timezone: "UTC", Cooldown: 5 * time.Minute, MinSession: 30 * time.Minute, ExportRetention: 7 * 24 * time.Hour, ExportPDFMaxRows: 25_000}, c.Attendance)

	c, err = config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret, "ROLLCALL_TIMEZONE": "Asia/Ho_Chi_Minh",
		"ROLLCALL_ATTENDANCE_THRESHOLD": "0.7", "ROLLCALL_ATTENDANCE_COOLDOWN": "2m"}))
	require.NoError(t, err)
	require.Equal(t, "Asia/Ho_Chi_Minh", c.Attendance.Location().String())
	require.InDelta(t, 0.7, c.Attendance.Threshold, 1e-9)
	require.Equal(t, 2*time.Minute, c.Attendance.Cooldown)

	for name, vars := range map[string]map[string]string{
		"ROLLCALL_TIMEZONE":               {"ROLLCALL_TIMEZONE": "Mars/Olympus"},
		"ROLLCALL_ATTENDANCE_THRESHOLD":   {"ROLLCALL_ATTENDANCE_THRESHOLD": "1.5"},
		"ROLLCALL_ATTENDANCE_COOLDOWN":    {"ROLLCALL_ATTENDANCE_COOLDOWN": "1s"},
		"ROLLCALL_ATTENDANCE_MIN_SESSION": {"ROLLCALL_ATTENDANCE_MIN_SESSION": "13h"},
		"ROLLCALL_EXPORT_RETENTION":       {"ROLLCALL_EXPORT_RETENTION": "1m"},
		"ROLLCALL_EXPORT_PDF_MAX_ROWS":    {"ROLLCALL_EXPORT_PDF_MAX_ROWS": "5000000"},
	} {
		vars["ROLLCALL_JWT_SECRET"] = goodSecret
		_, err := config.LoadFrom(envOf(vars))
		require.ErrorContains(t, err, name+":")
	}
}
