package contract

import "time"

// CleanupWorkflowInput sets the retention of each kind of data. A zero
// retention keeps that kind forever (inputs recorded before a kind was
// added carry zero).
type CleanupWorkflowInput struct {
	// SessionGrace keeps expired sessions this long (reuse detection still
	// recognises a recently expired token family).
	SessionGrace   time.Duration
	AuditRetention time.Duration
	// DetectionRetention keeps detections and their snapshot frames;
	// PipelineEventRetention the detection pipeline's event log. Both are
	// removed by whole UTC days (a day goes once all of it is past).
	DetectionRetention     time.Duration `json:",omitempty"`
	PipelineEventRetention time.Duration `json:",omitempty"`
	// CameraEventRetention keeps cameras' health, state and config events.
	CameraEventRetention time.Duration `json:",omitempty"`
	// AttendanceRetention keeps attendance logs and daily records.
	AttendanceRetention time.Duration `json:",omitempty"`
	// PartitionsAhead is how many days of partitions after today each run
	// makes sure exist (0: store.DefaultPartitionsAhead).
	PartitionsAhead int `json:",omitempty"`
}

// CleanupWorkflowResult counts what was removed.
type CleanupWorkflowResult struct {
	SessionsDeleted int64
	AuditDeleted    int64
	ExportsDeleted  int
	// Counts of the retention steps (zero in runs recorded before them).
	PartitionsCreated        int   `json:",omitempty"`
	DetectionsDeleted        int64 `json:",omitempty"`
	SnapshotsDeleted         int64 `json:",omitempty"`
	PartitionsDropped        int   `json:",omitempty"`
	PipelineEventsDeleted    int64 `json:",omitempty"`
	CameraEventsDeleted      int64 `json:",omitempty"`
	AttendanceLogsDeleted    int64 `json:",omitempty"`
	AttendanceRecordsDeleted int64 `json:",omitempty"`
}

// RetentionInput asks a retention activity to remove one kind of data
// older than Before.
type RetentionInput struct {
	Before time.Time
	// BatchSize bounds the rows read or deleted per statement (0: 5,000).
	BatchSize int `json:",omitempty"`
	// SnapshotsBefore (attendance only): the snapshot frame of a removed
	// log older than this is removed too; younger frames belong to
	// detections still kept. Zero keeps every frame.
	SnapshotsBefore time.Time `json:",omitzero"`
}

// RetentionResult counts what a retention activity removed.
type RetentionResult struct {
	Rows       int64 // rows deleted (dropped partitions included)
	Objects    int64 // snapshot objects removed
	Partitions int   // day partitions dropped
	// Records (attendance only): daily records deleted.
	Records int64
}
