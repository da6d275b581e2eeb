package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/imagecheck"
	"github.com/rollcall/rollcall/store"
)

// A person's photos: uploads checked, stored and enrolled (the profiles
// themselves are in faces.go).

// AddFaceImagesForm is the multipart body of POST /faces/{id}/images.
type AddFaceImagesForm struct {
	Images []huma.FormFile `form:"images" contentType:"image/jpeg,image/png,application/octet-stream" required:"true"`
}

// AddFaceImagesInput is POST /faces/{id}/images.
type AddFaceImagesInput struct {
	ID      string `path:"id" format:"uuid"`
	RawBody huma.MultipartFormFiles[AddFaceImagesForm]
}

// FaceImageIDInput names one image of a profile.
type FaceImageIDInput struct {
	ID      string `path:"id" format:"uuid"`
	ImageID string `path:"imageId" format:"uuid"`
}

// upload is a validated image ready to store.
type upload struct {
	row  store.FaceImage
	data []byte
}

// readUploads validates every file before anything is stored: count,
// content (real JPEG/PNG), size and dimensions, duplicates.
func readUploads(files []huma.FormFile, profileID string) ([]upload, *Problem) {
	if len(files) == 0 {
		return nil, fieldError("body.images", "at least one photo is required", nil)
	}
	if len(files) > maxFaceImages {
		return nil, fieldError("body.images", fmt.Sprintf("at most %d photos per request", maxFaceImages), len(files))
	}
	out := make([]upload, 0, len(files))
	seen := map[string]bool{}
	for i, f := range files {
		loc := fmt.Sprintf("body.images[%d]", i)
		data, err := io.ReadAll(io.LimitReader(f.File, int64(imagecheck.DefaultLimits.MaxBytes)+1))
		_ = f.File.Close()
		if err != nil {
			return nil, fieldError(loc, "could not be read", f.Filename)
		}
		info, err := imagecheck.Check(data, imagecheck.DefaultLimits)
		if err != nil {
			return nil, fieldError(loc, strings.TrimPrefix(err.Error(), "invalid image: "), f.Filename)
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		if seen[digest] {
			return nil, fieldError(loc, "is the same photo as another one in this request", f.Filename)
		}
		seen[digest] = true
		id := uuid.NewString()
		out = append(out, upload{data: data, row: store.FaceImage{
			ID: id, ProfileID: profileID, ObjectKey: blob.FaceImageKey(profileID, id, info.ContentType),
			ContentType: info.ContentType, SizeBytes: len(data), Width: info.Width, Height: info.Height,
			SHA256: digest, Status: store.ImageStatusPending,
		}})
	}
	return out, nil
}

// storeUploads puts the images in the object store; on failure it removes
// what it stored.
func (s *Server) storeUploads(ctx context.Context, ups []upload) error {
	for i, u := range ups {
		if err := s.blobs.Put(ctx, u.row.ObjectKey, bytes.NewReader(u.data), int64(len(u.data)), u.row.ContentType); err != nil {
			s.removeUploads(ctx, ups[:i])
			return err
		}
	}
	return nil
}

func (s *Server) removeUploads(ctx context.Context, ups []upload) {
	for _, u := range ups {
		if err := s.blobs.Delete(context.WithoutCancel(ctx), u.row.ObjectKey); err != nil {
			s.log.WarnContext(ctx, "remove uploaded face image", slog.String("key", u.row.ObjectKey), slog.String("error", err.Error()))
		}
	}
}

func (s *Server) addFaceImages(ctx context.Context, in *AddFaceImagesInput) (*FaceOutput, error) {
	prof, err := store.FindFaceProfile(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "person or photo")
	}
	if prof.Status == contract.FaceStatusDeleting {
		return nil, newProblem(http.StatusConflict, CodeConflict, "this person is being deleted")
	}
	if len(prof.Images)+len(in.RawBody.Data().Images) > 50 {
		return nil, fieldError("body.images", "a person may have at most 50 photos", len(prof.Images))
	}
	ups, p := readUploads(in.RawBody.Data().Images, in.ID)
	if p != nil {
		return nil, p
	}
	if err := s.storeUploads(ctx, ups); err != nil {
		return nil, err
	}
	rows := make([]store.FaceImage, len(ups))
	for i, u := range ups {
		rows[i] = u.row
	}
	if err := store.AddFaceImages(ctx, s.db, in.ID, rows); err != nil {
		s.removeUploads(ctx, ups)
		if errors.Is(err, store.ErrConflict) {
			return nil, fieldError("body.images", "one of these photos is already registered for this person", nil)
		}
		return nil, problemFor(err, "person or photo")
	}
	s.startRegistration(ctx, in.ID)
	return s.faceOutput(ctx, in.ID)
}

func (s *Server) deleteFaceImage(ctx context.Context, in *FaceImageIDInput) (*FaceOutput, error) {
	if err := store.MarkFaceImageDeleting(ctx, s.db, in.ID, in.ImageID); err != nil {
		return nil, problemFor(err, "person or photo")
	}
	infoFrom(ctx).AuditResourceID = in.ImageID
	s.startRegistration(ctx, in.ID)
	return s.faceOutput(ctx, in.ID)
}

// Upload limits of face images.
const (
	maxFaceImages      = 10
	maxFaceUploadBytes = maxFaceImages*(8<<20) + 64<<10
)
