// Package workflows holds Rollcall's deterministic workflow code. Side
// effects live in package activities; workflows refer to them through
// method values of a nil *activities.Activities.
package workflows

import "github.com/rollcall/rollcall/activities"

// a is used only for activity method references; it is never dereferenced.
var a *activities.Activities

// Workflow IDs of singletons started by schedules.
const (
	CleanupWorkflowID         = "cleanup"
	CameraHealthWorkflowID    = "camera-health"
	CameraReconcileWorkflowID = "camera-stream-reconcile"
)

// CameraStreamWorkflowIDPrefix starts the ID of every camera's stream workflow.
const CameraStreamWorkflowIDPrefix = "camera-stream/"

// CameraStreamWorkflowID is the stable ID of a camera's stream workflow.
func CameraStreamWorkflowID(cameraID string) string { return CameraStreamWorkflowIDPrefix + cameraID }

// CameraProbeWorkflowID is the ID of one connection test of a camera.
func CameraProbeWorkflowID(cameraID, requestID string) string {
	return "camera-probe/" + cameraID + "/" + requestID
}

// CameraSnapshotWorkflowID is the ID of one snapshot of a camera.
func CameraSnapshotWorkflowID(cameraID, requestID string) string {
	return "camera-snapshot/" + cameraID + "/" + requestID
}

// Signal and query names of CameraStreamWorkflow.
const (
	SignalCameraReconfigure = "reconfigure"
	SignalCameraPause       = "pause"
	SignalCameraResume      = "resume"
	QueryCameraStreamStatus = "status"
)
