package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/rollcall/rollcall/internal/testenv"
)

// TestUsageCountsObjectsUpToTheCap counts a bucket of its own (the
// stack's bucket is shared with other tests writing at the same time).
func TestUsageCountsObjectsUpToTheCap(t *testing.T) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s, err := New(Options{Endpoint: testenv.Require(t, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: "rollcall-usage-" + hex.EncodeToString(b),
		UseSSL: os.Getenv("ROLLCALL_S3_USE_SSL") == "true"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.DeletePrefix(context.Background(), "u/")
		_ = s.client.RemoveBucket(context.Background(), s.bucket)
	})
	mustPut(t, s, "u/a", make([]byte, 100))
	mustPut(t, s, "u/b/c", make([]byte, 20))
	mustPut(t, s, "u/d", make([]byte, 3))

	objects, bytes, capped, err := s.Usage(ctx, 10)
	if err != nil || objects != 3 || bytes != 123 || capped {
		t.Errorf("Usage(10) = %d objects, %d bytes, capped %v, %v; want 3, 123, false", objects, bytes, capped, err)
	}
	objects, _, capped, err = s.Usage(ctx, 2)
	if err != nil || objects != 2 || !capped {
		t.Errorf("Usage(2) = %d objects, capped %v, %v; want 2, true", objects, capped, err)
	}
}
