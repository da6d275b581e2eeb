package contract

import "github.com/rollcall/rollcall/internal/provider"

// DetectFrameInput names one frame: an uploaded image in the object store,
// or a frame to capture now from a camera.
type DetectFrameInput struct {
	ImageKey string
	CameraID string
}

// FrameDetection is one face found in a frame.
type FrameDetection struct {
	ID            string       `json:"id"`
	Known         bool         `json:"known"`
	FaceProfileID string       `json:"faceProfileId,omitempty"`
	EmployeeCode  string       `json:"employeeCode,omitempty"`
	Name          string       `json:"name,omitempty"`
	Similarity    float64      `json:"similarity"`
	Confidence    float64      `json:"confidence"`
	Box           provider.Box `json:"box"`
}

// DetectFrameResult is what the provider found in the frame.
type DetectFrameResult struct {
	ImageKey   string           `json:"imageKey"`
	Detections []FrameDetection `json:"detections"`
	LatencyMs  int64            `json:"latencyMs"`
}
