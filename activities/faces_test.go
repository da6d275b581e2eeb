package activities_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// flakyProvider counts enrolments and fails them once failAt is reached.
type flakyProvider struct {
	provider.Provider
	mu       sync.Mutex
	enrolled []string // Rollcall image IDs passed to Enroll, in order
	failAt   int      // the failAt-th enrolment (1-based) fails; 0 never
}

func (f *flakyProvider) Enroll(ctx context.Context, subject string, images []provider.Image) ([]string, error) {
	f.mu.Lock()
	n := len(f.enrolled) + 1
	fail := f.failAt > 0 && n >= f.failAt
	if !fail {
		for _, img := range images {
			f.enrolled = append(f.enrolled, img.ID)
		}
	}
	f.mu.Unlock()
	if fail {
		return nil, &provider.Error{Kind: provider.ErrUnreachable, Msg: "provider unreachable"}
	}
	return f.Provider.Enroll(ctx, subject, images)
}

type fixedProviders struct{ p provider.Provider }

func (f fixedProviders) Current(context.Context) (provider.Provider, provider.Config, error) {
	return f.p, provider.Config{Kind: provider.KindBuiltin}, nil
}

// A registration interrupted half-way (provider down) resumes where it
// stopped: the images already enrolled are not enrolled again.
func TestEnrollPendingImagesResumesWithoutDuplicates(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	blobs := testBlobs(t)
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyProvider{Provider: engine, failAt: 2}
	acts := &activities.Activities{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Blobs: blobs, Providers: fixedProviders{flaky}}

	prof := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "E-1", Name: "Resume", Status: store.FaceStatusPending}
	t.Cleanup(func() { _, _ = blobs.DeletePrefix(context.Background(), "faces/"+prof.ID+"/") })
	person := facegen.NewPerson(4242)
	for i := range 3 {
		data := facegen.JPEG(person.Render(facegen.Scene{Width: 640, Height: 480, X: 0.4 + 0.1*float64(i), Y: 0.5, Scale: 0.55, Brightness: 1}), 90)
		img := store.FaceImage{ID: uuid.NewString(), ProfileID: prof.ID, ContentType: "image/jpeg", SizeBytes: len(data), Width: 640, Height: 480,
			SHA256: uuid.NewString(), Status: store.ImageStatusPending}
		img.ObjectKey = activities.FaceObjectKey(prof.ID, img.ID, img.ContentType)
		if err := blobs.Put(ctx, img.ObjectKey, bytes.NewReader(data), int64(len(data)), img.ContentType); err != nil {
			t.Fatal(err)
		}
		prof.Images = append(prof.Images, img)
	}
	if err := store.CreateFaceProfile(ctx, db, prof); err != nil {
		t.Fatal(err)
	}

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	enroll := func() (activities.EnrollOutcome, error) {
		var out activities.EnrollOutcome
		v, err := env.ExecuteActivity(acts.EnrollPendingImages, prof.ID)
		if err == nil {
			err = v.Get(&out)
		}
		return out, err
	}

	if _, err := enroll(); err == nil {
		t.Fatal("the pass with the provider down should fail (to be retried)")
	}
	got, _ := store.FindFaceProfile(ctx, db, prof.ID)
	enrolled := 0
	for _, img := range got.Images {
		if img.Status == store.ImageStatusEnrolled {
			enrolled++
		}
	}
	if enrolled != 1 || len(flaky.enrolled) != 1 {
		t.Fatalf("after the interrupted pass: %d enrolled rows, %d enrolments", enrolled, len(flaky.enrolled))
	}

	flaky.failAt = 0 // the provider is back
	out, err := enroll()
	if err != nil || out.Enrolled != 2 {
		t.Fatalf("resumed pass: %+v %v", out, err)
	}
	seen := map[string]int{}
	for _, id := range flaky.enrolled {
		seen[id]++
	}
	if len(flaky.enrolled) != 3 || len(seen) != 3 {
		t.Fatalf("enrolments %v: an image was enrolled twice", flaky.enrolled)
	}
	// A third pass has nothing to do.
	if out, err := enroll(); err != nil || out != (activities.EnrollOutcome{}) || len(flaky.enrolled) != 3 {
		t.Fatalf("idle pass: %+v %v, %d enrolments", out, err, len(flaky.enrolled))
	}
	status, err := acts.FinalizeFaceProfile(ctx, prof.ID)
	if err != nil || status != store.FaceStatusActive {
		t.Fatalf("finalize: %q %v", status, err)
	}
}

// testBlobs connects to the stack's object store, its bucket ensured.
func testBlobs(t *testing.T) *blob.Store {
	t.Helper()
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := blobs.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return blobs
}
