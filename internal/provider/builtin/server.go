package builtin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/rollcall/rollcall/internal/provider"
)

// MaxBodyBytes bounds a request body (one image): 10 MiB.
const MaxBodyBytes = 10 << 20

// NewServer serves e over Rollcall's http provider protocol:
//
//	POST   /v1/recognize                            image body → {"faces":[{"box":{…},"confidence","subject"|null,"similarity"}]}
//	PUT    /v1/subjects/{subject}/images/{imageId}  image body → 200 {"imageId"}, idempotent
//	DELETE /v1/subjects/{subject}/images/{imageId}  → 204, also when missing
//	DELETE /v1/subjects/{subject}                   → 204, also when missing
//	GET    /v1/health                               → 200 {"status":"ok"}
//
// A recognize request may name its frame's source (a camera ID) in the
// provider.SourceHeader header, for the recognizer's face tracking; a value
// that is not provider.ValidSource is ignored (treated as no source).
//
// When apiKey is not empty every request needs "Authorization: Bearer
// apiKey". Errors are {"code","message"}: bad_image (400, or 413 for a body
// over MaxBodyBytes), unauthorized (401), not_found (404), internal (500,
// details logged, not sent).
func NewServer(e *Engine, apiKey string, log *slog.Logger) http.Handler {
	s := &server{e: e, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/recognize", s.recognize)
	mux.HandleFunc("PUT /v1/subjects/{subject}/images/{imageId}", s.enroll)
	mux.HandleFunc("DELETE /v1/subjects/{subject}/images/{imageId}", s.deleteImage)
	mux.HandleFunc("DELETE /v1/subjects/{subject}", s.deleteSubject)
	mux.HandleFunc("GET /v1/health", s.health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	if apiKey == "" {
		return mux
	}
	want := []byte("Bearer " + apiKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong API key")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type server struct {
	e   *Engine
	log *slog.Logger
}

// wireFace is one face in a recognize response.
type wireFace struct {
	Box        provider.Box `json:"box"`
	Confidence float64      `json:"confidence"`
	Subject    *string      `json:"subject"`
	Similarity float64      `json:"similarity"`
}

func (s *server) recognize(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	// WithSource drops an invalid value; it is never logged.
	res, err := s.e.Recognize(provider.WithSource(r.Context(), r.Header.Get(provider.SourceHeader)), body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	faces := make([]wireFace, len(res.Faces))
	for i, f := range res.Faces {
		faces[i] = wireFace{Box: f.Box, Confidence: f.DetectionConfidence, Similarity: f.Similarity}
		if f.Subject != "" {
			faces[i].Subject = &f.Subject
		}
	}
	writeJSON(w, http.StatusOK, map[string][]wireFace{"faces": faces})
}

func (s *server) enroll(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ids, err := s.e.Enroll(r.Context(), r.PathValue("subject"), []provider.Image{{ID: r.PathValue("imageId"), Data: body}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"imageId": ids[0]})
}

func (s *server) deleteImage(w http.ResponseWriter, r *http.Request) {
	if err := s.e.DeleteImage(r.Context(), r.PathValue("subject"), r.PathValue("imageId")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) deleteSubject(w http.ResponseWriter, r *http.Request) {
	if err := s.e.DeleteSubject(r.Context(), r.PathValue("subject")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if err := s.e.Health(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readBody reads the request's image, answering 413 past MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "bad_image", "image is larger than 10 MiB")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "bad_image", "image is larger than 10 MiB")
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_image", "could not read the request body")
		return nil, false
	case len(body) == 0:
		writeError(w, http.StatusBadRequest, "bad_image", "the request body must be the image")
		return nil, false
	}
	return body, true
}

// fail answers err: bad images with their message, anything else as an
// internal error, logged.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, provider.ErrBadImage) {
		writeError(w, http.StatusBadRequest, "bad_image", err.Error())
		return
	}
	s.log.Error("provider request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up
}
