package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/store"
)

// DetectFrame runs one frame through the configured provider, stores a
// detection per face (source send-frame) and logs a pipeline event. A
// frame captured from a camera is stored under key first.
func (a *Activities) DetectFrame(ctx context.Context, in contract.DetectFrameInput, captureKey string) (contract.DetectFrameResult, error) {
	defer keepAlive(ctx)()
	res := contract.DetectFrameResult{ImageKey: in.ImageKey, Detections: []contract.FrameDetection{}}
	var data []byte
	var err error
	if in.CameraID != "" {
		fin, err := a.cameraInput(ctx, in.CameraID, defaultCameraSnapshotLimit)
		if err != nil {
			return res, err
		}
		if data, err = a.FFmpeg.Snapshot(ctx, fin); err != nil {
			return res, cameraError(err)
		}
		res.ImageKey = captureKey
		if err := a.Blobs.Put(ctx, captureKey, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
			return res, err
		}
	} else if data, err = a.readObject(ctx, in.ImageKey); err != nil {
		return res, err
	}

	prov, _, err := a.Providers.Current(ctx)
	if err != nil {
		return res, temporal.NewApplicationError(err.Error(), contract.ErrTypeProviderConfig)
	}
	start := time.Now()
	found, err := prov.Recognize(ctx, data)
	res.LatencyMs = time.Since(start).Milliseconds()
	if errors.Is(err, provider.ErrBadImage) {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeProviderBadImage, nil)
	}
	if err != nil {
		return res, providerError(err)
	}

	names, err := a.profileNames().Lookup(ctx, subjectsOf(found.Faces))
	if err != nil {
		return res, err
	}
	now := a.now().UTC()
	// IDs derive from the workflow run (a DetectFrame workflow runs this
	// activity once) and the time the activity was first scheduled (the
	// same for every attempt), so a retry writes the same rows and the
	// store keeps the first attempt's; being UUIDv7s they are time-ordered.
	runKey, idTime := uuid.NewString(), now
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		runKey = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityType.Name
		if !info.ScheduledTime.IsZero() {
			idTime = info.ScheduledTime
		}
	}
	ids := func(i int) string {
		return store.DetectionIDFor(idTime, detectionIDSpace, fmt.Appendf(nil, "%s/%d", runKey, i))
	}
	rows, labels := frameFaces(found.Faces, ids, now, in.CameraID, res.ImageKey, store.DetectionSourceSendFrame, names)
	res.Detections = labels
	details, _ := json.Marshal(map[string]any{"faces": len(rows), "latencyMs": res.LatencyMs, "imageKey": res.ImageKey})
	ev := &store.DetectionEvent{OccurredAt: now, Kind: "send_frame", Level: "info", Message: "frame sent for detection", Details: details,
		DedupeKey: &runKey}
	if in.CameraID != "" {
		ev.CameraID = &in.CameraID
	}
	if err := store.RecordFrame(ctx, a.DB, rows, ev); err != nil {
		return res, err
	}
	if in.CameraID != "" {
		a.showLive(ctx, in.CameraID, now, rows, res.Detections)
	}
	return res, nil
}

// detectionIDSpace names the deterministic IDs of send-frame detections.
var detectionIDSpace = uuid.MustParse("6b1f7d2e-3c4a-5e8f-9a0b-1c2d3e4f5a6b")
