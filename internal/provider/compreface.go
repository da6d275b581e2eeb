package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// compreFace talks to Exadel CompreFace's recognition service
// (docs/Rest-API-description.md of exadel-inc/CompreFace).
type compreFace struct {
	r *remote
	t thresholds
}

func newCompreFace(cfg Config) *compreFace {
	return &compreFace{
		r: newRemote(KindCompreFace, cfg),
		t: thresholds{detection: cfg.DetectionThreshold, similarity: cfg.SimilarityThreshold},
	}
}

// CompreFace's error codes (CommonExceptionCode) that we act on.
const (
	cfCodeModelNotFound  = 10 // 404: no recognition service has this API key
	cfCodeMissingHeader  = 20 // 400: no x-api-key header
	cfCodeConstraint     = 26 // 400: among others, "Service API key should be UUID"
	cfCodeNoFacesFound   = 28 // 400: "No face is found in the given image"
	cfCodeImageNotFound  = 11 // 404
	cfCodeSubjectMissing = 42 // 404: "Subject … not found"
	cfCodeEmbeddingGone  = 44 // 404: "Image … not found"
)

type cfError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

type cfRecognizeResponse struct {
	Result []struct {
		Box struct {
			Probability float64 `json:"probability"`
			XMax        int     `json:"x_max"`
			YMax        int     `json:"y_max"`
			XMin        int     `json:"x_min"`
			YMin        int     `json:"y_min"`
		} `json:"box"`
		Subjects []struct {
			Subject    string  `json:"subject"`
			Similarity float64 `json:"similarity"`
		} `json:"subjects"`
	} `json:"result"`
}

func (c *compreFace) header() http.Header {
	return http.Header{"X-Api-Key": {c.r.apiKey}}
}

func (c *compreFace) detProb() string {
	return strconv.FormatFloat(c.t.detection, 'f', -1, 64)
}

func (c *compreFace) Recognize(ctx context.Context, image []byte) (Result, error) {
	body, ct := multipartForm(nil, []formFile{{field: "file", data: image}})
	rep, err := c.r.do(ctx, call{
		op: "recognize", method: http.MethodPost, path: "/api/v1/recognition/recognize",
		query:  url.Values{"limit": {"0"}, "det_prob_threshold": {c.detProb()}, "prediction_count": {"1"}},
		header: c.header(), body: body, contentType: ct, idempotent: true,
	})
	if err != nil {
		return Result{}, err
	}
	if rep.status == http.StatusBadRequest && decodeCFError(rep.body).Code == cfCodeNoFacesFound {
		return Result{}, nil
	}
	if rep.status != http.StatusOK {
		return Result{}, c.fail("recognize", rep, true)
	}
	var resp cfRecognizeResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil {
		return Result{}, c.r.errorf(ErrProvider, "recognize", "unreadable answer: %v", err)
	}
	faces := make([]Face, 0, len(resp.Result))
	for _, f := range resp.Result {
		face := Face{
			Box:                 Box{X: f.Box.XMin, Y: f.Box.YMin, Width: f.Box.XMax - f.Box.XMin, Height: f.Box.YMax - f.Box.YMin},
			DetectionConfidence: f.Box.Probability,
		}
		for _, s := range f.Subjects { // most similar first; we ask for one
			if s.Similarity > face.Similarity || face.Subject == "" {
				face.Subject, face.Similarity = s.Subject, s.Similarity
			}
		}
		faces = append(faces, face)
	}
	return Result{Faces: c.t.apply(faces, true)}, nil
}

