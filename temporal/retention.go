package temporal

import (
	"time"

	"github.com/rollcall/rollcall/contract"
)

// cleanupInput is the cleanup schedule's input: the worker's retentions.
func cleanupInput(o WorkerOptions) contract.CleanupWorkflowInput {
	return contract.CleanupWorkflowInput{SessionGrace: 24 * time.Hour, AuditRetention: o.AuditRetention,
		DetectionRetention: o.Retention.Detections, PipelineEventRetention: o.Retention.PipelineEvents,
		CameraEventRetention: o.Retention.CameraEvents, AttendanceRetention: o.Retention.Attendance,
		PartitionsAhead: o.Retention.PartitionsAhead}
}
