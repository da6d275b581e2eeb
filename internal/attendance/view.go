package attendance

import "time"

// EventLogCreated is the type of the attendance channel's event for a new
// log; its data is a LogView.
const EventLogCreated = "attendance.log"

// LogView is an attendance log as clients see it, on the attendance
// WebSocket channel and in the API: one shape for both.
type LogView struct {
	ID            string     `json:"id" format:"uuid"`
	FaceProfileID string     `json:"faceProfileId,omitempty" format:"uuid" doc:"Empty once the person was erased"`
	EmployeeCode  string     `json:"employeeCode" example:"E-1001"`
	Department    string     `json:"department" example:"Operations"`
	CameraID      string     `json:"cameraId,omitempty" format:"uuid"`
	Site          string     `json:"site" example:"HQ"`
	LoggedAt      time.Time  `json:"loggedAt"`
	WorkDate      string     `json:"workDate" example:"2026-12-03" doc:"The work day the log counts toward, in the site's or shift's zone"`
	Direction     string     `json:"direction" enum:"in,out"`
	Source        string     `json:"source" enum:"camera,manual,import"`
	DetectionID   string     `json:"detectionId,omitempty" format:"uuid"`
	Similarity    *float64   `json:"similarity,omitempty"`
	Reason        string     `json:"reason,omitempty" doc:"Why a person entered it (manual logs)"`
	CreatedBy     string     `json:"createdBy,omitempty" format:"uuid"`
	DeletedAt     *time.Time `json:"deletedAt,omitempty"`
	DeleteReason  string     `json:"deleteReason,omitempty"`
	SyncState     string     `json:"syncState" enum:"pending,synced,failed,skipped" doc:"Odoo HR sync state"`
	SyncError     string     `json:"syncError,omitempty"`
}
