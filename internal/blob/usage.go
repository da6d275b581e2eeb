package blob

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// Usage counts the bucket's objects and their bytes by listing it, up to
// maxObjects objects (capped then reports true and the counts are lower
// bounds). A listing returns 1,000 keys per request, so the cost is
// maxObjects/1000 requests; the figure is for a dashboard, and a bucket
// past the cap is better measured by the store's own usage reports.
func (s *Store) Usage(ctx context.Context, maxObjects int) (objects, bytes int64, capped bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return objects, bytes, false, fmt.Errorf("blob: usage of %s: %w", s.bucket, obj.Err)
		}
		if objects == int64(maxObjects) {
			return objects, bytes, true, nil
		}
		objects++
		bytes += obj.Size
	}
	return objects, bytes, false, nil
}
