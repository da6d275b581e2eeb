package activities_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/testenv"
)

// twoFaces finds the same two faces in any image.
type twoFaces struct{ provider.Provider }

func (twoFaces) Recognize(context.Context, []byte) (provider.Result, error) {
	return provider.Result{Faces: []provider.Face{
		{Box: provider.Box{X: 1, Y: 2, Width: 30, Height: 30}, DetectionConfidence: 0.9, Similarity: 0.2},
		{Box: provider.Box{X: 50, Y: 2, Width: 30, Height: 30}, DetectionConfidence: 0.8, Similarity: 0.3},
	}}, nil
}

// TestDetectFrameRetryDoesNotDuplicate runs DetectFrame twice as a retry
// would (same workflow, run and activity): the detections and the event
// are written once.
func TestDetectFrameRetryDoesNotDuplicate(t *testing.T) {
	db := testenv.DB(t)
	blobs := testBlobs(t)
	ctx := context.Background()
	key := "test/frames/" + uuid.NewString() + ".jpg"
	frame := []byte("\xff\xd8\xff frame")
	if err := blobs.Put(ctx, key, bytes.NewReader(frame), int64(len(frame)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{DB: db, Blobs: blobs, Providers: fixedProviders{twoFaces{}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	for attempt := range 2 {
		if _, err := env.ExecuteActivity(acts.DetectFrame, contract.DetectFrameInput{ImageKey: key}, ""); err != nil {
			t.Fatalf("attempt %d: %v", attempt+1, err)
		}
	}
	var dets, events int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM detections").Scan(&dets); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM detection_event_logs WHERE kind = 'send_frame'").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if dets != 2 || events != 1 {
		t.Fatalf("after a retry: %d detections and %d events, want 2 and 1", dets, events)
	}
}
