package config

import "time"

// RetentionConfig is how long each kind of data is kept (docs/operations.md,
// Retention). Zero keeps a kind forever (attendance only).
type RetentionConfig struct {
	// Detections keeps detections and their snapshot frames.
	Detections time.Duration
	// PipelineEvents keeps the detection pipeline's event log.
	PipelineEvents time.Duration
	// CameraEvents keeps cameras' health, state and config events.
	CameraEvents time.Duration
	// Attendance keeps attendance logs and daily records (0: forever).
	Attendance time.Duration
	// PartitionsAhead is how many days of partitions after today are kept
	// ready for detections and pipeline events.
	PartitionsAhead int
}

func loadRetention(e *env) RetentionConfig {
	day := 24 * time.Hour
	c := RetentionConfig{
		Detections:      e.duration("ROLLCALL_RETENTION_DETECTIONS", 30*day),
		PipelineEvents:  e.duration("ROLLCALL_RETENTION_PIPELINE_EVENTS", 30*day),
		CameraEvents:    e.duration("ROLLCALL_RETENTION_CAMERA_EVENTS", 90*day),
		Attendance:      e.duration("ROLLCALL_RETENTION_ATTENDANCE", 0),
		PartitionsAhead: e.int("ROLLCALL_PARTITIONS_AHEAD", 7),
	}
	for _, r := range []struct {
		name string
		v    time.Duration
	}{
		{"ROLLCALL_RETENTION_DETECTIONS", c.Detections},
		{"ROLLCALL_RETENTION_PIPELINE_EVENTS", c.PipelineEvents},
		{"ROLLCALL_RETENTION_CAMERA_EVENTS", c.CameraEvents},
	} {
		if r.v < day || r.v > 3650*day {
			e.fail(r.name, "must be from 24h to 87600h")
		}
	}
	if c.Attendance != 0 && (c.Attendance < day || c.Attendance > 36500*day) {
		e.fail("ROLLCALL_RETENTION_ATTENDANCE", "must be 0 (keep forever) or from 24h to 876000h")
	}
	if c.PartitionsAhead < 1 || c.PartitionsAhead > 90 {
		e.fail("ROLLCALL_PARTITIONS_AHEAD", "must be from 1 to 90")
	}
	return c
}
