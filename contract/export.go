package contract

// ExportResult is what a finished export produced.
type ExportResult struct {
	// Status is the job's final status: completed, or cancelled when the
	// job was cancelled while it ran.
	Status    string `json:"status"`
	Rows      int    `json:"rows"`
	SizeBytes int64  `json:"sizeBytes"`
}

// ExportWorkflowInput names the export job to run.
type ExportWorkflowInput struct {
	JobID string `json:"jobId"`
}
