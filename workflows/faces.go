package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
)

// FaceRegistrationWorkflowID is the stable ID of a profile's registration.
func FaceRegistrationWorkflowID(profileID string) string {
	return activities.FaceRegistrationIDPrefix + profileID
}

// FaceDeletionWorkflowID is the stable ID of a profile's deletion.
func FaceDeletionWorkflowID(profileID string) string {
	return activities.FaceDeletionIDPrefix + profileID
}

// SignalFaceImagesChanged tells a running registration that images were
// added or marked for removal.
const SignalFaceImagesChanged = "images-changed"

// enrollRetry keeps retrying while the provider is down or slow, or its
// configuration cannot be loaded (about ten minutes, time for an operator
// to fix it); a refused key or an unsupported call stops at once.
var enrollRetry = &temporal.RetryPolicy{
	InitialInterval:        2 * time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        time.Minute,
	MaximumAttempts:        15,
	NonRetryableErrorTypes: contract.NonRetryable(contract.ErrTypeProfileNotFound, contract.ErrTypeProviderUnauthorized, contract.ErrTypeProviderUnsupported),
}

// FaceRegistrationWorkflow enrolls a profile's pending images with the
// provider and removes those marked for removal, then marks the profile
// active (at least one image enrolled) or failed (with each image's
// reason). Images added while it runs arrive by signal and are handled
// before it finishes. Re-running it after a crash enrolls nothing twice.
func FaceRegistrationWorkflow(ctx workflow.Context, in contract.FaceRegistrationWorkflowInput) (contract.FaceRegistrationWorkflowResult, error) {
	dbctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: contract.NonRetryable(contract.ErrTypeProfileNotFound)},
	})
	enrollctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         enrollRetry,
	})
	changed := workflow.GetSignalChannel(ctx, SignalFaceImagesChanged)
	var res contract.FaceRegistrationWorkflowResult
	if err := workflow.ExecuteActivity(dbctx, a.SetFaceProfileStatus, in.ProfileID, contract.FaceStatusRegistering, "").Get(ctx, nil); err != nil {
		return res, err
	}
	for {
		for changed.ReceiveAsync(nil) {
		}
		var out contract.EnrollOutcome
		if err := workflow.ExecuteActivity(enrollctx, a.EnrollPendingImages, in.ProfileID).Get(ctx, &out); err != nil {
			_ = workflow.ExecuteActivity(dbctx, a.SetFaceProfileStatus, in.ProfileID, contract.FaceStatusFailed, "registration stopped: "+err.Error()).Get(ctx, nil)
			return res, err
		}
		res.Enrolled, res.Failed, res.Removed = res.Enrolled+out.Enrolled, res.Failed+out.Failed, res.Removed+out.Removed
		if changed.Len() > 0 {
			continue
		}
		if err := workflow.ExecuteActivity(dbctx, a.FinalizeFaceProfile, in.ProfileID).Get(ctx, &res.Status); err != nil {
			return res, err
		}
		// Photos added while the status was being set: another pass.
		if changed.Len() == 0 {
			return res, nil
		}
	}
}

// FaceDeletionWorkflow erases a person (right to erasure): the subject at
// the provider, the images in the object store, then the rows. Each step
// is retried until it succeeds, so a provider that is down delays the
// erasure but never abandons it.
func FaceDeletionWorkflow(ctx workflow.Context, in contract.FaceDeletionWorkflowInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			// MaximumAttempts 0: until done.
			NonRetryableErrorTypes: []string{contract.ErrTypeProviderUnsupported},
		},
	})
	// Version 1 first waits for the profile's registration to close: an
	// enrolment past its status check could otherwise re-create the
	// subject after it was deleted, and leave a face nobody points to.
	// (The registration also re-checks the profile before each provider
	// call, so it stops soon after the deletion marked the profile.)
	waits := workflow.GetVersion(ctx, "face-deletion-waits-registration", workflow.DefaultVersion, 1) == 1
	if waits {
		wctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 2 * time.Hour, // the registration's own limit is one hour
			HeartbeatTimeout:    30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute},
		})
		if err := workflow.ExecuteActivity(wctx, a.WaitRegistrationClosed, FaceRegistrationWorkflowID(in.ProfileID)).Get(ctx, nil); err != nil {
			return err
		}
	}
	if err := workflow.ExecuteActivity(ctx, a.DeleteFaceSubject, in.ProfileID).Get(ctx, nil); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, a.DeleteFaceObjects, in.ProfileID).Get(ctx, nil); err != nil {
		return err
	}
	return workflow.ExecuteActivity(ctx, a.DeleteFaceRows, in.ProfileID).Get(ctx, nil)
}

// FaceRepairWorkflowID is the ID of the scheduled face repair.
const FaceRepairWorkflowID = "face-repair"

// FaceRepairWorkflow restarts the workflows of face profiles stuck for 15
// minutes in pending, registering or deleting (a registration that hit its
// time limit, a deletion that never started).
func FaceRepairWorkflow(ctx workflow.Context) (contract.RepairResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 3},
	})
	var res contract.RepairResult
	err := workflow.ExecuteActivity(ctx, a.RepairFaceProfiles, 15*time.Minute).Get(ctx, &res)
	return res, err
}
