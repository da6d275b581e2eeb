package contract

import "time"

// LiveDetection is one detection as the live view (GET /detections/live)
// and live events (the detections channels) show it.
type LiveDetection struct {
	ID            string    `json:"id"`
	CameraID      string    `json:"cameraId"`
	At            time.Time `json:"at"`
	Known         bool      `json:"known"`
	FaceProfileID string    `json:"faceProfileId,omitempty"`
	EmployeeCode  string    `json:"employeeCode,omitempty"`
	Name          string    `json:"name,omitempty"`
	Similarity    float64   `json:"similarity"`
	Confidence    float64   `json:"confidence"`
	Box           [4]int    `json:"box" doc:"x, y, width, height"`
}
