package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/store"
)

// MinFaceSize is the smallest face side, in pixels, usable for enrolment.
const MinFaceSize = 40

// SetFaceProfileStatus records a profile's status.
func (a *Activities) SetFaceProfileStatus(ctx context.Context, profileID, status, message string) error {
	err := store.SetFaceProfileStatus(ctx, a.DB, profileID, status, message)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("face profile no longer exists", contract.ErrTypeProfileNotFound, nil)
	}
	return err
}

// EnrollPendingImages removes the profile's images marked deleting from
// the provider, then validates each pending image (the provider must see
// exactly one face of usable size) and enrolls the valid ones. Every
// image's outcome is stored as soon as it is known, so a retry or a re-run
// after a crash resumes where it stopped and never enrolls an image twice
// (with providers that enroll idempotently, not even across a crash).
func (a *Activities) EnrollPendingImages(ctx context.Context, profileID string) (contract.EnrollOutcome, error) {
	var out contract.EnrollOutcome
	p, err := store.FindFaceProfile(ctx, a.DB, profileID)
	if errors.Is(err, store.ErrNotFound) {
		return out, temporal.NewNonRetryableApplicationError("face profile no longer exists", contract.ErrTypeProfileNotFound, nil)
	}
	if err != nil {
		return out, err
	}
	if p.Status == contract.FaceStatusDeleting {
		// Being erased: enrolling now would leave a face behind at the provider.
		return out, temporal.NewNonRetryableApplicationError("face profile is being deleted", contract.ErrTypeProfileNotFound, nil)
	}
	prov, _, err := a.Providers.Current(ctx)
	if err != nil {
		return out, temporal.NewApplicationError(err.Error(), contract.ErrTypeProviderConfig)
	}
	caps := prov.Capabilities()

	// Photos marked for removal. With a provider that replaces a subject's
	// registration, they are forgotten by re-sending the others below, and
	// only removed here once that succeeded (so a failed re-send is retried
	// with them still known).
	var removing []store.FaceImage
	reenroll := false
	for _, img := range p.Images {
		if img.Status != store.ImageStatusDeleting {
			continue
		}
		if img.ProviderImageID != "" {
			if caps.ReplacesSubject {
				reenroll = true
			} else if err := prov.DeleteImage(ctx, profileID, img.ProviderImageID); err != nil {
				return out, providerError(err)
			}
		}
		removing = append(removing, img)
	}
	removeStored := func() error {
		for _, img := range removing {
			if err := a.Blobs.Delete(ctx, img.ObjectKey); err != nil {
				return err
			}
			if err := store.DeleteFaceImage(ctx, a.DB, img.ID); err != nil {
				return err
			}
			out.Removed++
			activity.RecordHeartbeat(ctx, out)
		}
		return nil
	}
	if !caps.ReplacesSubject {
		if err := removeStored(); err != nil {
			return out, err
		}
	}

	// An earlier pass may have been cut off between the provider's answer
	// and recording it: the provider then holds an image nothing points
	// to. Remove such images before adding again, where the provider can
	// list them (those with idempotent enrolment need not).
	if lister, ok := prov.(provider.ImageLister); ok && !caps.ReplacesSubject && !caps.IdempotentEnroll {
		stored, err := lister.SubjectImages(ctx, profileID)
		if err != nil {
			return out, providerError(err)
		}
		known := map[string]bool{}
		for _, img := range p.Images {
			if img.ProviderImageID != "" {
				known[img.ProviderImageID] = true
			}
		}
		for _, id := range stored {
			if !known[id] {
				if err := prov.DeleteImage(ctx, profileID, id); err != nil {
					return out, providerError(err)
				}
			}
		}
	}

	var valid []store.FaceImage
	var validData [][]byte
	for _, img := range p.Images {
		if img.Status != store.ImageStatusPending {
			continue
		}
		data, err := a.readObject(ctx, img.ObjectKey)
		if err != nil {
			return out, err
		}
		reason, err := validateFace(ctx, prov, data)
		if err != nil {
			return out, providerError(err)
		}
		activity.RecordHeartbeat(ctx, out)
		if reason != "" {
			if err := store.RecordImageFailed(ctx, a.DB, img.ID, reason); err != nil {
				return out, err
			}
			out.Failed++
			continue
		}
		if caps.ReplacesSubject {
			valid, validData = append(valid, img), append(validData, data)
			continue
		}
		if err := a.stillRegistering(ctx, profileID); err != nil {
			return out, err
		}
		ids, err := prov.Enroll(ctx, profileID, []provider.Image{{ID: img.ID, Data: data}})
		if err != nil {
			if errors.Is(err, provider.ErrBadImage) {
				if err := store.RecordImageFailed(ctx, a.DB, img.ID, "the provider could not use this image"); err != nil {
					return out, err
				}
				out.Failed++
				continue
			}
			return out, providerError(err)
		}
		if err := store.RecordImageEnrolled(ctx, a.DB, img.ID, ids[0], a.now()); err != nil {
			return out, err
		}
		out.Enrolled++
	}

	if caps.ReplacesSubject {
		if len(valid) > 0 || reenroll {
			n, err := a.reenrollSubject(ctx, prov, p, valid, validData)
			if err != nil {
				return out, err
			}
			out.Enrolled += n
		}
		if err := removeStored(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// reenrollSubject sends every enrolled image of the profile plus the newly
// validated ones in one call, as providers that replace a subject's
// registration need.
func (a *Activities) reenrollSubject(ctx context.Context, prov provider.Provider, p *store.FaceProfile, fresh []store.FaceImage, freshData [][]byte) (int, error) {
	var imgs []provider.Image
	var rows []store.FaceImage
	for _, img := range p.Images {
		if img.Status != store.ImageStatusEnrolled {
			continue
		}
		data, err := a.readObject(ctx, img.ObjectKey)
		if err != nil {
			return 0, err
		}
		imgs, rows = append(imgs, provider.Image{ID: img.ID, Data: data}), append(rows, img)
	}
	for i, img := range fresh {
		imgs, rows = append(imgs, provider.Image{ID: img.ID, Data: freshData[i]}), append(rows, img)
	}
	if len(imgs) == 0 {
		if err := prov.DeleteSubject(ctx, p.ID); err != nil {
			return 0, providerError(err)
		}
		return 0, nil
	}
	if err := a.stillRegistering(ctx, p.ID); err != nil {
		return 0, err
	}
	ids, err := prov.Enroll(ctx, p.ID, imgs)
	if err != nil {
		return 0, providerError(err)
	}
	for i, row := range rows {
		if err := store.RecordImageEnrolled(ctx, a.DB, row.ID, ids[i], a.now()); err != nil {
			return 0, err
		}
	}
	return len(fresh), nil
}

// validateFace returns why an image cannot be enrolled ("" when it can), or
// a provider error.
func validateFace(ctx context.Context, prov provider.Provider, data []byte) (string, error) {
	res, err := prov.Recognize(ctx, data)
	if errors.Is(err, provider.ErrBadImage) {
		return "the provider could not read this image", nil
	}
	if err != nil {
		return "", err
	}
	switch n := len(res.Faces); {
	case n == 0:
		return "no face found", nil
	case n > 1:
		return fmt.Sprintf("%d faces found; the photo must show exactly one person", n), nil
	}
	if b := res.Faces[0].Box; min(b.Width, b.Height) < MinFaceSize {
		return fmt.Sprintf("the face is too small (%dx%d px; at least %d px needed)", b.Width, b.Height, MinFaceSize), nil
	}
	return "", nil
}

// FinalizeFaceProfile sets the profile active when at least one image is
// enrolled, failed (with every image's reason) otherwise, and returns the status.
func (a *Activities) FinalizeFaceProfile(ctx context.Context, profileID string) (string, error) {
	p, err := store.FindFaceProfile(ctx, a.DB, profileID)
	if errors.Is(err, store.ErrNotFound) {
		return "", temporal.NewNonRetryableApplicationError("face profile no longer exists", contract.ErrTypeProfileNotFound, nil)
	}
	if err != nil {
		return "", err
	}
	var reasons []string
	enrolled := 0
	for _, img := range p.Images {
		switch img.Status {
		case store.ImageStatusEnrolled:
			enrolled++
		case store.ImageStatusFailed:
			reasons = append(reasons, img.ID[:8]+": "+img.FailureReason)
		}
	}
	status, msg := contract.FaceStatusActive, ""
	if enrolled == 0 {
		status, msg = contract.FaceStatusFailed, "no usable image"
		if len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
	}
	if err := store.SetFaceProfileStatus(ctx, a.DB, profileID, status, msg); err != nil {
		return "", err
	}
	a.Log.Info("face profile registered", slog.String("profile_id", profileID), slog.String("status", status), slog.Int("enrolled", enrolled))
	return status, nil
}

// DeleteFaceSubject removes the profile's subject from the provider.
func (a *Activities) DeleteFaceSubject(ctx context.Context, profileID string) error {
	prov, _, err := a.Providers.Current(ctx)
	if err != nil {
		return temporal.NewApplicationError(err.Error(), contract.ErrTypeProviderConfig)
	}
	if err := prov.DeleteSubject(ctx, profileID); err != nil {
		// Erasure is retried whatever the cause: a refused key is fixed by
		// an operator, and then the deletion completes.
		return temporal.NewApplicationError(err.Error(), contract.ProviderErrorType(provider.Code(err)))
	}
	return nil
}

// WaitRegistrationClosed waits (heartbeating) until the profile's
// registration workflow has closed, so nothing enrols the person again
// after the erasure deleted them at the provider.
func (a *Activities) WaitRegistrationClosed(ctx context.Context, registrationID string) error {
	if a.Workflows == nil {
		return nil
	}
	for {
		running, err := a.Workflows.WorkflowRunning(ctx, registrationID)
		if err != nil {
			return err
		}
		if !running {
			return nil
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, registrationID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// stillRegistering re-reads the profile right before a provider call: an
// erasure that began meanwhile stops the enrolment.
func (a *Activities) stillRegistering(ctx context.Context, profileID string) error {
	p, err := store.FindFaceProfile(ctx, a.DB, profileID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Status == contract.FaceStatusDeleting) {
		return temporal.NewNonRetryableApplicationError("face profile is being deleted", contract.ErrTypeProfileNotFound, nil)
	}
	return err
}

// DeleteFaceObjects removes the profile's images from the object store.
func (a *Activities) DeleteFaceObjects(ctx context.Context, profileID string) (int, error) {
	return a.Blobs.DeletePrefix(ctx, blob.FacePrefix(profileID))
}

// DeleteFaceRows removes the profile and its image rows.
func (a *Activities) DeleteFaceRows(ctx context.Context, profileID string) error {
	return store.DeleteFaceProfile(ctx, a.DB, profileID)
}

// CheckProviderHealth checks the configured provider and records the
// outcome and latency on its configuration.
func (a *Activities) CheckProviderHealth(ctx context.Context) (bool, error) {
	start := time.Now()
	prov, cfg, err := a.Providers.Current(ctx)
	if err == nil {
		err = prov.Health(ctx)
	}
	took := time.Since(start)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := store.RecordProviderHealth(ctx, a.DB, err == nil, msg, took, a.now()); rerr != nil {
		return false, rerr
	}
	a.providerHealthAlerts(ctx, cmp.Or(cfg.Kind, "provider"), err, took)
	return err == nil, nil
}

// Workflow ID prefixes of the face workflows (defined here so the repair
// can name them; package workflows builds its IDs from them).
const (
	FaceRegistrationIDPrefix = "face-registration/"
	FaceDeletionIDPrefix     = "face-deletion/"
)

// RepairFaceProfiles restarts the workflow of profiles stuck for
// staleAfter: a registration that hit its time limit (or never started)
// leaves a profile pending or registering, a deletion that failed to
// start leaves it deleting, and nothing else would ever move them.
func (a *Activities) RepairFaceProfiles(ctx context.Context, staleAfter time.Duration) (contract.RepairResult, error) {
	var res contract.RepairResult
	if a.Workflows == nil {
		return res, nil
	}
	stuck, err := store.StuckFaceProfiles(ctx, a.DB, a.now().Add(-staleAfter), 200)
	if err != nil {
		return res, err
	}
	for _, p := range stuck {
		id, typ := FaceRegistrationIDPrefix+p.ID, "FaceRegistrationWorkflow"
		if p.Status == contract.FaceStatusDeleting {
			id, typ = FaceDeletionIDPrefix+p.ID, "FaceDeletionWorkflow"
		}
		running, err := a.Workflows.WorkflowRunning(ctx, id)
		if err != nil {
			return res, err
		}
		if running {
			continue
		}
		// Both workflows take {ProfileID}.
		if err := a.Workflows.StartWorkflow(ctx, id, typ, map[string]string{"ProfileID": p.ID}); err != nil {
			return res, err
		}
		if typ == "FaceDeletionWorkflow" {
			res.Deletions++
		} else {
			res.Registrations++
		}
		if a.Log != nil {
			a.Log.Info("face profile repaired: its workflow started again", "profile_id", p.ID, "status", p.Status, "workflow", typ)
		}
	}
	return res, nil
}
