package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// codeProject talks to CodeProject.AI Server's Face Processing module and
// to DeepStack, which it is based on and whose API it keeps.
//
// Both answer {"success": false, "error": "..."} on failure: CodeProject.AI
// with HTTP 200, DeepStack with the module's status (400 for "No face found
// in image", 401 for "Incorrect api key"). Both are handled alike.
type codeProject struct {
	r *remote
	t thresholds
}

func newCodeProject(cfg Config) *codeProject {
	return &codeProject{
		r: newRemote(KindCodeProject, cfg),
		t: thresholds{detection: cfg.DetectionThreshold, similarity: cfg.SimilarityThreshold},
	}
}

type cpResponse struct {
	Success     *bool  `json:"success"`
	Error       string `json:"error"`
	Message     string `json:"message"`
	Predictions []struct {
		UserID     string  `json:"userid"`
		Confidence float64 `json:"confidence"`
		XMin       int     `json:"x_min"`
		YMin       int     `json:"y_min"`
		XMax       int     `json:"x_max"`
		YMax       int     `json:"y_max"`
	} `json:"predictions"`
}

// minConfidence is what we send as min_confidence. The module uses that one
// value twice: faces detected with less confidence are not returned, and
// faces whose best similarity is below it come back as "unknown" with
// confidence 0. We send the lower of our two thresholds, so the provider
// drops nothing we would keep; when SimilarityThreshold is the higher
// (the usual case) the detection cut is exactly DetectionThreshold and we
// apply SimilarityThreshold ourselves.
func (c *codeProject) minConfidence() float64 {
	return min(c.t.detection, c.t.similarity)
}

func (c *codeProject) fields(extra ...formField) []formField {
	if c.r.apiKey != "" {
		extra = append(extra, formField{"api_key", c.r.apiKey})
	}
	return extra
}

// Recognize reports, per face, the matched userid and its similarity
// ("confidence"); "unknown" faces come with similarity 0, as the module does
// not say how close they came. The module does not report detection
// confidence either: DetectionConfidence is the min_confidence the face
// passed, and the detection threshold is left to the module.
func (c *codeProject) Recognize(ctx context.Context, image []byte) (Result, error) {
	minConf := c.minConfidence()
	body, ct := multipartForm(
		c.fields(formField{"min_confidence", strconv.FormatFloat(minConf, 'f', -1, 64)}),
		[]formFile{{field: "image", data: image}})
	rep, err := c.r.do(ctx, call{
		op: "recognize", method: http.MethodPost, path: "/v1/vision/face/recognize",
		body: body, contentType: ct, idempotent: true,
	})
	if err != nil {
		return Result{}, err
	}
	resp, ok := decodeCPResponse(rep.body)
	if ok && !*resp.Success && noFace(resp.Error) {
		return Result{}, nil
	}
	if !ok || !*resp.Success || rep.status != http.StatusOK {
		return Result{}, c.fail("recognize", rep, resp, true)
	}
	faces := make([]Face, 0, len(resp.Predictions))
	for _, p := range resp.Predictions {
		face := Face{
			Box:                 Box{X: p.XMin, Y: p.YMin, Width: p.XMax - p.XMin, Height: p.YMax - p.YMin},
			DetectionConfidence: minConf,
		}
		if p.UserID != "" && p.UserID != "unknown" {
			face.Subject, face.Similarity = p.UserID, p.Confidence
		}
		faces = append(faces, face)
	}
	return Result{Faces: c.t.apply(faces, false)}, nil
}

