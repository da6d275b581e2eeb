package activities_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
	"github.com/rollcall/rollcall/internal/provider/providertest"
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
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: synthetic.New()})
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyProvider{Provider: engine, failAt: 2}
	acts := &activities.Activities{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Blobs: blobs, Providers: fixedProviders{flaky}}

	prof := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "E-1", Name: "Resume", Status: contract.FaceStatusPending}
	t.Cleanup(func() { _, _ = blobs.DeletePrefix(context.Background(), "faces/"+prof.ID+"/") })
	person := facegen.NewPerson(4242)
	for i := range 3 {
		data := facegen.JPEG(person.Render(facegen.Scene{Width: 640, Height: 480, X: 0.4 + 0.1*float64(i), Y: 0.5, Scale: 0.55, Brightness: 1}), 90)
		img := store.FaceImage{ID: uuid.NewString(), ProfileID: prof.ID, ContentType: "image/jpeg", SizeBytes: len(data), Width: 640, Height: 480,
			SHA256: uuid.NewString(), Status: store.ImageStatusPending}
		img.ObjectKey = blob.FaceImageKey(prof.ID, img.ID, img.ContentType)
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
	enroll := func() (contract.EnrollOutcome, error) {
		var out contract.EnrollOutcome
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
	if out, err := enroll(); err != nil || out != (contract.EnrollOutcome{}) || len(flaky.enrolled) != 3 {
		t.Fatalf("idle pass: %+v %v, %d enrolments", out, err, len(flaky.enrolled))
	}
	status, err := acts.FinalizeFaceProfile(ctx, prof.ID)
	if err != nil || status != contract.FaceStatusActive {
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

// erasedMidway is a slow provider: while it checks the photo, the person's
// erasure begins (the API marks the profile deleting). It records enrolments.
type erasedMidway struct {
	provider.Provider
	db       *bun.DB
	id       string
	enrolled atomic.Int32
}

func (p *erasedMidway) Recognize(ctx context.Context, img []byte) (provider.Result, error) {
	if err := store.SetFaceProfileStatus(ctx, p.db, p.id, contract.FaceStatusDeleting, ""); err != nil {
		return provider.Result{}, err
	}
	return p.Provider.Recognize(ctx, img)
}

func (p *erasedMidway) Enroll(ctx context.Context, subject string, images []provider.Image) ([]string, error) {
	p.enrolled.Add(1)
	return p.Provider.Enroll(ctx, subject, images)
}

// TestEnrolmentStopsWhenErasureBegins: an enrolment already past its first
// status check re-checks the profile right before calling the provider, so
// an erasure that began meanwhile never sees the subject re-created.
func TestEnrolmentStopsWhenErasureBegins(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	blobs := testBlobs(t)
	engine, err := builtin.NewEngine(builtin.Options{DataDir: t.TempDir(), Recognizer: synthetic.New()})
	if err != nil {
		t.Fatal(err)
	}
	prof := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "E-9", Name: "Erased", Status: contract.FaceStatusPending}
	t.Cleanup(func() { _, _ = blobs.DeletePrefix(context.Background(), "faces/"+prof.ID+"/") })
	data := facegen.JPEG(facegen.NewPerson(99).Render(facegen.Scene{Width: 640, Height: 480, X: 0.5, Y: 0.5, Scale: 0.55, Brightness: 1}), 90)
	img := store.FaceImage{ID: uuid.NewString(), ProfileID: prof.ID, ContentType: "image/jpeg", SizeBytes: len(data), Width: 640, Height: 480,
		SHA256: uuid.NewString(), Status: store.ImageStatusPending}
	img.ObjectKey = blob.FaceImageKey(prof.ID, img.ID, img.ContentType)
	if err := blobs.Put(ctx, img.ObjectKey, bytes.NewReader(data), int64(len(data)), img.ContentType); err != nil {
		t.Fatal(err)
	}
	prof.Images = append(prof.Images, img)
	if err := store.CreateFaceProfile(ctx, db, prof); err != nil {
		t.Fatal(err)
	}
	slow := &erasedMidway{Provider: engine, db: db, id: prof.ID}
	acts := &activities.Activities{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Blobs: blobs, Providers: fixedProviders{slow}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	_, err = env.ExecuteActivity(acts.EnrollPendingImages, prof.ID)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeProfileNotFound {
		t.Fatalf("enrolment ended with %v, want %s", err, contract.ErrTypeProfileNotFound)
	}
	if n := slow.enrolled.Load(); n != 0 {
		t.Fatalf("the provider was asked to enrol %d times after the erasure began", n)
	}
}

// TestEnrolmentAfterACrashAddsNoSecondExample: CompreFace stored a photo
// but the worker died before recording it; the next pass removes that
// orphan before adding the photo again, so the person has one example.
func TestEnrolmentAfterACrashAddsNoSecondExample(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	blobs := testBlobs(t)
	const key = "00000000-0000-4000-8000-00000000cf01"
	cf := providertest.NewCompreFace(t, key)
	prov, err := provider.New(provider.Config{Kind: provider.KindCompreFace, URL: cf.URL, APIKey: key, SimilarityThreshold: 0.8,
		DetectionThreshold: 0.5, Timeout: 5 * time.Second, MaxInFlight: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	prof := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "CF-1", Name: "Crash", Status: contract.FaceStatusPending}
	t.Cleanup(func() { _, _ = blobs.DeletePrefix(context.Background(), "faces/"+prof.ID+"/") })
	data := facegen.JPEG(facegen.NewPerson(31).Render(facegen.Scene{Width: 640, Height: 480, X: 0.5, Y: 0.5, Scale: 0.55, Brightness: 1}), 90)
	img := store.FaceImage{ID: uuid.NewString(), ProfileID: prof.ID, ContentType: "image/jpeg", SizeBytes: len(data), Width: 640, Height: 480,
		SHA256: uuid.NewString(), Status: store.ImageStatusPending}
	img.ObjectKey = blob.FaceImageKey(prof.ID, img.ID, img.ContentType)
	if err := blobs.Put(ctx, img.ObjectKey, bytes.NewReader(data), int64(len(data)), img.ContentType); err != nil {
		t.Fatal(err)
	}
	prof.Images = append(prof.Images, img)
	if err := store.CreateFaceProfile(ctx, db, prof); err != nil {
		t.Fatal(err)
	}
	// The crashed attempt: CompreFace has the example, Rollcall has no record of it.
	if _, err := prov.Enroll(ctx, prof.ID, []provider.Image{{ID: img.ID, Data: data}}); err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Blobs: blobs, Providers: fixedProviders{prov}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	if _, err := env.ExecuteActivity(acts.EnrollPendingImages, prof.ID); err != nil {
		t.Fatal(err)
	}
	if n := cf.Subjects()[prof.ID]; n != 1 {
		t.Fatalf("CompreFace holds %d examples of the person, want 1", n)
	}
	got, err := store.FindFaceProfile(ctx, db, prof.ID)
	if err != nil || got.Images[0].ProviderImageID == "" {
		t.Fatalf("image not recorded as enrolled: %+v %v", got, err)
	}
}
