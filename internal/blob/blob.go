// Package blob stores Rollcall's objects (snapshots, face images, exports)
// in MinIO or any S3-compatible store.
package blob

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Options configure the object store.
type Options struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
	Region    string
}

// Store is a bucket in an S3-compatible object store.
type Store struct {
	client *minio.Client
	bucket string
	region string
}

// New returns a Store; it does not contact the server.
func New(o Options) (*Store, error) {
	c, err := minio.New(o.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure: o.UseSSL,
		Region: o.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: client: %w", err)
	}
	return &Store{client: c, bucket: o.Bucket, region: o.Region}, nil
}

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: check bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region}); err != nil {
		// Another replica may have created it in the meantime.
		if exists, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && exists {
			return nil
		}
		return fmt.Errorf("blob: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

// Check reports whether the store answers and the bucket exists.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: health: %w", err)
	}
	if !ok {
		return fmt.Errorf("blob: bucket %s is missing", s.bucket)
	}
	return nil
}