// Enroll adds each image as an example of subject, one call per image, and
// never retries (CompreFace would store a retried image twice). If an
// image fails, the images of this call already added are removed again, so
// the call adds all of them or none.
func (c *compreFace) Enroll(ctx context.Context, subject string, images []Image) ([]string, error) {
	ids := make([]string, 0, len(images))
	for i, img := range images {
		id, err := c.addExample(ctx, subject, img.Data)
		if err != nil {
			c.rollback(ctx, subject, ids)
			if len(images) > 1 {
				err = &Error{Kind: kindOf(err), Msg: fmt.Sprintf("%s (image %d of %d)", err.Error(), i+1, len(images))}
			}
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (c *compreFace) addExample(ctx context.Context, subject string, image []byte) (string, error) {
	body, ct := multipartForm(nil, []formFile{{field: "file", data: image}})
	rep, err := c.r.do(ctx, call{
		op: "enroll", method: http.MethodPost, path: "/api/v1/recognition/faces",
		query:  url.Values{"subject": {subject}, "det_prob_threshold": {c.detProb()}},
		header: c.header(), body: body, contentType: ct,
	})
	if err != nil {
		return "", err
	}
	if rep.status != http.StatusOK && rep.status != http.StatusCreated {
		return "", c.fail("enroll", rep, true)
	}
	var resp struct {
		ImageID string `json:"image_id"`
	}
	if err := json.Unmarshal(rep.body, &resp); err != nil || resp.ImageID == "" {
		return "", c.r.errorf(ErrProvider, "enroll", "answer without an image_id")
	}
	return resp.ImageID, nil
}

// SubjectImages lists the subject's examples (ImageLister), paging through
// GET /api/v1/recognition/faces.
func (c *compreFace) SubjectImages(ctx context.Context, subject string) ([]string, error) {
	var ids []string
	for page := 0; ; page++ {
		rep, err := c.r.do(ctx, call{op: "list examples", method: http.MethodGet, path: "/api/v1/recognition/faces",
			query: url.Values{"subject": {subject}, "page": {strconv.Itoa(page)}, "size": {"100"}}, header: c.header(), idempotent: true})
		if err != nil {
			return nil, err
		}
		if rep.status != http.StatusOK {
			return nil, c.fail("list examples", rep, false)
		}
		var resp struct {
			Faces []struct {
				ImageID string `json:"image_id"`
				Subject string `json:"subject"`
			} `json:"faces"`
			TotalPages int `json:"total_pages"`
		}
		if err := json.Unmarshal(rep.body, &resp); err != nil {
			return nil, c.r.errorf(ErrProvider, "list examples", "unreadable answer")
		}
		for _, f := range resp.Faces {
			if f.Subject == subject { // older servers ignore the filter
				ids = append(ids, f.ImageID)
			}
		}
		if page+1 >= resp.TotalPages || len(resp.Faces) == 0 {
			return ids, nil
		}
	}
}

// rollback removes images an Enroll call added before it failed; it is
// best effort, with its own short deadline so a canceled ctx still cleans up.
func (c *compreFace) rollback(ctx context.Context, subject string, ids []string) {
	if len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.r.timeout+time.Second)
	defer cancel()
	for _, id := range ids {
		_ = c.DeleteImage(rctx, subject, id)
	}
}

// DeleteImage removes one example; CompreFace's 404 for an unknown image
// is success, its 404 for an unknown API key is not.
func (c *compreFace) DeleteImage(ctx context.Context, subject, providerImageID string) error {
	rep, err := c.r.do(ctx, call{
		op: "delete image", method: http.MethodDelete,
		path:   "/api/v1/recognition/faces/" + url.PathEscape(providerImageID),
		header: c.header(), idempotent: true,
	})
	if err != nil {
		return err
	}
	if rep.status == http.StatusOK || c.missing(rep) {
		return nil
	}
	return c.fail("delete image", rep, false)
}

// DeleteSubject removes the subject and all its examples.
func (c *compreFace) DeleteSubject(ctx context.Context, subject string) error {
	rep, err := c.r.do(ctx, call{
		op: "delete subject", method: http.MethodDelete,
		path:   "/api/v1/recognition/subjects/" + url.PathEscape(subject),
		header: c.header(), idempotent: true,
	})
	if err != nil {
		return err
	}
	if rep.status == http.StatusOK || c.missing(rep) {
		return nil
	}
	return c.fail("delete subject", rep, false)
}

// Health lists the subjects: cheap, and refused without a valid key.
func (c *compreFace) Health(ctx context.Context) error {
	rep, err := c.r.do(ctx, call{
		op: "health", method: http.MethodGet, path: "/api/v1/recognition/subjects/",
		header: c.header(), idempotent: true,
	})
	if err != nil {
		return err
	}
	if rep.status != http.StatusOK {
		return c.fail("health", rep, false)
	}
	return nil
}

func (c *compreFace) Capabilities() Capabilities { return Capabilities{} }

// missing reports a 404 that means "no such image or subject".
func (c *compreFace) missing(rep reply) bool {
	if rep.status != http.StatusNotFound {
		return false
	}
	switch e := decodeCFError(rep.body); e.Code {
	case cfCodeImageNotFound, cfCodeSubjectMissing, cfCodeEmbeddingGone:
		return true
	case cfCodeModelNotFound:
		return false
	default:
		return strings.Contains(strings.ToLower(e.Message), "not found") && !refusesKey(e)
	}
}

// fail classifies an error answer. CompreFace refuses a key with its own
// codes rather than 401: 404 code 10 for an unknown key, 400 code 20 for
// a missing one, 400 code 26 for one that is not a UUID. A 400 to a call
// that carried an image means CompreFace could not use the image.
func (c *compreFace) fail(op string, rep reply, imageCall bool) error {
	e := decodeCFError(rep.body)
	detail := e.Message
	if detail == "" {
		detail = string(rep.body)
	}
	switch {
	case refusesKey(e) && (rep.status == http.StatusNotFound || rep.status == http.StatusBadRequest):
		return c.r.errorf(ErrUnauthorized, op, "CompreFace refused the API key (code %d)", e.Code)
	case rep.status == http.StatusBadRequest && imageCall:
		return c.r.errorf(ErrBadImage, op, "CompreFace could not use the image (code %d)", e.Code)
	}
	return c.r.statusError(op, rep.status, detail)
}

func refusesKey(e cfError) bool {
	msg := strings.ToLower(e.Message)
	switch e.Code {
	case cfCodeModelNotFound:
		return true
	case cfCodeMissingHeader, cfCodeConstraint:
		return strings.Contains(msg, "api-key") || strings.Contains(msg, "api key")
	}
	return false
}

func decodeCFError(body []byte) cfError {
	var e cfError
	_ = json.Unmarshal(body, &e)
	return e
}
