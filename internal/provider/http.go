package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
)

// httpProvider speaks Rollcall's own JSON protocol (docs/providers.md),
// which custom providers and `rollcall provider` serve. Every call is
// idempotent, enrollment included (PUT under Rollcall's image ID), so every
// call is retried once when the provider is unreachable or answers 5xx.
type httpProvider struct {
	r *remote
	t thresholds
}

func newHTTPProvider(cfg Config) *httpProvider {
	name := cfg.Kind // "http", or "builtin" for `rollcall provider`
	return &httpProvider{
		r: newRemote(name, cfg),
		t: thresholds{detection: cfg.DetectionThreshold, similarity: cfg.SimilarityThreshold},
	}
}

// Wire types of the protocol.
type (
	httpFace struct {
		Box        Box     `json:"box"`
		Confidence float64 `json:"confidence"`
		Subject    *string `json:"subject"`
		Similarity float64 `json:"similarity"`
	}
	httpRecognizeResponse struct {
		Faces []httpFace `json:"faces"`
	}
	httpEnrollResponse struct {
		ImageID string `json:"imageId"`
	}
	httpHealthResponse struct {
		Status string `json:"status"`
	}
	httpError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

func (p *httpProvider) header() http.Header {
	if p.r.apiKey == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + p.r.apiKey}}
}

// Recognize sends the frame's source (SourceFrom(ctx)), if any, as
// SourceHeader, so a provider can track faces per camera.
func (p *httpProvider) Recognize(ctx context.Context, image []byte) (Result, error) {
	ct, _ := imageType(image)
	header := p.header()
	if src := SourceFrom(ctx); src != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set(SourceHeader, src)
	}
	rep, err := p.r.do(ctx, call{
		op: "recognize", method: http.MethodPost, path: "/v1/recognize",
		header: header, body: image, contentType: ct, idempotent: true,
	})
	if err != nil {
		return Result{}, err
	}
	if rep.status != http.StatusOK {
		return Result{}, p.fail("recognize", rep, true)
	}
	var resp httpRecognizeResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil {
		return Result{}, p.r.errorf(ErrProvider, "recognize", "unreadable answer: %v", err)
	}
	faces := make([]Face, 0, len(resp.Faces))
	for _, f := range resp.Faces {
		face := Face{Box: f.Box, DetectionConfidence: f.Confidence, Similarity: f.Similarity}
		if f.Subject != nil {
			face.Subject = *f.Subject
		}
		faces = append(faces, face)
	}
	return Result{Faces: p.t.apply(faces, true)}, nil
}

// Enroll PUTs each image under its Rollcall image ID; an image without one
// gets a random ID (and so loses the idempotence a retry would need).
func (p *httpProvider) Enroll(ctx context.Context, subject string, images []Image) ([]string, error) {
	ids := make([]string, 0, len(images))
	for _, img := range images {
		id := img.ID
		if id == "" {
			id = rand.Text()
		}
		ct, _ := imageType(img.Data)
		rep, err := p.r.do(ctx, call{
			op: "enroll", method: http.MethodPut,
			path:   "/v1/subjects/" + url.PathEscape(subject) + "/images/" + url.PathEscape(id),
			header: p.header(), body: img.Data, contentType: ct, idempotent: true,
		})
		if err != nil {
			return nil, err
		}
		if rep.status != http.StatusOK && rep.status != http.StatusCreated {
			return nil, p.fail("enroll", rep, true)
		}
		var resp httpEnrollResponse
		if err := json.Unmarshal(rep.body, &resp); err == nil && resp.ImageID != "" {
			id = resp.ImageID
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (p *httpProvider) DeleteImage(ctx context.Context, subject, providerImageID string) error {
	return p.delete(ctx, "delete image", "/v1/subjects/"+url.PathEscape(subject)+"/images/"+url.PathEscape(providerImageID))
}

func (p *httpProvider) DeleteSubject(ctx context.Context, subject string) error {
	return p.delete(ctx, "delete subject", "/v1/subjects/"+url.PathEscape(subject))
}

func (p *httpProvider) delete(ctx context.Context, op, path string) error {
	rep, err := p.r.do(ctx, call{op: op, method: http.MethodDelete, path: path, header: p.header(), idempotent: true})
	if err != nil {
		return err
	}
	switch rep.status {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusNotFound:
		// A missing subject or image is already deleted; only a refused
		// key answered 404 would matter, and that is a 401.
		return nil
	}
	return p.fail(op, rep, false)
}

func (p *httpProvider) Health(ctx context.Context) error {
	rep, err := p.r.do(ctx, call{op: "health", method: http.MethodGet, path: "/v1/health", header: p.header(), idempotent: true})
	if err != nil {
		return err
	}
	if rep.status != http.StatusOK {
		return p.fail("health", rep, false)
	}
	var resp httpHealthResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil || resp.Status != "ok" {
		return p.r.errorf(ErrProvider, "health", "the provider does not report status ok")
	}
	return nil
}

func (p *httpProvider) Capabilities() Capabilities { return Capabilities{IdempotentEnroll: true} }

func (p *httpProvider) fail(op string, rep reply, imageCall bool) error {
	var e httpError
	_ = json.Unmarshal(rep.body, &e)
	detail := e.Message
	if detail == "" {
		detail = e.Code
	}
	switch {
	case e.Code == "unauthorized" || rep.status == http.StatusUnauthorized || rep.status == http.StatusForbidden:
		return p.r.errorf(ErrUnauthorized, op, "the provider refused the API key (HTTP %d)", rep.status)
	case e.Code == "bad_image" || (imageCall && rep.status == http.StatusBadRequest):
		return p.r.errorf(ErrBadImage, op, "the provider could not use the image (HTTP %d)", rep.status)
	}
	if detail == "" {
		detail = string(rep.body)
	}
	return p.r.statusError(op, rep.status, detail)
}
