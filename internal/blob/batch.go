package blob

import (
	"context"
	"errors"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// DeleteKeys removes the objects under keys in multi-object delete
// requests (up to 1,000 keys each) and returns how many keys it was asked
// to remove that are now gone; missing objects count as removed, so a
// re-run after a partial failure is safe. An invalid key fails the call
// before anything is removed.
func (s *Store) DeleteKeys(ctx context.Context, keys []string) (int, error) {
	for _, k := range keys {
		if err := validateKey(k); err != nil {
			return 0, err
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	objs := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		objs <- minio.ObjectInfo{Key: k}
	}
	close(objs)
	failed := 0
	var firstErr error
	for e := range s.client.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if errors.Is(mapErr(e.Err), ErrNotFound) {
			continue
		}
		failed++
		if firstErr == nil {
			firstErr = e.Err
		}
	}
	if firstErr != nil {
		return len(keys) - failed, fmt.Errorf("blob: delete %d keys: %d not removed: %w", len(keys), failed, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("blob: delete %d keys: %w", len(keys), err)
	}
	return len(keys), nil
}
