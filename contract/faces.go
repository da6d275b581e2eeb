package contract

// EnrollOutcome counts what one enrolment pass did.
type EnrollOutcome struct {
	Enrolled, Failed, Removed int
}

// RepairResult counts the profiles whose workflow was started again.
type RepairResult struct {
	Registrations int `json:"registrations"`
	Deletions     int `json:"deletions"`
}

// FaceRegistrationWorkflowInput names the profile.
type FaceRegistrationWorkflowInput struct {
	ProfileID string
}

// FaceRegistrationWorkflowResult is the profile's final status and counts.
type FaceRegistrationWorkflowResult struct {
	Status                    string
	Enrolled, Failed, Removed int
}

// FaceDeletionWorkflowInput names the profile to erase.
type FaceDeletionWorkflowInput struct {
	ProfileID string
}

// Face profile statuses.
const (
	FaceStatusPending     = "pending"
	FaceStatusRegistering = "registering"
	FaceStatusActive      = "active"
	FaceStatusFailed      = "failed"
	FaceStatusDeleting    = "deleting"
)
