package contract

import "time"

// CleanupWorkflowInput sets the retention of each kind of data.
type CleanupWorkflowInput struct {
	// SessionGrace keeps expired sessions this long (reuse detection still
	// recognises a recently expired token family).
	SessionGrace   time.Duration
	AuditRetention time.Duration
}

// CleanupWorkflowResult counts what was removed.
type CleanupWorkflowResult struct {
	SessionsDeleted int64
	AuditDeleted    int64
	ExportsDeleted  int
}
