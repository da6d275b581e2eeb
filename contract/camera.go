package contract

import (
	"time"
)

// ProbeOutcome is what a connection test found. Code and Message are set
// when OK is false; they never contain credentials.
type ProbeOutcome struct {
	OK        bool    `json:"ok"`
	Codec     string  `json:"codec,omitempty"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	FPS       float64 `json:"fps,omitempty"`
	LatencyMs int64   `json:"latencyMs"`
	Code      string  `json:"code,omitempty"`
	Message   string  `json:"message,omitempty"`
}

// HealthChangeResult says whether recording a probe changed the camera's health.
type HealthChangeResult struct {
	Changed  bool
	From, To string
}

// SnapshotInput asks for one JPEG of a camera stored under Key.
type SnapshotInput struct {
	CameraID string
	Key      string
}

// SnapshotResult describes a stored snapshot.
type SnapshotResult struct {
	Key     string
	Size    int64
	TakenAt time.Time
}

// ReconcileResult lists the streams a reconciliation started and stopped.
type ReconcileResult struct {
	Started []string
	Stopped []string
}

// CameraHealthWorkflowInput tunes one round of health checks.
type CameraHealthWorkflowInput struct {
	// StaleAfter: an active camera not seen for this long is probed.
	StaleAfter time.Duration
	// Concurrency bounds the probes in flight.
	Concurrency int
}

// CameraHealthWorkflowResult counts one round.
type CameraHealthWorkflowResult struct {
	Probed, Online, Offline, Changed int
}

// CameraProbeWorkflowInput names the camera to test.
type CameraProbeWorkflowInput struct {
	CameraID string
}

// CameraSnapshotWorkflowInput names the camera to photograph.
type CameraSnapshotWorkflowInput struct {
	CameraID string
}