// Enroll registers all of subject's images in one call, replacing what was
// registered before. The module keeps one averaged embedding per userid and
// no per-image IDs, so the IDs returned are Rollcall's image IDs
// (or "<subject>#<n>", n from 1, for an image without one). Never retried.
func (c *codeProject) Enroll(ctx context.Context, subject string, images []Image) ([]string, error) {
	if len(images) == 0 {
		return nil, nil
	}
	files := make([]formFile, len(images))
	ids := make([]string, len(images))
	for i, img := range images {
		files[i] = formFile{field: "image" + strconv.Itoa(i+1), data: img.Data}
		ids[i] = img.ID
		if ids[i] == "" {
			ids[i] = subject + "#" + strconv.Itoa(i+1)
		}
	}
	body, ct := multipartForm(c.fields(formField{"userid", subject}), files)
	rep, err := c.r.do(ctx, call{
		op: "enroll", method: http.MethodPost, path: "/v1/vision/face/register",
		body: body, contentType: ct,
	})
	if err != nil {
		return nil, err
	}
	resp, ok := decodeCPResponse(rep.body)
	if ok && *resp.Success && rep.status == http.StatusOK {
		return ids, nil
	}
	if ok && noFace(resp.Error) {
		return nil, c.r.errorf(ErrBadImage, "enroll", "no face found in any of the %d images", len(images))
	}
	return nil, c.fail("enroll", rep, resp, true)
}

// DeleteImage is unsupported: a registration is replaced whole.
func (c *codeProject) DeleteImage(context.Context, string, string) error {
	return &Error{Kind: ErrUnsupported, Msg: "codeproject delete image: CodeProject.AI replaces a subject's registration whole; enroll the remaining images instead"}
}

// DeleteSubject removes the userid; an unknown one is success already.
func (c *codeProject) DeleteSubject(ctx context.Context, subject string) error {
	return c.post(ctx, "delete subject", "/v1/vision/face/delete", formField{"userid", subject})
}

// Health lists the registered faces: this proves the face module (not only
// the server) answers, and DeepStack checks the API key on it. Both
// CodeProject.AI and DeepStack have it; DeepStack has no status endpoint.
func (c *codeProject) Health(ctx context.Context) error {
	return c.post(ctx, "health", "/v1/vision/face/list")
}

func (c *codeProject) Capabilities() Capabilities { return Capabilities{ReplacesSubject: true} }

// post sends an idempotent form without images and expects success.
func (c *codeProject) post(ctx context.Context, op, path string, fields ...formField) error {
	body, ct := multipartForm(c.fields(fields...), nil)
	rep, err := c.r.do(ctx, call{op: op, method: http.MethodPost, path: path, body: body, contentType: ct, idempotent: true})
	if err != nil {
		return err
	}
	resp, ok := decodeCPResponse(rep.body)
	if ok && *resp.Success && rep.status == http.StatusOK {
		return nil
	}
	return c.fail(op, rep, resp, false)
}

func (c *codeProject) fail(op string, rep reply, resp cpResponse, imageCall bool) error {
	detail := resp.Error
	if detail == "" {
		detail = resp.Message
	}
	lower := strings.ToLower(detail)
	switch {
	case rep.status == http.StatusUnauthorized || strings.Contains(lower, "api key"):
		return c.r.errorf(ErrUnauthorized, op, "the provider refused the API key (HTTP %d)", rep.status)
	case rep.status == http.StatusForbidden && strings.Contains(lower, "not activated"):
		return c.r.errorf(ErrProvider, op, "the face endpoints are not activated (start the provider with its face endpoints enabled)")
	case rep.status == http.StatusNotFound:
		return c.r.errorf(ErrProvider, op, "HTTP 404: no such endpoint; is the Face Processing module installed and running?")
	case rep.status >= 500:
		return c.r.statusError(op, rep.status, detail)
	case imageCall && (strings.Contains(lower, "image") || rep.status == http.StatusBadRequest):
		return c.r.errorf(ErrBadImage, op, "the provider could not use the image (HTTP %d)", rep.status)
	case detail != "":
		return c.r.errorf(ErrProvider, op, "the provider reported an error (HTTP %d)", rep.status)
	}
	if rep.status == http.StatusOK {
		return c.r.errorf(ErrProvider, op, "unreadable answer")
	}
	return c.r.statusError(op, rep.status, string(rep.body))
}

// decodeCPResponse reads an answer; ok is false when it is not the
// module's JSON (no "success" field).
func decodeCPResponse(body []byte) (cpResponse, bool) {
	var resp cpResponse
	if err := json.Unmarshal(body, &resp); err != nil || resp.Success == nil {
		return cpResponse{}, false
	}
	return resp, true
}

// noFace recognises "No face found in image" (recognize) and "No face
// detected" (register), in any case.
func noFace(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "no face found") || strings.Contains(m, "no face detected")
}
