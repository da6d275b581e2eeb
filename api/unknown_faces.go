package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/exif"
	"github.com/rollcall/rollcall/internal/imagecheck"
	"github.com/rollcall/rollcall/store"
)

// Unknown-face review: recent unknown faces grouped into sightings, which
// an operator assigns to a person (their frames become registration
// photos) or dismisses.

const (
	unknownGap       = 2 * time.Minute // a pause this long starts a new sighting
	unknownMaxPhotos = 5               // photos taken from one sighting
	unknownShown     = 3               // frames shown per sighting
)

// UnknownGroupBody is one sighting of unknown faces on a camera.
type UnknownGroupBody struct {
	ID          string    `json:"id" example:"MGI2YTRmN2Ut..." doc:"Opaque; names the sighting in assign and dismiss"`
	CameraID    string    `json:"cameraId" format:"uuid"`
	CameraName  string    `json:"cameraName,omitempty" example:"Lobby"`
	FirstSeenAt time.Time `json:"firstSeenAt"`
	LastSeenAt  time.Time `json:"lastSeenAt"`
	Detections  int       `json:"detections" example:"14" doc:"Unknown faces detected in the sighting"`
	Frames      int       `json:"frames" example:"14" doc:"Of which a frame was kept (ROLLCALL_DETECTION_SNAPSHOTS); only these can become photos"`
	Snapshots   []string  `json:"snapshots" doc:"Presigned URLs of the sighting's best frames (largest faces first)"`
}

// ListUnknownInput filters GET /detections/unknown.
type ListUnknownInput struct {
	Since    time.Time `query:"since" doc:"Default: 24 hours ago"`
	Until    time.Time `query:"until" doc:"Default: now"`
	CameraID string    `query:"cameraId" format:"uuid"`
	Limit    int       `query:"limit" minimum:"1" maximum:"100" default:"20"`
}

// UnknownListOutput lists sightings, the most recent first.
type UnknownListOutput struct {
	Body struct {
		Items []UnknownGroupBody `json:"items"`
	}
}

// UnknownGroupInput names a sighting.
type UnknownGroupInput struct {
	ID string `path:"id" maxLength:"200"`
}

// AssignUnknownInput assigns a sighting to an existing or a new person.
type AssignUnknownInput struct {
	ID   string `path:"id" maxLength:"200"`
	Body struct {
		FaceProfileID string `json:"faceProfileId,omitempty" format:"uuid" doc:"An existing person (exactly one of faceProfileId and person)"`
		Person        *struct {
			EmployeeCode string `json:"employeeCode" minLength:"1" maxLength:"64" example:"E-1042"`
			Name         string `json:"name" minLength:"1" maxLength:"200" example:"Ana Lima"`
			Department   string `json:"department,omitempty" maxLength:"120" example:"Logistics"`
			Email        string `json:"email,omitempty" maxLength:"254" example:"ana@example.com"`
		} `json:"person,omitempty" doc:"A new person to create"`
	}
}

// AssignUnknownOutput is the person the sighting went to.
type AssignUnknownOutput struct {
	Body struct {
		FaceProfileID string `json:"faceProfileId" format:"uuid"`
		Photos        int    `json:"photos" example:"5" doc:"Photos cut from the sighting's frames and sent to registration"`
		Reviewed      int64  `json:"reviewed" example:"14" doc:"Detections of the sighting marked assigned"`
	}
}

// DismissUnknownOutput tells how many detections were dismissed.
type DismissUnknownOutput struct {
	Body struct {
		Reviewed int64 `json:"reviewed" example:"14"`
	}
}

func registerUnknownFaces(api huma.API, s *Server) {
	register(api, op{ID: "list-unknown-faces", Method: http.MethodGet, Path: "/detections/unknown", Tag: "Detections", Perm: auth.PermDetectionsRead,
		Summary: "Recent unknown faces grouped into sightings (by camera and time), with their best frames"}, s.listUnknown)
	register(api, op{ID: "assign-unknown-faces", Method: http.MethodPost, Path: "/detections/unknown/{id}/assign", Tag: "Detections", Perm: auth.PermFacesWrite,
		Summary: "Make a sighting's frames registration photos of an existing or new person",
		Desc: "The faces are cut from the sighting's best frames (at most 5) and registered through the FaceRegistration workflow, " +
			"which checks each has one usable face. A sighting with no kept frame is 422."}, s.assignUnknown)
	register(api, op{ID: "dismiss-unknown-faces", Method: http.MethodPost, Path: "/detections/unknown/{id}/dismiss", Tag: "Detections", Perm: auth.PermDetectionsWrite,
		Summary: "Dismiss a sighting of unknown faces (it leaves the review list; the detections stay)"}, s.dismissUnknown)
}

