package providertest

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// HTTPServer stands in for a provider speaking Rollcall's own http
// protocol (docs/providers.md), as `rollcall provider` and custom
// providers do. It sends the best enrolled subject and its similarity for
// every face and leaves thresholds to the client.
type HTTPServer struct {
	*Server
	apiKey string

	mu       sync.Mutex
	subjects map[string]map[string]feature // subject → image ID → face
}

// NewHTTP starts an http-protocol stand-in that requires
// "Authorization: Bearer <apiKey>" (nothing if apiKey is "").
func NewHTTP(t testing.TB, apiKey string) *HTTPServer {
	t.Helper()
	h := &HTTPServer{apiKey: apiKey, subjects: map[string]map[string]feature{}}
	mux := http.NewServeMux()
	h.Server = newServer(t, mux, func(w http.ResponseWriter) {
		httpError(w, http.StatusInternalServerError, "internal", "injected failure")
	})
	mux.HandleFunc("POST /v1/recognize", h.handle(EndpointRecognize, h.auth(h.recognize)))
	mux.HandleFunc("PUT /v1/subjects/{subject}/images/{imageId}", h.handle(EndpointEnroll, h.auth(h.enroll)))
	mux.HandleFunc("DELETE /v1/subjects/{subject}/images/{imageId}", h.handle(EndpointDeleteImage, h.auth(h.deleteImage)))
	mux.HandleFunc("DELETE /v1/subjects/{subject}", h.handle(EndpointDeleteSubject, h.auth(h.deleteSubject)))
	mux.HandleFunc("GET /v1/health", h.handle(EndpointHealth, h.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	return h
}

// Subjects returns each subject's enrolled image IDs, sorted.
func (h *HTTPServer) Subjects() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string][]string{}
	for s, imgs := range h.subjects {
		out[s] = slices.Sorted(maps.Keys(imgs))
	}
	return out
}

func httpError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func (h *HTTPServer) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+h.apiKey {
			httpError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
		next(w, r)
	}
}

func (h *HTTPServer) faces(w http.ResponseWriter, r *http.Request) ([]seenFace, bool) {
	data, _ := io.ReadAll(io.LimitReader(r.Body, maxUpload))
	faces, ok := analyze(data)
	if !ok {
		httpError(w, http.StatusBadRequest, "bad_image", "not a JPEG or PNG image")
	}
	return faces, ok
}

func (h *HTTPServer) recognize(w http.ResponseWriter, r *http.Request) {
	faces, ok := h.faces(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]map[string]any, 0, len(faces))
	for _, f := range faces {
		var subject *string
		best := 0.0
		for _, s := range slices.Sorted(maps.Keys(h.subjects)) {
			for _, feat := range h.subjects[s] {
				if sim := similarity(f.feature, feat); subject == nil || sim > best {
					best, subject = sim, &s
				}
			}
		}
		out = append(out, map[string]any{
			"box":        map[string]int{"x": f.box.Min.X, "y": f.box.Min.Y, "width": f.box.Dx(), "height": f.box.Dy()},
			"confidence": f.probability, "subject": subject, "similarity": best,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"faces": out})
}

func (h *HTTPServer) enroll(w http.ResponseWriter, r *http.Request) {
	subject, id := r.PathValue("subject"), r.PathValue("imageId")
	faces, ok := h.faces(w, r)
	if !ok {
		return
	}
	if len(faces) != 1 {
		httpError(w, http.StatusBadRequest, "bad_image", "an enrollment image must show exactly one face")
		return
	}
	h.mu.Lock()
	if h.subjects[subject] == nil {
		h.subjects[subject] = map[string]feature{}
	}
	h.subjects[subject][id] = faces[0].feature
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"imageId": id})
}

func (h *HTTPServer) deleteImage(w http.ResponseWriter, r *http.Request) {
	subject, id := r.PathValue("subject"), r.PathValue("imageId")
	h.mu.Lock()
	_, ok := h.subjects[subject][id]
	delete(h.subjects[subject], id)
	if len(h.subjects[subject]) == 0 {
		delete(h.subjects, subject)
	}
	h.mu.Unlock()
	if !ok {
		httpError(w, http.StatusNotFound, "not_found", "no such image")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *HTTPServer) deleteSubject(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	h.mu.Lock()
	_, ok := h.subjects[subject]
	delete(h.subjects, subject)
	h.mu.Unlock()
	if !ok {
		httpError(w, http.StatusNotFound, "not_found", "no such subject")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
