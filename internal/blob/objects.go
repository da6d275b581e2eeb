package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
)

// MaxKeyLength bounds an object key in bytes (S3's own limit).
const MaxKeyLength = 1024

// unknownSizePartSize is the multipart part size for uploads of unknown size;
// minio-go would otherwise buffer parts of ~537 MiB. It caps such an upload
// at 10,000 parts (160 GiB).
const unknownSizePartSize = 16 << 20

var (
	// ErrNotFound means the object does not exist.
	ErrNotFound = errors.New("blob: object not found")
	// ErrInvalidKey means a key or prefix was refused before reaching the store.
	ErrInvalidKey = errors.New("blob: invalid key")
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	// Size is the object's length in bytes.
	Size int64
	// ContentType is the MIME type given when it was stored.
	ContentType string
	// LastModified is when it was last written.
	LastModified time.Time
}

// Put stores r under key, streaming it. size is r's length, or -1 when
// unknown (the upload is then multipart, in 16 MiB parts). An empty
// contentType means application/octet-stream.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if size < -1 {
		return fmt.Errorf("blob: put %s: invalid size %d", key, size)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if size == -1 {
		opts.PartSize = unknownSizePartSize
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Get opens the object under key; the caller closes it. A missing object is
// ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validateKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, mapErr(err))
	}
	// GetObject is lazy: Stat sends the request, so a missing key fails here
	// rather than on the caller's first Read.
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		return nil, fmt.Errorf("blob: get %s: %w", key, mapErr(err))
	}
	return obj, nil
}

// Stat describes the object under key. A missing object is ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := validateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("blob: stat %s: %w", key, mapErr(err))
	}
	return ObjectInfo{Size: info.Size, ContentType: info.ContentType, LastModified: info.LastModified}, nil
}

// PresignGet returns a URL that downloads the object without credentials
// until expiry passes (1 s to 7 days). A non-empty filename makes the
// download an attachment with that name. It does not check the object exists.
func (s *Store) PresignGet(ctx context.Context, key string, expiry time.Duration, filename string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	if expiry < time.Second || expiry > 7*24*time.Hour {
		return "", fmt.Errorf("blob: presign %s: expiry %v is outside 1s..7d", key, expiry)
	}
	params := url.Values{}
	if filename != "" {
		cd := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
		if cd == "" {
			return "", fmt.Errorf("blob: presign %s: invalid filename", key)
		}
		params.Set("response-content-disposition", cd)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, params)
	if err != nil {
		return "", fmt.Errorf("blob: presign %s: %w", key, err)
	}
	return u.String(), nil
}

// Delete removes the object under key; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(mapErr(err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix and returns
// how many it removed. The prefix is a plain string prefix: end it with "/"
// to remove one "folder" ("cameras/1/" does not touch "cameras/10/").
func (s *Store) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if err := validateKey(prefix); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	toRemove := make(chan minio.ObjectInfo)
	listed := 0
	var listErr error
	listDone := make(chan struct{})
	go func() {
		defer close(listDone)
		defer close(toRemove)
		for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				listErr = obj.Err
				return
			}
			select {
			case toRemove <- obj:
				listed++
			case <-ctx.Done():
				listErr = ctx.Err()
				return
			}
		}
	}()

	failed := 0
	var removeErr error
	for e := range s.client.RemoveObjects(ctx, s.bucket, toRemove, minio.RemoveObjectsOptions{}) {
		if errors.Is(mapErr(e.Err), ErrNotFound) {
			continue // deleted concurrently: gone all the same
		}
		failed++
		if removeErr == nil {
			removeErr = e.Err
		}
	}
	cancel() // stop the lister if removal ended early
	<-listDone

	removed := listed - failed
	if removeErr != nil {
		return removed, fmt.Errorf("blob: delete prefix %s: %d objects not removed: %w", prefix, failed, removeErr)
	}
	if listErr != nil && !errors.Is(listErr, context.Canceled) {
		return removed, fmt.Errorf("blob: delete prefix %s: list: %w", prefix, listErr)
	}
	return removed, nil
}

// mapErr turns the store's "no such key" into ErrNotFound.
func mapErr(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// validateKey refuses keys (and prefixes) that are empty, absolute, contain
// "..", are not UTF-8, contain control characters or exceed MaxKeyLength.
func validateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLength)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q starts with '/'", ErrInvalidKey, key)
	case strings.Contains(key, ".."):
		return fmt.Errorf("%w: %q contains '..'", ErrInvalidKey, key)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidKey)
	case strings.ContainsFunc(key, unicode.IsControl):
		return fmt.Errorf("%w: %q contains a control character", ErrInvalidKey, key)
	}
	return nil
}

// RemoveBucket deletes every object of the bucket and the bucket itself
// (tests that use a bucket of their own).
func (s *Store) RemoveBucket(ctx context.Context) error {
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: list %s: %w", s.bucket, obj.Err)
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("blob: remove %s: %w", obj.Key, err)
		}
	}
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		return fmt.Errorf("blob: remove bucket %s: %w", s.bucket, err)
	}
	return nil
}
