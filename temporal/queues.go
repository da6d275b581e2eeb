// Package temporal wires Rollcall to Temporal: the client, task-queue names,
// the worker and the schedules it keeps in place.
package temporal

// Task queues. Each is defined once here and nowhere else.
const (
	// TaskQueueDefault carries short workflows and activities (cleanup,
	// monitoring, sync).
	TaskQueueDefault = "rollcall-default"
	// TaskQueueStreams carries the long-running camera stream workflows, so
	// they can be given workers of their own as camera counts grow.
	TaskQueueStreams = "rollcall-streams"
	// TaskQueueStreamSessions carries the long stream sessions only, to
	// workers with a bounded number of slots (ROLLCALL_STREAM_SLOTS).
	TaskQueueStreamSessions = "rollcall-stream-sessions"
)

// Schedule IDs, stable so the worker can upsert them at every start.
const (
	ScheduleCleanup         = "rollcall-cleanup"
	ScheduleCameraHealth    = "rollcall-camera-health"
	ScheduleCameraReconcile = "rollcall-camera-reconcile"
	ScheduleProviderHealth  = "rollcall-provider-health"
	ScheduleAttendanceClose = "rollcall-attendance-close"
	ScheduleFaceRepair      = "rollcall-face-repair"
	ScheduleOdooSync        = "rollcall-odoo-sync"
	ScheduleSystemMetrics   = "rollcall-system-metrics"
)

// TaskQueues returns Rollcall's task queues, whose workers and backlog
// the system views report.
func TaskQueues() []string {
	return []string{TaskQueueDefault, TaskQueueStreams, TaskQueueStreamSessions}
}
