package contract

import "time"

// Odoo sync run statuses (the status of store.OdooRun) and triggers.
const (
	OdooRunRunning   = "running"
	OdooRunSucceeded = "succeeded"
	OdooRunPartial   = "partial" // some records failed
	OdooRunFailed    = "failed"  // the run stopped (Odoo refused the credentials, …)

	OdooTriggerSchedule = "schedule"
	OdooTriggerManual   = "manual"
	OdooTriggerRetry    = "retry"
)

// OdooSyncInput starts an Odoo sync run. A scheduled run (RunID empty)
// first checks that the sync is enabled and due.
type OdooSyncInput struct {
	RunID       string `json:",omitempty"`
	Trigger     string // schedule, manual, retry
	RequestedBy string `json:",omitempty"`
	// What to take: pending logs (the default), or only failed ones;
	// optionally of one person and a time range.
	OnlyFailed bool       `json:",omitempty"`
	PersonID   string     `json:",omitempty"`
	From, To   *time.Time `json:",omitempty"`
	// SearchAttributes: the namespace has Rollcall's sync search
	// attributes, so the run records its trigger, outcome and employees.
	SearchAttributes bool `json:",omitempty"`
	// Carried across continue-as-new.
	After  *OdooCursor   `json:",omitempty"`
	Totals OdooRunTotals `json:",omitempty"`
}

// OdooCursor is where a run got to: the last log handled.
type OdooCursor struct {
	At time.Time
	ID string
}

// OdooRunTotals count what a run did.
type OdooRunTotals struct {
	Synced, Failed, Skipped int
	// Missing lists the employees not found in Odoo (each once);
	// FailedEmployees the employee codes with a failed log.
	Missing         []string `json:",omitempty"`
	FailedEmployees []string `json:",omitempty"`
}

// OdooSyncResult is a finished run.
type OdooSyncResult struct {
	RunID  string
	Status string // succeeded, partial, failed; "" when a scheduled run was not due
	OdooRunTotals
}

// OdooRunStart is what BeginOdooRun decided.
type OdooRunStart struct {
	RunID string
	// Skip: a scheduled run when the sync is disabled or not yet due.
	Skip bool
}

// OdooBatchInput is one batch of a run.
type OdooBatchInput struct {
	RunID      string
	OnlyFailed bool
	PersonID   string
	From, To   *time.Time
	After      *OdooCursor
}

// OdooBatchResult is what one batch did; Next is nil when the run is done.
type OdooBatchResult struct {
	OdooRunTotals
	Next *OdooCursor
}

// OdooFinishInput ends a run.
type OdooFinishInput struct {
	RunID   string
	Status  string
	Error   string
	Missing []string
}