// unknownID is a sighting's opaque ID: its camera and time span.
func unknownID(g store.UnknownGroup) string {
	raw := g.CameraID + "|" + strconv.FormatInt(g.FirstSeenAt.UnixNano(), 10) + "|" + strconv.FormatInt(g.LastSeenAt.UnixNano(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseUnknownID(id string) (cameraID string, first, last time.Time, p *Problem) {
	bad := newProblem(http.StatusNotFound, CodeNotFound, "no such sighting of unknown faces")
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", first, last, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return "", first, last, bad
	}
	if _, err := uuid.Parse(parts[0]); err != nil || len(parts[0]) != 36 {
		return "", first, last, bad
	}
	a, errA := strconv.ParseInt(parts[1], 10, 64)
	b, errB := strconv.ParseInt(parts[2], 10, 64)
	if errA != nil || errB != nil || b < a {
		return "", first, last, bad
	}
	return parts[0], time.Unix(0, a).UTC(), time.Unix(0, b).UTC(), nil
}

func (s *Server) listUnknown(ctx context.Context, in *ListUnknownInput) (*UnknownListOutput, error) {
	now := s.now()
	since, until := in.Since, in.Until
	if until.IsZero() {
		until = now
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !until.After(since) {
		return nil, fieldError("query.until", "must be after since", nil)
	}
	groups, err := store.FindUnknownGroups(ctx, s.db, store.UnknownFilter{Since: since, Until: until, CameraID: in.CameraID, Gap: unknownGap, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := &UnknownListOutput{}
	out.Body.Items = make([]UnknownGroupBody, 0, len(groups))
	for _, g := range groups {
		b := UnknownGroupBody{ID: unknownID(g), CameraID: g.CameraID, FirstSeenAt: g.FirstSeenAt, LastSeenAt: g.LastSeenAt,
			Detections: g.Count, Frames: g.Frames, Snapshots: []string{}}
		if _, ok := names[g.CameraID]; !ok {
			if c, err := store.FindCameraByID(ctx, s.db, g.CameraID); err == nil {
				names[g.CameraID] = c.Name
			}
		}
		b.CameraName = names[g.CameraID]
		if g.Frames > 0 {
			frames, err := store.UnknownFrames(ctx, s.db, g.CameraID, g.FirstSeenAt, g.LastSeenAt, unknownShown)
			if err != nil {
				return nil, err
			}
			for _, f := range frames {
				if u := s.presign(ctx, f.SnapshotKey); u != "" {
					b.Snapshots = append(b.Snapshots, u)
				}
			}
		}
		out.Body.Items = append(out.Body.Items, b)
	}
	return out, nil
}

func (s *Server) dismissUnknown(ctx context.Context, in *UnknownGroupInput) (*DismissUnknownOutput, error) {
	cameraID, first, last, p := parseUnknownID(in.ID)
	if p != nil {
		return nil, p
	}
	n, err := store.ReviewUnknown(ctx, s.db, cameraID, first, last, store.ReviewDismissed, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, newProblem(http.StatusNotFound, CodeNotFound, "no unreviewed unknown faces in this sighting")
	}
	out := &DismissUnknownOutput{}
	out.Body.Reviewed = n
	return out, nil
}

func (s *Server) assignUnknown(ctx context.Context, in *AssignUnknownInput) (*AssignUnknownOutput, error) {
	b := in.Body
	if (b.FaceProfileID == "") == (b.Person == nil) {
		return nil, fieldError("body", "give exactly one of faceProfileId and person", nil)
	}
	cameraID, first, last, p := parseUnknownID(in.ID)
	if p != nil {
		return nil, p
	}
	var prof *store.FaceProfile
	if b.FaceProfileID != "" {
		var err error
		if prof, err = store.FindFaceProfile(ctx, s.db, b.FaceProfileID); err != nil {
			return nil, problemFor(err, "person")
		}
		if prof.Status == contract.FaceStatusDeleting {
			return nil, newProblem(http.StatusConflict, CodeConflict, "this person is being deleted")
		}
		if len(prof.Images)+unknownMaxPhotos > 50 {
			return nil, fieldError("body.faceProfileId", "this person already has too many photos (50 at most)", len(prof.Images))
		}
	} else {
		f := FaceFields{EmployeeCode: b.Person.EmployeeCode, Name: b.Person.Name, Department: b.Person.Department, Email: b.Person.Email}
		if p := checkFaceFields(&f); p != nil {
			for _, e := range p.Errors {
				e.Location = strings.Replace(e.Location, "body.", "body.person.", 1)
			}
			return nil, p
		}
		prof = &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: f.EmployeeCode, Name: f.Name, Department: f.Department,
			Email: f.Email, Status: contract.FaceStatusPending}
	}
	frames, err := store.UnknownFrames(ctx, s.db, cameraID, first, last, unknownMaxPhotos)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 {
		return nil, newProblem(http.StatusUnprocessableEntity, CodeValidation,
			"no frame was kept for this sighting (frames are kept when ROLLCALL_DETECTION_SNAPSHOTS is on), so there is nothing to register from")
	}
	ups := s.facePhotos(ctx, prof.ID, frames)
	if len(ups) == 0 {
		return nil, newProblem(http.StatusUnprocessableEntity, CodeValidation, "none of the sighting's frames could be read or gave a usable face photo")
	}
	if err := s.storeUploads(ctx, ups); err != nil {
		return nil, err
	}
	rows := make([]store.FaceImage, len(ups))
	for i, u := range ups {
		rows[i] = u.row
	}
	if b.Person != nil {
		prof.Images = rows
		err = store.CreateFaceProfile(ctx, s.db, prof)
	} else {
		err = store.AddFaceImages(ctx, s.db, prof.ID, rows)
	}
	if err != nil {
		s.removeUploads(ctx, ups)
		if b.Person != nil {
			return nil, problemFor(err, "person", employeeCodeTaken(prof.EmployeeCode))
		}
		return nil, problemFor(err, "person")
	}
	infoFrom(ctx).AuditResourceID = prof.ID
	n, err := store.ReviewUnknown(ctx, s.db, cameraID, first, last, store.ReviewAssigned, s.now().UTC())
	if err != nil {
		return nil, err
	}
	s.startRegistration(ctx, prof.ID)
	out := &AssignUnknownOutput{}
	out.Body.FaceProfileID, out.Body.Photos, out.Body.Reviewed = prof.ID, len(ups), n
	return out, nil
}

// facePhotos cuts each frame's face (its box with a margin, at least
// 96×96 where the frame allows) into a JPEG checked like an upload. Frames
// that cannot be read are skipped.
func (s *Server) facePhotos(ctx context.Context, profileID string, frames []store.Detection) []upload {
	var out []upload
	seen := map[string]bool{}
	for _, f := range frames {
		data, err := s.readBlob(ctx, f.SnapshotKey)
		if err != nil {
			continue
		}
		photo, err := cropFace(data, image.Rect(f.BoxX, f.BoxY, f.BoxX+f.BoxWidth, f.BoxY+f.BoxHeight))
		if err != nil {
			continue
		}
		info, err := imagecheck.Check(photo, imagecheck.DefaultLimits)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(photo)
		digest := hex.EncodeToString(sum[:])
		if seen[digest] {
			continue
		}
		seen[digest] = true
		id := uuid.NewString()
		out = append(out, upload{data: photo, row: store.FaceImage{
			ID: id, ProfileID: profileID, ObjectKey: blob.FaceImageKey(profileID, id, info.ContentType),
			ContentType: info.ContentType, SizeBytes: len(photo), Width: info.Width, Height: info.Height,
			SHA256: digest, Status: store.ImageStatusPending,
		}})
	}
	return out
}

func (s *Server) readBlob(ctx context.Context, key string) ([]byte, error) {
	r, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, int64(imagecheck.DefaultLimits.MaxBytes)))
}

// cropFace cuts box out of a JPEG frame with half the box's size as margin
// on every side, grown to at least 96×96 within the frame. The box is in
// the frame as it is shown (turned as its EXIF orientation says, as the
// provider saw it).
func cropFace(frame []byte, box image.Rectangle) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		return nil, err
	}
	img = exif.Upright(img, exif.Orientation(frame))
	bounds := img.Bounds()
	if box.Empty() || !box.Overlaps(bounds) {
		return nil, fmt.Errorf("api: face box %v outside the frame %v", box, bounds)
	}
	mx, my := max(box.Dx()/2, (96-box.Dx()+1)/2), max(box.Dy()/2, (96-box.Dy()+1)/2)
	r := image.Rect(box.Min.X-mx, box.Min.Y-my, box.Max.X+mx, box.Max.Y+my).Intersect(bounds)
	face := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(face, face.Bounds(), img, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, face, &jpeg.Options{Quality: 92}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
