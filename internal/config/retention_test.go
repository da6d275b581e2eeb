package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
)

func TestLoadRetention(t *testing.T) {
	day := 24 * time.Hour
	c, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret}))
	require.NoError(t, err)
	require.Equal(t, config.RetentionConfig{Detections: 30 * day, PipelineEvents: 30 * day, CameraEvents: 90 * day, PartitionsAhead: 7}, c.Retention,
		"attendance is kept forever unless a retention is set")

	c, err = config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret, "ROLLCALL_RETENTION_DETECTIONS": "168h",
		"ROLLCALL_RETENTION_PIPELINE_EVENTS": "48h", "ROLLCALL_RETENTION_CAMERA_EVENTS": "720h", "ROLLCALL_RETENTION_ATTENDANCE": "17520h",
		"ROLLCALL_PARTITIONS_AHEAD": "14"}))
	require.NoError(t, err)
	require.Equal(t, config.RetentionConfig{Detections: 7 * day, PipelineEvents: 2 * day, CameraEvents: 30 * day, Attendance: 730 * day, PartitionsAhead: 14}, c.Retention)

	for name, value := range map[string]string{
		"ROLLCALL_RETENTION_DETECTIONS":      "1h",
		"ROLLCALL_RETENTION_PIPELINE_EVENTS": "0",
		"ROLLCALL_RETENTION_CAMERA_EVENTS":   "ninety days",
		"ROLLCALL_RETENTION_ATTENDANCE":      "2h",
		"ROLLCALL_PARTITIONS_AHEAD":          "0",
	} {
		_, err := config.LoadFrom(envOf(map[string]string{"ROLLCALL_JWT_SECRET": goodSecret, name: value}))
		require.ErrorContains(t, err, name+":", "%s=%s", name, value)
	}
}
